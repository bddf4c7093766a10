"""``.gitignore`` and ``.codeloopignore`` rules, as git reads them: each file applies to its
own folder and below, the last matching line wins, ``!`` re-includes, a trailing ``/``
matches folders only, and a pattern with a ``/`` before its end is anchored to the folder
of its file (otherwise it matches a name at any depth). A folder that is ignored is not
entered, so nothing under it can be re-included (git's rule too)."""

from __future__ import annotations

import re
from dataclasses import dataclass

IGNORE_FILES = (".gitignore", ".codeloopignore")


@dataclass(frozen=True)
class Rule:
    base: str  # the folder of the ignore file, relative to the root, "" or ending in "/"
    pattern: re.Pattern[str]
    negate: bool
    dir_only: bool


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1:end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_rules(text: str, base: str) -> list[Rule]:
    """The rules of one ignore file found in folder ``base`` (relative, "" for the root)."""
    prefix = base.rstrip("/") + "/" if base else ""
    rules: list[Rule] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if raw.endswith("\\ "):
            line += " "
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate or line.startswith("\\"):  # "\#" and "\!" stand for the character
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        regex = _glob_to_regex(line)
        if not anchored:
            regex = "(?:.*/)?" + regex
        rules.append(Rule(prefix, re.compile(regex + r"\Z"), negate, dir_only))
    return rules


def is_ignored(rules: list[Rule], rel: str, is_dir: bool) -> bool:
    """Is ``rel`` (relative to the root, "/"-separated) ignored by ``rules`` (outermost first)?"""
    ignored = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.base and not rel.startswith(rule.base):
            continue
        if rule.pattern.match(rel[len(rule.base):]):
            ignored = not rule.negate
    return ignored


__all__ = ["IGNORE_FILES", "Rule", "is_ignored", "parse_rules"]
