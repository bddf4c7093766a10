"""A small project for the agent tools and the chat agent, with secrets lying around
(``.env``, a key, a ``.codeloopignore``d folder): ``calc_project(root)`` writes it."""

from __future__ import annotations

from pathlib import Path

SECRET = "sk-live-0123456789abcdefSECRETVALUE"

FILES = {
    "pyproject.toml": "[project]\nname = 'calc'\n",
    "calc/__init__.py": '"""A tiny calculator package."""\n',
    "calc/ops.py": (
        '"""Arithmetic helpers."""\n\n\n'
        "def add(a: int, b: int) -> int:\n"
        '    """Add two numbers.\n\n    >>> add(2, 3)\n    5\n    """\n'
        "    return a + b\n\n\n"
        "def mean(values: list[float]) -> float:\n"
        '    """The arithmetic mean of ``values``.\n\n    >>> mean([1.0, 2.0, 3.0])\n    2.0\n    """\n'
        "    ...\n\n\n"
        "class Register:\n"
        '    """Keeps a running total."""\n\n'
        "    def push(self, value: int) -> int:\n"
        '        """Add ``value`` to the total and return it."""\n'
        "        self.total = getattr(self, 'total', 0) + value\n"
        "        return self.total\n"
    ),
    "tests/test_ops.py": (
        "from calc.ops import add\n\n\n"
        "def test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_add_wrong():\n    assert add(2, 2) == 5\n"
    ),
    ".env": f"OPENAI_API_KEY={SECRET}\nDATABASE_PASSWORD=hunter2hunter2\n",
    "deploy/server.pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
    "keys/id_ed25519": "not a real key\n",
    ".codeloopignore": "private/\n",
    "private/notes.py": f"TOKEN = '{SECRET}'\n",
}



def calc_project(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
