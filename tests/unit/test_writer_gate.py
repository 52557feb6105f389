"""The writers' gate: requests wait for their turn on the event loop (holding no thread), in
order, and the turn travels with the worker threads a request uses."""

from __future__ import annotations

import asyncio
import threading

import anyio
import pytest
from tests.event_loops import run_alone

from trustdesk.gate import BlockingCallOnEventLoop, WriterGate, mark_serving


def test_requests_wait_on_the_loop_in_order_holding_no_thread():
    gate = WriterGate(1)
    order: list[int] = []
    outside = threading.Event()
    release = threading.Event()

    def job() -> None:  # code outside requests holds the only turn
        with gate.turn_in_thread():
            outside.set()
            release.wait(10)

    holder = threading.Thread(target=job)
    holder.start()
    outside.wait(10)

    async def request(n: int) -> None:
        async with gate.turn():
            order.append(n)
            await asyncio.sleep(0)  # other requests run meanwhile, none inside the turn

    async def main() -> int:
        threads_before = threading.active_count()
        tasks = []
        for n in range(50):
            tasks.append(asyncio.create_task(request(n)))
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        waiting_threads = threading.active_count() - threads_before
        release.set()
        await asyncio.gather(*tasks)
        return waiting_threads

    waiting_threads = run_alone(main)
    holder.join(10)
    assert order == list(range(50))
    assert waiting_threads <= 1  # fifty waiters, at most one thread (waiting for the job)


def test_the_turn_travels_to_worker_threads_and_is_not_taken_twice():
    gate = WriterGate(1)

    def inside() -> bool:
        with gate.turn_in_thread():  # would wait for ever if the turn were not seen as held
            return gate.held()

    async def main() -> bool:
        async with gate.turn():
            return await anyio.to_thread.run_sync(inside)

    assert run_alone(main) is True
    assert not gate.held()


def test_a_request_cancelled_while_waiting_gives_its_turn_back():
    gate = WriterGate(1)
    outside = threading.Event()
    release = threading.Event()

    def job() -> None:
        with gate.turn_in_thread():
            outside.set()
            release.wait(10)

    holder = threading.Thread(target=job)
    holder.start()
    outside.wait(10)

    async def main() -> bool:
        async def wait_for_turn() -> None:
            async with gate.turn():
                pass

        waiting = asyncio.create_task(wait_for_turn())
        await asyncio.sleep(0.05)
        waiting.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        async with asyncio.timeout(30):  # the slot came back: the next request gets it
            async with gate.turn():
                return True

    assert run_alone(main)
    holder.join(10)


def test_waiting_for_a_turn_on_the_event_loop_thread_is_refused():
    gate = WriterGate(1)

    async def main() -> None:
        mark_serving()
        with gate.turn_in_thread():
            pass

    with pytest.raises(BlockingCallOnEventLoop):
        run_alone(main)
