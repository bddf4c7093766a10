"""Prompts for implementing a function: the request, the tests request, the repair.

Prompts are built from the document and the intent: the signature, the docstring or
comment, the developer's examples, the file's imports and the other definitions of the
file (signatures only); and, when the service found them in the workspace index, related
definitions elsewhere in the project (``PromptContext.related``). Every text goes through
:func:`codeloop.secrets.scrub` with the known secrets, so an API key pasted in a
file never reaches a model (the LLM client scrubs again).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from codeloop.secrets import scrub
from codeloop.workspace.model import Example, Intent

Messages = list[dict[str, str]]

SYSTEM_IMPLEMENT = (
    "You are a careful Python programmer. You implement exactly one function so that it "
    "does what its description and examples say. Reply with one ```python code block that "
    "contains the complete function definition: the same name, parameters, defaults, "
    "annotations and decorators as given, then a correct body. Put any imports the function "
    "needs above it. Use only the standard library, the modules the file already imports and "
    "the project's own modules. No explanations, no tests, no example usage."
)

SYSTEM_TESTS = (
    "You write pytest tests that check a Python function against its description. "
    "Expected values must follow from the description and the examples only; when the "
    "description does not say what happens for some input, do not test that input. "
    "Reply with one ```python code block of test functions named test_*."
)

# Caps that keep a prompt small whatever the file looks like.
MAX_CONTEXT_LINES = 60
MAX_FEEDBACK_CHARS = 3000


@dataclass(frozen=True)
class PromptContext:
    """What the file around the function contributes to a prompt."""

    path: str | None = None  # the file, relative to the workspace when possible
    module: str | None = None  # its import name
    imports: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()  # one-line signatures of the file's other definitions
    related: str = ""  # definitions elsewhere in the project, from the index (services/gen_context.py)


def file_context(document_text: str, exclude: str | None = None, path: str | None = None, module: str | None = None) -> PromptContext:
    """Imports and other top-level signatures of a file (``exclude``: the target's name)."""
    try:
        tree = ast.parse(document_text)
    except SyntaxError:
        return PromptContext(path=path, module=module)
    imports: list[str] = []
    symbols: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(ast.unparse(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name != exclude:
            symbols.append(_signature(node))
        elif isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            symbols.append(f"class {node.name}({bases}):" if bases else f"class {node.name}:")
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name != exclude:
                    symbols.append("    " + _signature(item))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and len(ast.unparse(node)) <= 100:
            symbols.append(ast.unparse(node))
    return PromptContext(path=path, module=module, imports=tuple(imports[:MAX_CONTEXT_LINES]),
                         symbols=tuple(symbols[:MAX_CONTEXT_LINES]))


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    ret = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    doc = ast.get_docstring(node)
    first = f"  # {doc.strip().splitlines()[0][:80]}" if doc and doc.strip() else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){ret}: ...{first}"


def describe_example(example: Example) -> str:
    """One line a model reads easily: ``area(2, 3) == 6`` / ``parse('') raises ValueError``."""
    call = " ".join(example.call.split()) if "\n" not in example.call.strip() else example.call.strip()
    if example.expected is None:
        return f"{call}  (returns None, prints nothing)" if example.style == "doctest" else call
    expected = example.expected.strip()
    if expected.startswith("Traceback"):
        last = [ln for ln in expected.splitlines() if ln.strip()][-1].strip()
        return f"{call} raises {last}"
    if expected.startswith(("raises ", "raise ")):
        return f"{call} {expected}"
    if "\n" in expected:
        return f"{call} prints:\n{expected}"
    return f"{call} == {expected}"


def _context_block(ctx: PromptContext) -> list[str]:
    out: list[str] = []
    if ctx.path:
        out.append(f"File: {ctx.path}" + (f" (module {ctx.module})" if ctx.module else ""))
    if ctx.imports:
        out.append("The file imports:\n" + "\n".join(ctx.imports))
    if ctx.symbols:
        out.append("Other definitions in the file (signatures):\n" + "\n".join(ctx.symbols))
    if ctx.related:
        out.append(ctx.related)
    return out


def _examples_block(examples: Sequence[Example]) -> list[str]:
    if not examples:
        return []
    return ["It must satisfy these examples:\n" + "\n".join(f"- {describe_example(e)}" for e in examples)]


def implement_messages(intent: Intent, stub: str | None, ctx: PromptContext, secrets: Iterable[str] = ()) -> Messages:
    """The request for candidates of ``intent`` (``stub``: the function's current source)."""
    parts = _context_block(ctx)
    where = f" (a method of class {intent.class_name})" if intent.class_name else ""
    if stub:
        parts.append(f"Implement the function `{intent.name}`{where}:\n```python\n{stub.rstrip()}\n```")
        if intent.comment:
            parts.append(f"The comment above it says:\n{intent.comment.strip()}")
    else:
        description = (intent.comment or intent.docstring or intent.summary or "").strip()
        if intent.name.isidentifier():
            parts.append(f"Write the function `{intent.name}` that this comment describes:\n{description}")
        else:
            parts.append(f"Write the Python function that this comment describes (choose a good name):\n{description}")
    parts += _examples_block(intent.examples)
    parts.append("Reply with the complete function in one ```python block.")
    secrets = tuple(secrets)
    return [
        {"role": "system", "content": SYSTEM_IMPLEMENT},
        {"role": "user", "content": scrub("\n\n".join(parts), secrets)},
    ]


def tests_messages(intent: Intent, stub: str | None, ctx: PromptContext, import_line: str, secrets: Iterable[str] = ()) -> Messages:
    """The request for tests of ``intent``, written against its description only."""
    parts = _context_block(ctx)
    if stub:
        parts.append(f"The function (its body is not written yet):\n```python\n{stub.rstrip()}\n```")
    if intent.comment or (not stub and intent.summary):
        parts.append(f"Its description:\n{(intent.comment or intent.summary).strip()}")
    parts += _examples_block(intent.examples)
    parts.append(
        f"Write 4 to 8 pytest test functions for `{intent.name}`. Import it with `{import_line}`. "
        "Check the examples' cases and a few more that follow from the description (edge cases it "
        "states, properties such as ordering or round trips). You may use hypothesis "
        "(`from hypothesis import given, strategies as st`) for stated properties. "
        "Reply with one ```python block."
    )
    return [
        {"role": "system", "content": SYSTEM_TESTS},
        {"role": "user", "content": scrub("\n\n".join(parts), tuple(secrets))},
    ]


def repair_messages(base: Messages, candidate: str, failures: Sequence[str], secrets: Iterable[str] = ()) -> Messages:
    """``base`` + the failing candidate + what failed, asking for a corrected function."""
    lines: list[str] = []
    used = 0
    for failure in failures:
        text = failure.strip()
        if used + len(text) > MAX_FEEDBACK_CHARS:
            lines.append("- ... (more failures not shown)")
            break
        lines.append("- " + text.replace("\n", "\n  "))
        used += len(text)
    feedback = (
        "This implementation was run against the checks and failed:\n"
        + "\n".join(lines)
        + "\n\nFix the function so that every check passes. Keep the signature. "
        "Reply with the complete corrected function in one ```python block."
    )
    secrets = tuple(secrets)
    return [
        *base,
        {"role": "assistant", "content": scrub("```python\n" + candidate.rstrip() + "\n```", secrets)},
        {"role": "user", "content": scrub(feedback, secrets)},
    ]
