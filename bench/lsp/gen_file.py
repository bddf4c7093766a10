"""Generate a realistic ~10,000-line Python module for the LSP benchmark.

Deterministic (seeded): functions with docstrings and bodies, stubs to implement,
comment blocks describing code, classes with methods, TODOs, a few non-ASCII names.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

LINES = 10_000


def _function(rng: random.Random, i: int) -> list[str]:
    name = f"compute_{i}"
    kind = rng.random()
    if kind < 0.15:  # a stub
        return [
            f"def {name}(values: list[int], factor: float = 1.0) -> float:",
            f'    """Scale and sum the values (case {i}).',
            "",
            f"    >>> {name}([1, 2], 2.0)",
            "    6.0",
            '    """',
            "    ...",
            "",
            "",
        ]
    if kind < 0.25:  # a comment describing code to write
        return [
            f"# Return the {i}-th triangular number.",
            f"# triangle_{i}(3) == 6",
            "",
            "",
        ]
    body = [
        f"def {name}(values, factor=1.0):",
        f'    """Process values, variant {i}."""',
        "    total = 0",
        "    for index, value in enumerate(values):",
        "        if value % 2 == 0:",
        "            total += value * factor",
        "        else:",
        "            total -= index",
    ]
    if rng.random() < 0.2:
        body.append("    # TODO: handle negative factors")
    body += ["    return total", "", ""]
    return body


def _class(rng: random.Random, i: int) -> list[str]:
    lines = [f"class Model{i}:", f'    """A model, number {i}."""', ""]
    for m in range(rng.randint(2, 5)):
        if rng.random() < 0.2:
            lines += [f"    def method_{m}(self, x):", "        raise NotImplementedError", ""]
        else:
            lines += [
                f"    def method_{m}(self, x):",
                "        result = [x * k for k in range(10)]",
                "        return sum(result) + len(str(x))",
                "",
            ]
    return lines + [""]


def generate(lines: int = LINES, seed: int = 1) -> str:
    rng = random.Random(seed)
    out = ['"""Generated module for the codeloop LSP benchmark."""', "", "import math", "import os", "", ""]
    i = 0
    while True:
        block = _class(rng, i) if rng.random() < 0.15 else _function(rng, i)
        if i % 97 == 0:
            block += [f"def größe_{i}(wert):", "    return wert * 2", "", ""]
        if len(out) + len(block) > lines:
            break
        out += block
        i += 1
    # Pad with plain statements so the module is exactly `lines` long and valid.
    out += [f"CONSTANT_{n} = {n}" for n in range(lines - len(out))]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("big.py")
    target.write_text(generate(), encoding="utf-8")
    print(target)
