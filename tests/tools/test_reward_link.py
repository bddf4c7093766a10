"""A proposal is linked to the implement candidates it brings into the file (issue 14:
reward-log rows for implements applied from chat)."""

from __future__ import annotations

from codeloop.tools.reward import rows_brought_in

BEFORE = '''"""Helpers."""

import math


class Shape:
    def area(self) -> float:
        ...


def mean(values):
    ...
'''

MEAN = "def mean(values):\n    return sum(values) / len(values)\n"
AREA = "import math\n\n\ndef area(self) -> float:\n    return math.pi * self.r ** 2\n"


def test_a_function_brought_in_is_linked_to_its_row() -> None:
    after = BEFORE.replace("def mean(values):\n    ...\n", MEAN)
    assert rows_brought_in([{"log_id": 7, "function": MEAN}], BEFORE, after) == [7]


def test_a_method_is_found_indented_and_its_import_elsewhere() -> None:
    after = BEFORE.replace("    def area(self) -> float:\n        ...\n",
                           "    def area(self) -> float:\n\n        return math.pi * self.r ** 2\n")
    assert rows_brought_in([{"log_id": 3, "function": AREA}], BEFORE, after) == [3]


def test_a_helper_must_come_too() -> None:
    code = "def _total(values):\n    return sum(values)\n\n\ndef mean(values):\n    return _total(values) / len(values)\n"
    only_mean = BEFORE.replace("def mean(values):\n    ...\n",
                               "def mean(values):\n    return _total(values) / len(values)\n")
    assert rows_brought_in([{"log_id": 1, "function": code}], BEFORE, only_mean) == []
    both = BEFORE.replace("def mean(values):\n    ...\n", code)
    assert rows_brought_in([{"log_id": 1, "function": code}], BEFORE, both) == [1]


def test_other_code_or_code_already_there_is_not_linked() -> None:
    other = BEFORE.replace("def mean(values):\n    ...\n", "def mean(values):\n    return statistics.mean(values)\n")
    assert rows_brought_in([{"log_id": 7, "function": MEAN}], BEFORE, other) == []
    there = BEFORE.replace("def mean(values):\n    ...\n", MEAN)
    assert rows_brought_in([{"log_id": 7, "function": MEAN}], there, there + "\n# a comment\n") == []


def test_one_row_per_code_the_best_first_and_unlogged_rows_skipped() -> None:
    after = BEFORE.replace("def mean(values):\n    ...\n", MEAN)
    rows = [{"log_id": 0, "function": MEAN}, {"log_id": 4, "function": MEAN}, {"log_id": 5, "function": MEAN},
            {"log_id": 6, "function": ""}]
    assert rows_brought_in(rows, BEFORE, after) == [4]
