"""The tolerant parser of the text protocol (models without tool calling)."""

from __future__ import annotations

import pytest

from codeloop.generate.agent_prompt import TextCall, parse_text_call, text_protocol


@pytest.mark.parametrize(("reply", "call"), [
    ('<tool_call>{"name": "search_code", "arguments": {"query": "x"}}</tool_call>',
     TextCall("search_code", {"query": "x"})),
    ('I will look.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}', TextCall("read_file", {"path": "a.py"})),
    ("<tool_call>{'name': 'read_file', 'arguments': {'path': 'a.py', 'end_line': 3,}}</tool_call>",
     TextCall("read_file", {"path": "a.py", "end_line": 3})),
    ('```json\n{"tool": "run_tests", "args": {}}\n```', TextCall("run_tests", {})),
    ('{"name": "list_intents", "arguments": "{\\"path\\": \\"src\\"}"}', TextCall("list_intents", {"path": "src"})),
    ('<tool_call>{"function": {"name": "read_symbol", "arguments": {"name": "f"}}}</tool_call>',
     TextCall("read_symbol", {"name": "f"})),
    ('<TOOL_CALL>{"name": "run_tests", "parameters": null}</TOOL_CALL>', TextCall("run_tests", {})),
    ('<tool_call>{"name": "x", "arguments": [1]}</tool_call>', TextCall("x", None, "the arguments are not a JSON object")),
    ("<tool_call>{name: broken", TextCall("", None, "the tool call is not valid JSON")),
    ('<tool_call>{"name": "read_file", "arguments": {"path": "a}b.py"}', TextCall("read_file", {"path": "a}b.py"})),
])
def test_calls_are_read_however_they_are_written(reply: str, call: TextCall) -> None:
    assert parse_text_call(reply) == call


@pytest.mark.parametrize("reply", [
    "The answer is 42.",
    "Here is code:\n```python\ndef f():\n    return {'a': 1}\n```",
    "```json\n{\"result\": 3}\n```",
    "",
])
def test_answers_are_not_calls(reply: str) -> None:
    assert parse_text_call(reply) is None


def test_the_protocol_lists_the_tools_with_their_arguments() -> None:
    text = text_protocol([("read_file", "Read a file.", {"type": "object", "required": ["path"], "properties": {
        "path": {"type": "string"}, "start_line": {"type": "integer"}}})])
    assert "- read_file(path: string, start_line?: integer): Read a file." in text
    assert '<tool_call>{"name": "TOOL_NAME", "arguments": {...}}</tool_call>' in text
