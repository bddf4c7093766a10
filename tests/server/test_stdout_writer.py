"""codeloop serve's stdout writer: a full pipe never blocks the event loop, and every byte
arrives, in order, also from other threads and at close."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from codeloop.cli.serve import LoopStdoutWriter

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")


def read_all(fd: int, into: bytearray) -> threading.Thread:
    def run() -> None:
        while chunk := os.read(fd, 65536):
            into.extend(chunk)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_message_larger_than_the_pipe_does_not_block_the_loop_and_arrives_whole() -> None:
    read_end, write_end = os.pipe()
    messages = [bytes([65 + i]) * (700_000 + i) for i in range(3)]  # each more than any pipe holds
    received = bytearray()

    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        with open(write_end, "wb", buffering=0, closefd=False) as stdout:
            writer = LoopStdoutWriter(stdout, loop)
            for message in messages:
                writer.write(message)  # returns although nobody reads yet
            ticks = 0
            for _ in range(5):  # the loop keeps running while the pipe is full
                await asyncio.sleep(0.001)
                ticks += 1
            queued_before_reading = sum(len(c) for c in writer._queue)
            reader = read_all(read_end, received)
            while writer._queue:
                await asyncio.sleep(0.005)
            writer.close()
        os.close(write_end)
        reader.join(10)
        return ticks, queued_before_reading

    ticks, queued = asyncio.run(main())
    assert ticks == 5
    assert queued > 0  # the pipe could not take it all: the rest waited in the queue
    assert bytes(received) == b"".join(messages)
    os.close(read_end)


def test_writes_from_another_thread_and_what_is_queued_at_close_all_arrive_in_order() -> None:
    read_end, write_end = os.pipe()
    received = bytearray()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with open(write_end, "wb", buffering=0, closefd=False) as stdout:
            writer = LoopStdoutWriter(stdout, loop)
            writer.write(b"a" * 300_000)
            worker = threading.Thread(target=writer.write, args=(b"b" * 300_000,))
            worker.start()
            worker.join()
            writer.write(b"c" * 10)
            reader = read_all(read_end, received)
            writer.close()  # blocking: everything queued is written before it returns
        os.close(write_end)
        reader.join(10)

    asyncio.run(main())
    assert bytes(received) == b"a" * 300_000 + b"b" * 300_000 + b"c" * 10
    os.close(read_end)


def test_writing_after_close_or_to_a_closed_pipe_is_a_broken_pipe() -> None:
    read_end, write_end = os.pipe()

    async def main() -> None:
        with open(write_end, "wb", buffering=0, closefd=False) as stdout:
            writer = LoopStdoutWriter(stdout, asyncio.get_running_loop())
            os.close(read_end)  # the editor is gone
            with pytest.raises(BrokenPipeError):
                writer.write(b"x")
            writer.close()
            with pytest.raises(BrokenPipeError):
                writer.write(b"y")

    asyncio.run(main())
    os.close(write_end)
