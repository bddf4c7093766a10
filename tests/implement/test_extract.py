"""Extraction of one function from realistic, messy model answers."""

from __future__ import annotations

import ast
import textwrap

import pytest

from codeloop.generate.extract import extract_function, find_code_blocks, indent_block, is_stub_body

STUB = '''\
def area(w: float, h: float = 1.0) -> float:
    """Area of a rectangle.

    >>> area(2, 3)
    6
    """
    ...
'''


def run(function: str, call: str):
    ns: dict = {}
    exec(compile(function, "<candidate>", "exec"), ns)  # noqa: S102 - test of pure text transforms
    return eval(call, ns)  # noqa: S307


def test_fenced_block_with_prose_around():
    answer = textwrap.dedent('''\
        Sure! Here is an implementation:

        ```python
        def area(w: float, h: float = 1.0) -> float:
            return w * h
        ```

        This multiplies the width by the height.
        ''')
    ex = extract_function(answer, "area", STUB)
    assert ex.ok, ex.reason
    assert ex.function.startswith("def area(w: float, h: float = 1.0) -> float:\n")
    assert '"""Area of a rectangle.' in ex.function  # the original docstring is kept
    assert run(ex.function, "area(2, 3)") == 6


def test_unfenced_whole_function_after_a_sentence():
    answer = "Here you go:\n\ndef area(w: float, h: float = 1.0) -> float:\n    return w * h\n\nHope this helps!"
    ex = extract_function(answer, "area", STUB)
    assert ex.ok, ex.reason
    assert run(ex.function, "area(4, 2)") == 8


def test_answer_that_is_only_code():
    ex = extract_function("def area(w: float, h: float = 1.0) -> float:\n    return w * h\n", "area", STUB)
    assert ex.ok and run(ex.function, "area(1.5)") == 1.5


def test_only_the_body_fenced():
    ex = extract_function("```python\nresult = w * h\nreturn result\n```", "area", STUB)
    assert ex.ok, ex.reason
    assert "the answer was only the body" in ex.notes
    assert run(ex.function, "area(3, 3)") == 9


def test_only_the_body_indented_without_fence():
    ex = extract_function("    return w * h\n", "area", STUB)
    assert ex.ok, ex.reason
    assert run(ex.function, "area(2, 5)") == 10


def test_several_blocks_picks_the_one_defining_the_target():
    answer = textwrap.dedent('''\
        First a helper import:

        ```python
        import math
        ```

        Then the function:

        ```python
        def area(w: float, h: float = 1.0) -> float:
            return math.prod([w, h])
        ```

        Usage:

        ```python
        print(area(2, 3))  # 6
        ```
        ''')
    ex = extract_function(answer, "area", STUB)
    assert ex.ok, ex.reason
    assert ex.imports == ("import math",)
    assert "math.prod" in ex.function
    assert run(ex.code, "area(2, 3)") == 6


def test_correction_in_a_later_block_wins():
    answer = textwrap.dedent('''\
        ```python
        def area(w: float, h: float = 1.0) -> float:
            return w + h
        ```
        Oops, that adds. The corrected version:
        ```python
        def area(w: float, h: float = 1.0) -> float:
            return w * h
        ```
        ''')
    ex = extract_function(answer, "area", STUB)
    assert ex.ok and run(ex.function, "area(2, 3)") == 6


@pytest.mark.parametrize("answer", [
    # Non-Python fences are ignored.
    "```bash\npip install nothing\n```\n```\ndef area(w: float, h: float = 1.0) -> float:\n    return w * h\n```",
    # A truncated last fence still counts.
    "```python\ndef area(w: float, h: float = 1.0) -> float:\n    return w * h\n",
    # Tildes, and a fence indented in a list.
    "1. Do this:\n\n   ~~~py\n   def area(w: float, h: float = 1.0) -> float:\n       return w * h\n   ~~~\n",
    # CRLF and tabs.
    "```python\r\ndef area(w: float, h: float = 1.0) -> float:\r\n\treturn w * h\r\n```\r\n",
], ids=["other-fences", "truncated", "tildes-indented", "crlf-tabs"])
def test_fence_variants(answer):
    ex = extract_function(answer, "area", STUB)
    assert ex.ok, ex.reason
    assert run(ex.function, "area(2, 3)") == 6


def test_model_docstring_replaced_by_the_original():
    answer = 'def area(w: float, h: float = 1.0) -> float:\n    """Compute it."""\n    return w * h\n'
    ex = extract_function(answer, "area", STUB)
    assert ex.ok
    tree = ast.parse(ex.function)
    assert ast.get_docstring(tree.body[0]).startswith("Area of a rectangle.")
    assert "Compute it" not in ex.function
    assert "kept the original docstring" in ex.notes


def test_added_docstring_allowed_when_the_stub_had_none():
    stub = "def double(x: int) -> int:\n    ...\n"
    answer = 'def double(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n'
    ex = extract_function(answer, "double", stub)
    assert ex.ok
    assert '"""Twice x."""' in ex.function


