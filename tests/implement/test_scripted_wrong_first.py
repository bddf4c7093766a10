"""The scripted wrong-first set (issue 12): twelve tasks whose first candidate is wrong.

Each task goes through the implement service with the fake model and the real sandbox.
No wrong answer may come out ``verified``; the three tasks where a wrong and a right
behaviour both pass everything the user wrote must come out ``ambiguous`` with the input
they disagree on; every ``verified`` answer passes the task's hidden checks. The tasks
use the example forms a user writes (``>>>``, truth statements, ``==``, ``->``, ``=>``,
"should return", ``Input:``/``Output:``, several on one line, a comment's ``Examples:``)
and model tests that are wrong, placeholders, or the only ones that reach an input
where the candidates differ."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from codeloop.config import GenerateSettings, ModelSettings, SandboxSettings, Settings
from codeloop.job import Job
from codeloop.services.implement import ImplementRequest, implement
from support.fake_openai import Reply


@dataclass(frozen=True)
class Task:
    name: str
    source: str  # the module as the user wrote it
    line: int  # 0-based line of the stub or the comment
    candidates: tuple[str, ...]  # the model's samples, first one wrong
    tests: str  # the model's answer to the tests request
    hidden: str  # asserts the written code must pass
    level: str  # what the service must say
    shown: str = ""  # ambiguous: the input the disagreement must show


def fenced(code: str) -> str:
    return f"```python\n{code}```"


TASKS = [
    Task("to_cents",
         '# Convert a price string to cents.\n# Examples: to_cents("1.50") == 150, to_cents("-2") == -200\n', 0,
         (fenced("def to_cents(s):\n    return int(s.replace('.', ''))\n"),
          fenced("def to_cents(s):\n    return round(float(s) * 100)\n")),
         fenced("from m import to_cents\n\ndef test_whole():\n    assert to_cents('3') == 300\n"),
         "assert to_cents('0.29') == 29 and to_cents('-2') == -200", "verified"),
    Task("clamp",
         'def clamp(x, low, high):\n    """Limit x to [low, high].\n\n    >>> clamp(15, 0, 10)\n    10\n'
         '    >>> clamp(-3, 0, 10)\n    0\n    """\n', 0,
         (fenced("def clamp(x, low, high):\n    return max(high, min(low, x))\n"),
          fenced("def clamp(x, low, high):\n    return max(low, min(high, x))\n")),
         fenced("from m import clamp\n\ndef test_inside():\n    assert clamp(5, 0, 10) == 6\n"),  # wrong
         "assert clamp(5, 0, 10) == 5 and clamp(11, 0, 10) == 10", "verified"),
    Task("split_words",
         'def split_words(s):\n    """The words of s.\n\n    split_words("a b") == ["a", "b"]\n    """\n', 0,
         (fenced("def split_words(s):\n    return s.split(' ')\n"),
          fenced("def split_words(s):\n    return s.split()\n")),
         fenced("from m import split_words\n\ndef test_one():\n    assert split_words('x') == ['x']\n"),
         "assert split_words('a b') == ['a', 'b']", "ambiguous", "split_words('')"),
    Task("count_vowels",
         'def count_vowels(word):\n    """How many vowels word has.\n\n    count_vowels("hello") -> 2\n    """\n', 0,
         (fenced("def count_vowels(word):\n    return sum(c in 'aeiou' for c in word)\n"),
          fenced("def count_vowels(word):\n    return sum(c in 'aeiouAEIOU' for c in word)\n")),
         fenced("from m import count_vowels\n\ndef test_none():\n    assert count_vowels('xyz') == 0\n"),
         "assert count_vowels('hello') == 2", "ambiguous", "count_vowels('HELLO')"),
    Task("last_n",
         'def last_n(xs, n):\n    """The last n items of xs.\n\n    Example: last_n([1, 2, 3], 2) => [2, 3]\n    """\n', 0,
         (fenced("def last_n(xs, n):\n    return xs[-n:]\n"),
          fenced("def last_n(xs, n):\n    return xs[len(xs) - n:]\n")),
         fenced("from m import last_n\n\ndef test_all():\n    assert last_n([1, 2], 2) == [1, 2]\n"),
         "assert last_n([1, 2, 3], 2) == [2, 3]", "ambiguous", "last_n([1, 2, 3], 0)"),
    Task("is_leap",  # the examples cannot split them; the model's input 1900 does, and three agree
         'def is_leap(year):\n    """Whether year is a leap year of the Gregorian calendar.\n\n'
         '    Input: 2000\n    Output: True\n    """\n', 0,
         (fenced("def is_leap(year):\n    return year % 4 == 0\n"),
          *[fenced("def is_leap(year):\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n")] * 3),
         fenced("from m import is_leap\n\ndef test_century():\n    assert is_leap(1900) is False\n\n"
                "def test_odd():\n    assert is_leap(2023) is True\n"),  # the second is wrong
         "assert is_leap(1900) is False and is_leap(2024) and not is_leap(2023)", "verified"),
    Task("square",  # the first passes the example; two right ones outvote it
         'def square(x):\n    """x squared.\n\n    square(3) => 9\n    """\n', 0,
         (fenced("def square(x):\n    return x * 3\n"), fenced("def square(x):\n    return x * x\n"),
          fenced("def square(x):\n    return x ** 2\n")),
         fenced("from m import square\n\ndef test_two():\n    assert square(2) == 5\n\n"  # wrong for all: dropped
                "def test_zero():\n    assert square(0) == 0\n"),
         "assert square(4) == 16 and square(-2) == 4", "verified"),
    Task("abs_diff",
         'def abs_diff(a, b):\n    """The distance between a and b.\n\n    abs_diff(5, 2) should return 3\n    """\n', 0,
         (fenced("def abs_diff(a, b):\n    return a - b\n"), fenced("def abs_diff(a, b):\n    return abs(a - b)\n"),
          fenced("def abs_diff(a, b):\n    return max(a, b) - min(a, b)\n")),
         fenced("from m import abs_diff\n\ndef test_placeholder():\n    assert abs_diff(____) == 3\n"),
         "assert abs_diff(2, 5) == 3 and abs_diff(-1, 1) == 2", "verified"),
    Task("digits",  # a right candidate answers None outside the documented domain
         'def digits(n: int) -> int:\n    """Number of decimal digits of n. n must be non-negative.\n\n'
         '    >>> digits(123)\n    3\n    """\n', 0,
         (fenced("def digits(n: int) -> int:\n    return len(str(n)) - 1\n"),
          fenced("def digits(n: int) -> int:\n    if n < 0:\n        return None\n    return len(str(n))\n")),
         fenced("from m import digits\n\ndef test_zero():\n    assert digits(0) == 1\n"),
         "assert digits(7) == 1 and digits(1000) == 4", "verified"),
    Task("is_palindrome",
         'def is_palindrome(s):\n    """Whether s reads the same backwards.\n\n'
         "    >>> is_palindrome('abba') == True\n    >>> is_palindrome('abc') == False\n    \"\"\"\n", 0,
         (fenced("def is_palindrome(s):\n    return s == s[::-1].upper()\n"),
          fenced("def is_palindrome(s):\n    return s == s[::-1]\n")),
         fenced("from m import is_palindrome\n\ndef test_empty():\n    assert is_palindrome('') is True\n"),
         "assert is_palindrome('aba') and not is_palindrome('ab')", "verified"),
    Task("add",
         'def add(a, b):\n    """The sum of a and b.\n\n    Example: add(1, 2) == 3, add(-1, 1) == 0\n    """\n', 0,
         (fenced("def add(a, b):\n    return abs(a) + b\n"), fenced("def add(a, b):\n    return a + b\n")),
         fenced("from m import add\n\ndef test_neg():\n    assert add(-2, -2) == -4\n"),
         "assert add(-5, 2) == -3", "verified"),
    Task("mean",  # integer division passes the example; the variant [1, 2] tells them apart
         'def mean(xs):\n    """The arithmetic mean of xs.\n\n    mean([1, 2, 3]) -> 2.0  # the middle\n    """\n', 0,
         (fenced("def mean(xs):\n    return sum(xs) // len(xs)\n"),
          fenced("def mean(xs):\n    return sum(xs) / len(xs)\n"),
          fenced("def mean(xs):\n    return sum(xs) / float(len(xs))\n")),
         fenced("from m import mean\n\ndef test_one():\n    assert mean([4]) == 4.0\n"),
         "assert mean([1, 2]) == 1.5", "verified"),
]


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted-0123456789abcdef")


