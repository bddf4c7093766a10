"""The fake OpenAI server's standalone mode (the VS Code end-to-end test runs it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig

SCRIPT = Path(__file__).resolve().parent.parent / "support" / "fake_openai.py"


def test_standalone_prints_the_port_and_streams_the_fixed_reply():
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--port", "0", "--reply", "Hello from the fake.",
                             "--chunk-delay", "0.01"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().strip())
        client = OpenAIClient(ModelConfig(base_url=f"http://127.0.0.1:{port}/v1", name="any", timeout=10, max_retries=0),
                           environ={})
        stream = client.stream_chat([{"role": "user", "content": "hi"}])
        assert list(stream) == ["Hello ", "from ", "the ", "fake."] and stream.finish_reason == "stop"
        assert [c.text for c in client.chat([{"role": "user", "content": "hi"}], n=1)] == ["Hello from the fake."]
        assert client.complete("x = ", "").text == "Hello from the fake."
        assert client.list_models() == ["fake-model"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
