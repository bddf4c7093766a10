"""``propose_edit {path, new_text | edits}``: a change the user sees as a diff and applies
(or not). The model never applies it: the front end does, on the user's word, and only
when the file is still the one the diff was made from (the editor's document version,
else the file's hash on disk)."""

from __future__ import annotations

import difflib
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult, clip
from codeloop.tools.paths import read_text, workspace_file

STALE = "the file changed since the proposal was made; nothing applied (ask again)"


@dataclass
class Proposal:
    id: str
    path: str  # absolute
    rel: str  # relative to the workspace root
    before: str  # the text the change was made against
    after: str
    version: int | None  # the editor's document version it was made against (None: the disk)
    fingerprint: str | None  # sha256 of the file on disk then (None: the file did not exist)
    diff: str
    # reward-log rows of implement candidates this change brings in (codeloop.tools.reward):
    # marked accepted when it is applied, not accepted when it is discarded
    log_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "rel": self.rel, "version": self.version, "diff": self.diff,
                "newText": self.after, "created": self.fingerprint is None and not self.before}


def disk_fingerprint(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def unified_diff(rel: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"a/{rel}", f"b/{rel}"))


def apply_on_disk(proposal: Proposal) -> tuple[bool, str | None]:
    """Write ``proposal`` (atomically) if the file on disk is still the one it was made
    against; (applied, why not)."""
    from codeloop.fileio import atomic_writer

    path = Path(proposal.path)

    def unchanged() -> None:
        if disk_fingerprint(path) != proposal.fingerprint:
            raise ToolError(STALE)

    try:
        unchanged()
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(path, before_replace=unchanged) as fh:
            fh.write(proposal.after)
    except ToolError as exc:
        return False, str(exc)
    except OSError as exc:
        return False, f"cannot write {proposal.rel}: {exc.strerror or exc}"
    return True, None


def _apply_edits(text: str, edits: list[Any]) -> str:
    for number, edit in enumerate(edits, 1):
        if not isinstance(edit, dict) or not isinstance(edit.get("old_text"), str) \
                or not isinstance(edit.get("new_text"), str):
            raise ToolError(f"propose_edit: edit {number} must be an object with string old_text and new_text")
        old, new = edit["old_text"], edit["new_text"]
        if not old:
            raise ToolError(f"propose_edit: edit {number}: old_text is empty (use new_text for the whole file)")
        count = text.count(old)
        if count != 1:
            where = "does not occur" if count == 0 else f"occurs {count} times"
            raise ToolError(f"propose_edit: edit {number}: old_text {where} in the file; quote it exactly "
                            "(read_file shows the text) with enough lines to be unique")
        text = text.replace(old, new, 1)
    return text


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    if ("new_text" in args) == ("edits" in args):
        raise ToolError("propose_edit: give either new_text (the whole file) or edits ([{old_text, new_text}])")
    where = workspace_file(context, args["path"], "propose_edit", must_exist=False)
    opened = context.open_document(where.path) if context.open_document is not None else None
    exists = where.path.exists()
    if opened is not None:
        before, version = opened
    else:
        before, version = (read_text(where, "propose_edit") if exists else ""), None
    if "edits" in args:
        if not exists and opened is None:
            raise ToolError(f"propose_edit: {where.rel} does not exist; give new_text to create it")
        after = _apply_edits(before, args["edits"])
    else:
        after = args["new_text"]
    if after == before:
        raise ToolError(f"propose_edit: the change leaves {where.rel} as it is")
    diff = unified_diff(where.rel, before, after)
    proposal = Proposal(uuid.uuid4().hex[:12], str(where.path), where.rel, before, after, version,
                        disk_fingerprint(where.path), diff)
    added = sum(1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    text = (f"proposed {'a new file' if not exists else 'a change to'} {where.rel} (+{added} -{removed} lines), "
            f"shown to the user as a diff; it is applied only if the user applies it (proposal {proposal.id})\n"
            + clip(diff, 4000))
    return ToolResult(text, proposal)


TOOL = Tool(
    name="propose_edit",
    description="Propose a change to a file; the user sees the diff and decides whether to apply it.",
    parameters={"type": "object", "required": ["path"], "properties": {
        "path": {"type": "string", "description": "relative to the workspace root"},
        "new_text": {"type": "string", "description": "the file's whole new text"},
        "edits": {"type": "array", "description": "replacements, each old_text occurring exactly once",
                  "items": {"type": "object", "required": ["old_text", "new_text"], "properties": {
                      "old_text": {"type": "string"}, "new_text": {"type": "string"}}}},
    }},
    run=run,
    read_only=False,
    proposes=True,
)