def test_the_set_has_twelve_tasks_three_of_them_ambiguous():
    assert len(TASKS) == 12 and len({t.name for t in TASKS}) == 12
    assert sum(t.level == "ambiguous" for t in TASKS) == 3


@pytest.mark.usefixtures("bwrap_sandbox")
@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_no_wrong_answer_is_called_verified(task, fake_openai, make_project):
    project = make_project("proj", {"pyproject.toml": "[project]\nname = 'm'\n", "m.py": task.source})
    # The samples, the model's tests, and the same samples again if more are asked for.
    fake_openai.add_chat(Reply.text(*task.candidates), task.tests, Reply.text(*task.candidates))
    settings = Settings(model=ModelSettings(base_url=fake_openai.base_url, name="fake-model",
                                            candidates=len(task.candidates), timeout=10.0, max_retries=0),
                        generate=GenerateSettings(repair_rounds=0, extra_samples=len(task.candidates)),
                        sandbox=SandboxSettings(allow_levels=("A", "B")))
    path = project / "m.py"
    request = ImplementRequest(path=str(path), document_text=task.source, workspace=str(project),
                               settings=settings, line=task.line, learn=False)
    outcome = implement(request, Job())
    try:
        assert outcome.error is None, outcome.error
        assert outcome.level == task.level, (outcome.title, outcome.disagreement_lines())
        if task.level == "verified":
            namespace: dict = {}
            exec(compile(outcome.new_text, "m.py", "exec"), namespace)  # our own scripted code
            exec(task.hidden, namespace)
        else:
            assert outcome.new_text is None or not outcome.verified
            shown = "\n".join(d.line() for d in outcome.disagreements)
            assert task.shown in shown, shown
    finally:
        outcome.close()
