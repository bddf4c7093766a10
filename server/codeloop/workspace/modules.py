"""The dotted module name of a source file: which folder goes on ``sys.path`` and what
to import. One rule for everything that imports a workspace file in the sandbox (the
implement pipeline, the inline completion check, test generation targets)."""

from __future__ import annotations

from pathlib import Path


class ModuleNameError(ValueError):
    """The file has no module name (an ``__init__.py`` outside any package)."""


def module_for(path: Path, root: Path, *, climb_from_outside: bool = False) -> tuple[Path, str]:
    """(import root, dotted module) of ``path``: walk up through packages (folders with an
    ``__init__.py``), never past ``root``'s parent.

    The walk stops on reaching ``root.parent``; a file directly in ``root.parent`` thus
    stays a top-level module, unless ``climb_from_outside`` (test generation's rule for a
    file next to its ``--project``): then only a folder reached by climbing stops it."""
    parts = [] if path.name == "__init__.py" else [path.stem]
    limit = root.parent
    folder = path.parent
    climbed = False
    while (folder / "__init__.py").exists() and folder != folder.parent:
        if folder == limit and (climbed or not climb_from_outside):
            break
        parts.insert(0, folder.name)
        folder = folder.parent
        climbed = True
    if not parts:
        raise ModuleNameError(f"cannot tell the module name of {path}")
    return folder, ".".join(parts)


__all__ = ["ModuleNameError", "module_for"]
