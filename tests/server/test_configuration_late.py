"""A client that answers workspace/configuration after the server stopped waiting: the
server goes on (status, sandbox probe) and still applies the answer when it comes."""

from __future__ import annotations

import asyncio
import time

from codeloop.lsp.configuration import PULL_PATIENCE_S
from support.lsp_client import make_initialize_params, request_raw, wait_for

SETTLE_S = 120.0  # not a speed check: a loaded machine makes the test slower, never red


async def test_a_late_configuration_answer_is_still_applied(fresh_client, workspace):
    fresh_client.set_configuration({"model": {"temperature": 0.3}}, section="codeloop")
    answer = fresh_client.get_configuration
    answered: list[float] = []

    def slow_configuration(*args, **kwargs):  # runs on the client's loop: it stalls the client
        time.sleep(PULL_PATIENCE_S + 1)
        answered.append(time.monotonic())
        return answer(*args, **kwargs)

    fresh_client.get_configuration = slow_configuration
    await fresh_client.initialize_session(make_initialize_params(workspace, {}))
    await wait_for(lambda: answered, timeout=SETTLE_S, what="the client's configuration answer")

    async def temperature() -> float:
        response = await request_raw(fresh_client, "codeloop/settings", None, timeout=SETTLE_S)
        return response["result"]["settings"]["model"]["temperature"]

    deadline = time.monotonic() + SETTLE_S  # the answer and the settings request may cross
    while (seen := await temperature()) != 0.3 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert seen == 0.3, "the late workspace/configuration answer was not applied"
