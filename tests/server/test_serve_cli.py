"""`codeloop serve` itself: TCP mode for debugging, bad flags, nothing but LSP on stdout."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(sock: socket.socket, deadline: float) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        assert time.monotonic() < deadline, "timed out reading headers"
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        assert time.monotonic() < deadline, "timed out reading body"
        rest += sock.recv(65536)
    return json.loads(rest[:length])


def test_tcp_mode_answers_initialize(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "codeloop", "serve", "--tcp", "--port", str(port), "--no-log-file"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not listen"
                time.sleep(0.2)
        with sock:
            sock.settimeout(60)
            sock.sendall(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                "params": {"capabilities": {}, "rootUri": tmp_path.as_uri()}}))
            while True:
                message = read_message(sock, deadline)
                if message.get("id") == 1:
                    break
            assert message["result"]["serverInfo"]["name"] == "codeloop"
            assert "codeloop.implement" in message["result"]["capabilities"]["executeCommandProvider"]["commands"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert out == b""  # logs never go to stdout


def test_bad_port_is_one_line_and_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "codeloop", "serve", "--tcp", "--port", "70000"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == ["codeloop: error: --port must be between 1 and 65535, got 70000"]


PRINTING_SERVER = """
import sys
import codeloop.lsp.configuration as configuration
original = configuration.settings_for_workspace
def noisy(*args, **kwargs):
    print("a library printing to stdout")
    return original(*args, **kwargs)
configuration.settings_for_workspace = noisy
from codeloop.cli import main
sys.exit(main(["serve", "--no-log-file"]))
"""


async def test_print_to_stdout_does_not_corrupt_the_channel(workspace, capfd):
    from pytest_lsp import ClientServerConfig

    from support.lsp_client import SERVER_ENV, install_raw_spy, make_initialize_params, open_document, titles

    client = await ClientServerConfig(
        server_command=[sys.executable, "-c", PRINTING_SERVER], server_env=SERVER_ENV
    ).start()
    install_raw_spy(client)
    try:
        result = await client.initialize_session(make_initialize_params(workspace))
        assert result.server_info.name == "codeloop"
        uri = open_document(client, workspace / "m.py", "def f():\n    ...\n")
        assert "Implement f" in await titles(client, uri, 0)
        await client.shutdown_session()
    finally:
        await client.stop()
    # The stray print went to stderr, not into the LSP stream.
    assert "a library printing to stdout" in capfd.readouterr().err


def parse_frames(data: bytes) -> list[dict]:
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
SHUTDOWN_EXIT = [{"jsonrpc": "2.0", "id": 2, "method": "shutdown"}, {"jsonrpc": "2.0", "method": "exit"}]


def test_a_pipe_with_an_overlong_header_line_keeps_serving(tmp_path):
    """stdin as a pipe is read on the event loop: a header line over the limit is dropped
    with one warning, and the messages after it are still answered."""
    data = b"X-Junk: " + b"x" * (1 << 21) + b"\r\n" + frame(INITIALIZE) + b"".join(frame(m) for m in SHUTDOWN_EXIT)
    proc = subprocess.run([sys.executable, "-m", "codeloop", "serve", "--no-log-file"], input=data,
                          capture_output=True, timeout=120)
    answers = {m.get("id"): m for m in parse_frames(proc.stdout) if "id" in m}
    assert answers[1]["result"]["serverInfo"]["name"] == "codeloop", proc.stderr.decode()[-2000:]
    assert answers[2]["result"] is None
    assert b"dropped a line longer than" in proc.stderr
    assert proc.returncode == 0


def test_a_file_as_stdin_is_served_by_the_plain_reader(tmp_path):
    script = tmp_path / "session.bin"
    script.write_bytes(frame(INITIALIZE) + b"".join(frame(m) for m in SHUTDOWN_EXIT))
    with script.open("rb") as stdin:
        proc = subprocess.run([sys.executable, "-m", "codeloop", "serve", "--no-log-file"], stdin=stdin,
                              capture_output=True, timeout=120)
    answers = {m.get("id"): m for m in parse_frames(proc.stdout) if "id" in m}
    assert answers[1]["result"]["serverInfo"]["name"] == "codeloop"
    assert proc.returncode == 0
