"""What the whole search shares: the shipped helper modules and what main learns of the module.

The driver's main sets these in the sandbox; in-process (the host's tests build generators on
their own) they stay None and empty, and the phases that need them are skipped.
"""

from __future__ import annotations

shapes_mod = None  # the shipped shapes module (_codeloop_shapes.py)
objects_mod = None  # the shipped objects module (_codeloop_objects.py)
generators: dict = {}  # callable qualname -> its Generator (pre-calls, repairs of set-up calls)
open_shapes: list[str] = []  # the module's checked types (analysis "checked_types")
open_params: set = set()  # (callable, parameter) that got open values: one receiver per shape
combos: list = []  # the module's classes combined with each other and their options (shapes.combos)
module_words: list[str] = []  # lower-case identifiers among the code's string literals (keywords)