@pytest.mark.parametrize(
    "header, why",
    [
        ("def area(w, h=1.0):", "annotations"),
        ("def area(w: float, h: float = 2.0) -> float:", "default"),
        ("def area(w: float, h: float = 1.0, *, d: int = 0) -> float:", "extra parameter"),
        ("def area(width: float, h: float = 1.0) -> float:", "renamed parameter"),
        ("def area(w: float, h: float = 1.0) -> int:", "return annotation"),
        ("async def area(w: float, h: float = 1.0) -> float:", "async"),
    ],
)
def test_signature_changes_are_rejected(header, why):
    ex = extract_function(f"```python\n{header}\n    return w * h\n```", "area", STUB)
    assert not ex.ok, why
    assert ex.reason.startswith("changes the signature of area")


def test_renamed_function_is_rejected():
    ex = extract_function("def compute_area(w, h):\n    return w * h\n", "area", STUB)
    assert not ex.ok
    assert ex.reason == "does not define area (defines compute_area)"


def test_does_not_parse():
    ex = extract_function("```python\ndef area(w: float, h: float = 1.0) -> float:\n    return w *\n```", "area", STUB)
    assert not ex.ok
    assert ex.reason.startswith("the code does not parse")


def test_prose_only_answer():
    ex = extract_function("I'm sorry, I cannot help with that.", "area", STUB)
    assert not ex.ok
    assert ex.reason in ("the answer contains no code", "defines nothing: no function area in the answer")


def test_empty_answer():
    assert extract_function("", "area", STUB).reason == "the answer contains no code"


@pytest.mark.parametrize("body", ["...", "pass", "raise NotImplementedError", "raise NotImplementedError('todo')"])
def test_stub_bodies_define_nothing(body):
    ex = extract_function(f"def area(w: float, h: float = 1.0) -> float:\n    {body}\n", "area", STUB)
    assert not ex.ok
    assert "still a stub" in ex.reason


def test_decorators_are_restored_and_kept():
    stub = "@functools.cache\n@staticmethod\ndef f(n: int) -> int:\n    ...\n"
    ex = extract_function("def f(n: int) -> int:\n    return n + 1\n", "f", stub)
    assert ex.ok
    assert ex.function.startswith("@functools.cache\n@staticmethod\ndef f(n: int) -> int:\n")
    assert "kept the original decorators" in ex.notes


def test_multiline_signature_kept_verbatim():
    stub = "def join(\n    parts: list[str],\n    sep: str = ', ',  # the separator\n) -> str:\n    ...\n"
    answer = "def join(parts: list[str], sep: str = ', ') -> str:\n    return sep.join(parts)\n"
    ex = extract_function(answer, "join", stub)
    assert ex.ok, ex.reason
    assert ex.function.startswith(stub.split("    ...")[0].rstrip("\n"))
    assert run(ex.function, "join(['a', 'b'])") == "a, b"


def test_method_with_indented_stub_and_whole_class_answer():
    stub = "    def total(self, extra: int = 0) -> int:\n        \"\"\"Sum of items.\"\"\"\n        ...\n"
    answer = textwrap.dedent('''\
        ```python
        class Cart:
            def __init__(self):
                self.items = []

            def total(self, extra: int = 0) -> int:
                return sum(self.items) + extra
        ```
        ''')
    ex = extract_function(answer, "total", stub, class_name="Cart", known_names={"Cart"})
    assert ex.ok, ex.reason
    assert ex.function.startswith("def total(self, extra: int = 0) -> int:\n    \"\"\"Sum of items.\"\"\"\n")
    assert ex.helpers == ""  # the class itself is not a helper
    method = indent_block(ex.function, "    ")
    ns: dict = {}
    exec("class Cart:\n    items = [1, 2]\n" + method, ns)  # noqa: S102
    assert ns["Cart"]().total(3) == 6


def test_method_answer_indented_as_in_the_class():
    stub = "    def total(self) -> int:\n        ...\n"
    answer = "```python\n    def total(self) -> int:\n        return 42\n```"
    ex = extract_function(answer, "total", stub, class_name="Cart")
    assert ex.ok, ex.reason
    assert ex.function == "def total(self) -> int:\n    return 42\n"


