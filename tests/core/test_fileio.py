"""atomic_write: the old content survives every failure, no temporary file is left, the mode is kept."""

from __future__ import annotations

import os
import stat

import pytest

from codeloop.fileio import atomic_write, atomic_writer


def listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


def test_replaces_the_content_exactly(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("old\n")
    atomic_write(path, "new\r\nline without newline translation")
    assert path.read_bytes() == b"new\r\nline without newline translation"
    assert listing(tmp_path) == ["a.py"]


def test_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "run.sh"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o750)
    atomic_write(path, "#!/bin/sh\necho hi\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_new_file_gets_the_umask_mode_not_the_private_temp_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "new.txt", "x")
        with open(tmp_path / "plain.txt", "w") as fh:  # what an ordinary write would give
            fh.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.txt").read_text() == "x"
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o666 & ~umask


def test_a_failing_encode_leaves_the_old_content_and_no_temp(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(path, "caf\u00e9 \udc80", encoding="ascii")
    assert path.read_text() == "old\n"
    assert listing(tmp_path) == ["a.py"]


def test_an_error_while_streaming_leaves_the_old_content(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("{}\n")
    with pytest.raises(RuntimeError), atomic_writer(path) as fh:
        fh.write("half a line")
        raise RuntimeError("the producer failed")
    assert path.read_text() == "{}\n"
    assert listing(tmp_path) == ["out.jsonl"]


def test_before_replace_can_refuse(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("old\n")

    def changed() -> None:
        raise ValueError("the file changed meanwhile")

    with pytest.raises(ValueError, match="changed meanwhile"):
        atomic_write(path, "new\n", before_replace=changed)
    assert path.read_text() == "old\n"
    assert listing(tmp_path) == ["a.py"]


def test_a_failing_rename_leaves_no_temp(tmp_path):
    target = tmp_path / "a_directory"
    (target / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        atomic_write(target, "text")  # a non-empty directory cannot be replaced by a file, not even by root
    assert target.is_dir() and listing(target) == ["inside"]
    assert listing(tmp_path) == ["a_directory"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_a_read_only_directory_leaves_the_old_content(tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "a.py"
    path.write_text("old\n")
    directory.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            atomic_write(path, "new\n")
        assert path.read_text() == "old\n"
        assert listing(directory) == ["a.py"]
    finally:
        directory.chmod(0o755)
