"""codeloop's own checks: calls the default policy forbids in generated code.

bandit finds most risky calls but grades many of them low or medium; these few
categories are what a generated function must not do unless the user allows it:

- ``shell``: ``os.system``, ``os.popen``, ``subprocess.*(..., shell=True)``;
- ``dynamic-code``: ``eval``/``exec``/``compile`` of anything but a literal;
- ``delete-files``: ``os.remove``/``unlink``/``rmdir``/``removedirs``,
  ``shutil.rmtree``, ``Path.unlink``/``rmdir``;
- ``network``: the ``socket`` module, ``urllib.request.urlopen``, ``http.client``
  connections, ``requests``/``httpx``/``aiohttp`` calls;
- ``secrets``: reading an environment variable whose name looks like a credential;
- ``fork``: ``os.fork``/``forkpty``, ``os.setsid``, ``os.kill``/``killpg`` (daemons and
  signals to other processes have no place in a generated function);
- ``processes`` (reported, allowed by default: the sandbox contains them):
  ``subprocess`` without a shell, ``multiprocessing``, ``os.exec*``/``os.spawn*``.

Names are resolved through the code's own imports (``from os import system as s``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection
from dataclasses import dataclass

from codeloop.audit.findings import Finding

CATEGORIES = ("shell", "dynamic-code", "delete-files", "network", "secrets", "fork", "processes")
DEFAULT_FORBIDDEN = frozenset({"shell", "dynamic-code", "delete-files", "network", "secrets", "fork"})

_SHELL_CALLS = {"os.system", "os.popen", "os.popen2", "os.popen3", "commands.getoutput", "subprocess.getoutput", "subprocess.getstatusoutput", "pty.spawn"}
_SUBPROCESS = {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen"}
_DYNAMIC = {"eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile"}
_DELETE = {"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.rmtree", "os.truncate"}
_DELETE_METHODS = {"unlink", "rmdir", "rmtree"}
_NETWORK_PREFIXES = ("socket.", "http.client.", "requests.", "httpx.", "aiohttp.", "urllib3.", "ftplib.", "smtplib.", "telnetlib.")
_NETWORK = {"urllib.request.urlopen", "urllib.request.urlretrieve", "asyncio.open_connection", "asyncio.start_server"}
_FORK = {"os.fork", "os.forkpty", "os.setsid", "os.setpgrp", "os.kill", "os.killpg", "os.daemon", "pty.fork"}
_PROCESSES = {"os.spawnl", "os.spawnlp", "os.spawnv", "os.spawnvp", "os.execv", "os.execvp", "os.execl", "os.execlp", "os.execve"} | _SUBPROCESS
_PROCESS_PREFIXES = ("multiprocessing.", "os.exec", "os.spawn")
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH)", re.IGNORECASE)


@dataclass(frozen=True)
class AuditPolicy:
    """What an audit rejects.

    ``forbidden``: categories (see :data:`CATEGORIES`) whose calls reject a
    candidate; the others are reported as notes. ``bandit``: run bandit;
    ``bandit_skip``: bandit test ids to ignore; ``reject_severity``: the bandit
    severity at and above which a finding rejects (``"high"``).
    """

    forbidden: frozenset[str] = DEFAULT_FORBIDDEN
    bandit: bool = True
    bandit_skip: frozenset[str] = frozenset({"B101"})
    reject_severity: str = "high"

    def allowing(self, *categories: str) -> AuditPolicy:
        return AuditPolicy(self.forbidden - set(categories), self.bandit, self.bandit_skip, self.reject_severity)


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name, from every import in the code."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _true_keyword(call: ast.Call, name: str) -> bool:
    for kw in call.keywords:
        if kw.arg == name:
            return not (isinstance(kw.value, ast.Constant) and not kw.value.value)
    return False


def _secret_env_name(call: ast.Call | ast.Subscript, dotted: str | None) -> str | None:
    node: ast.AST | None = None
    if isinstance(call, ast.Call) and dotted in ("os.getenv", "os.environ.get", "os.environ.pop", "os.environ.setdefault"):
        node = call.args[0] if call.args else None
    elif isinstance(call, ast.Subscript):
        node = call.slice
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SECRET_NAME.search(node.value):
        return node.value
    return None


def policy_findings(tree: ast.AST, forbidden: Collection[str] = DEFAULT_FORBIDDEN) -> list[Finding]:
    """Findings for risky calls in ``tree``; categories in ``forbidden`` block."""
    aliases = _aliases(tree)
    out: list[Finding] = []

    def add(category: str, line: int, message: str) -> None:
        blocking = category in forbidden
        out.append(Finding(f"policy:{category}", "high" if blocking else "low", line, message, blocking))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(m.split(".")[0] == "socket" for m in mods):
                add("network", node.lineno, "imports socket (network access)")
            continue
        if isinstance(node, ast.Subscript) and _dotted(node.value, aliases) == "os.environ":
            name = _secret_env_name(node, None)
            if name:
                add("secrets", node.lineno, f"reads the secret-looking environment variable {name}")
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func, aliases)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        line = node.lineno
        if name in _SHELL_CALLS:
            add("shell", line, f"runs a shell command ({name})")
        elif name in _SUBPROCESS and _true_keyword(node, "shell"):
            add("shell", line, f"runs a shell command ({name} with shell=True)")
        elif name in _DYNAMIC and not (node.args and _is_literal(node.args[0])):
            add("dynamic-code", line, f"{name.rsplit('.', 1)[-1]}() on a value that is not a literal")
        elif name in _DELETE or method in _DELETE_METHODS:
            add("delete-files", line, f"deletes files ({name or method})")
        elif name and (name in _NETWORK or name.startswith(_NETWORK_PREFIXES)):
            add("network", line, f"opens a network connection ({name})")
        elif name in _FORK:
            add("fork", line, f"forks or signals processes ({name})")
        elif name and (name in _PROCESSES or name.startswith(_PROCESS_PREFIXES)):
            add("processes", line, f"starts or signals processes ({name})")
        secret = _secret_env_name(node, name)
        if secret:
            add("secrets", line, f"reads the secret-looking environment variable {secret}")
    out.sort(key=lambda f: (f.line, f.check))
    return out