def test_helpers_kept_usage_and_tests_dropped():
    stub = "def is_prime(n: int) -> bool:\n    ...\n"
    answer = textwrap.dedent('''\
        ```python
        import math
        from functools import lru_cache

        _SMALL = (2, 3, 5)


        def _divides(d, n):
            return n % d == 0


        def is_prime(n: int) -> bool:
            if n < 2:
                return False
            return not any(_divides(d, n) for d in range(2, math.isqrt(n) + 1))


        def test_is_prime():
            assert is_prime(7)


        assert is_prime(2)
        print(is_prime(9))

        if __name__ == "__main__":
            print(is_prime(11))
        ```
        ''')
    ex = extract_function(answer, "is_prime", stub)
    assert ex.ok, ex.reason
    assert ex.imports == ("import math", "from functools import lru_cache")
    assert "_SMALL = (2, 3, 5)" in ex.helpers and "def _divides" in ex.helpers
    assert "test_is_prime" not in ex.helpers and "print" not in ex.helpers
    assert [run(ex.code, f"is_prime({n})") for n in (1, 2, 9, 13)] == [False, True, False, True]


def test_known_names_are_not_duplicated():
    stub = "def b() -> int:\n    ...\n"
    answer = "def a():\n    return 1\n\ndef b() -> int:\n    return a() + 1\n"
    ex = extract_function(answer, "b", stub, known_names={"a"})
    assert ex.ok and ex.helpers == ""


def test_comments_inside_the_body_survive():
    stub = "def f(x: int) -> int:\n    ...\n"
    answer = "def f(x: int) -> int:\n    # double it\n    y = x * 2\n\n    return y  # done\n"
    ex = extract_function(answer, "f", stub)
    assert ex.ok
    assert "    # double it\n" in ex.function and "return y  # done" in ex.function


def test_one_line_def():
    ex = extract_function("def f(x: int) -> int: return x + 1", "f", "def f(x: int) -> int:\n    ...\n")
    assert ex.ok, ex.reason
    assert ex.function == "def f(x: int) -> int:\n    return x + 1\n"


def test_multiline_string_in_body_keeps_its_content():
    stub = "def banner() -> str:\n    ...\n"
    answer = 'def banner() -> str:\n    return """line one\nline two\n"""\n'
    ex = extract_function(answer, "banner", stub)
    assert ex.ok, ex.reason
    assert run(ex.function, "banner()") == "line one\nline two\n"


def test_async_function():
    stub = "async def fetch(n: int) -> int:\n    ...\n"
    ex = extract_function("```python\nasync def fetch(n: int) -> int:\n    return n\n```", "fetch", stub)
    assert ex.ok
    assert ex.function.startswith("async def fetch")


def test_body_only_with_await():
    stub = "async def fetch(n: int) -> int:\n    ...\n"
    ex = extract_function("```python\nawait asyncio.sleep(0)\nreturn n\n```", "fetch", stub)
    assert ex.ok, ex.reason


def test_from_comment_without_stub_takes_the_model_definition():
    answer = "```python\nimport re\n\n@staticmethod\ndef slug(text: str) -> str:\n    return re.sub(r'\\W+', '-', text).strip('-').lower()\n```"
    ex = extract_function(answer, "slug", None)
    assert ex.ok, ex.reason
    assert ex.function.startswith("@staticmethod\ndef slug(text: str) -> str:")
    assert ex.imports == ("import re",)


def test_usage_example_alone_is_not_taken_as_a_body_when_unfenced_prose():
    ex = extract_function("You can call it like area(2, 3).", "area", STUB)
    assert not ex.ok


def test_find_code_blocks_unfenced_region():
    answer = "Explanation first.\nimport os\n\ndef f():\n    return os.sep\nThat's all, folks."
    blocks = find_code_blocks(answer)
    assert blocks == ["import os\n\ndef f():\n    return os.sep"]


def test_is_stub_body():
    tree = ast.parse('def f():\n    """doc"""\n    ...\n')
    assert is_stub_body(tree.body[0].body)
    tree = ast.parse("def f():\n    return 1\n")
    assert not is_stub_body(tree.body[0].body)


def test_indent_block_leaves_string_continuations_alone():
    code = 'def f():\n    return """a\nb"""\n'
    assert indent_block(code, "    ") == '    def f():\n        return """a\nb"""\n'


def test_method_docstring_reindented_and_string_values_preserved():
    stub = '    def area(self) -> str:\n        """Area.\n\n        >>> R().area()\n        \'a\\n        b\'\n        """\n        ...\n'
    answer = 'class R:\n    def area(self) -> str:\n        return """a\n        b"""\n'
    ex = extract_function(answer, "area", stub, class_name="R")
    assert ex.ok, ex.reason
    assert '    """Area.\n\n    >>> R().area()\n' in ex.function
    ns: dict = {}
    exec("class R:\n" + indent_block(ex.function, "    "), ns)  # noqa: S102
    assert ns["R"]().area() == "a\n        b"


def test_reasoning_models_thinking_is_not_the_answer():
    answer = (
        "<think>\nMaybe:\ndef area(w: float, h: float = 1.0) -> float:\n    return w + h\n"
        "no wait, that adds.\n</think>\n\ndef area(w: float, h: float = 1.0) -> float:\n    return w * h\n"
    )
    ex = extract_function(answer, "area", STUB)
    assert ex.ok and "w * h" in ex.function and "w + h" not in ex.function
