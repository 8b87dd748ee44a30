"""Hand-written trio floors: the least code that does the same work as the bus.

Each floor is written inline in the timed loop, so it does not even pay for
the function call that an ``emit()`` is; it is a floor, not a competitor.
Each pays, once per emit, the checkpoint the bus owes its caller in the mode
it is measured against: with `full=True`, the
``trio.lowlevel.checkpoint()`` of the default mode (trio's rule for every
async API); with `full=False`, the ``trio.lowlevel.checkpoint_if_cancelled()``
of ``checkpoint="cancel"``, whose emit is still a cancellation point.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

from ._handlers import (
    CHAIN_LENGTH,
    FAN_OUT,
    TICK,
    Countdown,
    async_passes,
    async_yields,
    sync_passes,
)
from ._harness import clock

if TYPE_CHECKING:
    from ._harness import Runner

HOOK_CAPACITY = 1024  # the bus's default hook_capacity


def _runner(body: Callable[[int], Awaitable[float]]) -> Runner:
    def run(n: int) -> float:
        return trio.run(body, n)

    return run


def _checkpoint(full: bool) -> Callable[[], Awaitable[None]]:
    """What an emit owes its caller: ``checkpoint`` (default mode) or
    ``checkpoint_if_cancelled`` (``checkpoint="cancel"``)."""
    return trio.lowlevel.checkpoint if full else trio.lowlevel.checkpoint_if_cancelled


def chain(*, sync: bool, full: bool) -> Runner:
    """S1: ``for h in hs: p = await h(p)`` (or ``p = h(p)``), then one
    ``await checkpoint()`` (or ``checkpoint_if_cancelled()``)."""

    async def body_async(n: int) -> float:
        handlers = tuple(async_passes(CHAIN_LENGTH))
        event = TICK
        cp = _checkpoint(full)
        start = clock()
        for _ in range(n):
            p = event
            for h in handlers:
                p = await h(p)
            await cp()
        return clock() - start

    async def body_sync(n: int) -> float:
        handlers = tuple(sync_passes(CHAIN_LENGTH))
        event = TICK
        cp = _checkpoint(full)
        start = clock()
        for _ in range(n):
            p = event
            for h in handlers:
                p = h(p)
            await cp()
        return clock() - start

    return _runner(body_sync if sync else body_async)


def nursery() -> Runner:
    """S2: ``async with trio.open_nursery() as n: for h in hs: n.start_soon(h, e)``."""

    async def body(n: int) -> float:
        handlers = tuple(async_yields(FAN_OUT))
        event = TICK
        open_nursery = trio.open_nursery
        start = clock()
        for _ in range(n):
            async with open_nursery() as nursery:
                for h in handlers:
                    nursery.start_soon(h, event)
        return clock() - start

    return _runner(body)


async def _worker(
    receive: trio.MemoryReceiveChannel[Any], handler: Callable[[Any], Awaitable[None]]
) -> None:
    async with receive:
        async for event in receive:
            await handler(event)


def channels(*, full: bool) -> Runner:
    """S3: one worker per hook reading a memory channel; ``send_nowait`` to
    each, then one ``await checkpoint()`` (or ``checkpoint_if_cancelled()``).

    A full channel makes the emitter wait (``await send``), as the bus's
    ``overflow="wait"`` does; with only ``checkpoint_if_cancelled()`` per emit,
    which never yields, that is the only time the workers get to run.
    """

    async def body(n: int) -> float:
        countdown = Countdown(FAN_OUT * n)
        event = TICK
        cp = _checkpoint(full)
        would_block = trio.WouldBlock
        async with trio.open_nursery() as workers:
            senders: list[trio.MemorySendChannel[Any]] = []
            for handler in countdown.hooks(FAN_OUT):
                send, receive = trio.open_memory_channel[Any](HOOK_CAPACITY)
                workers.start_soon(_worker, receive, handler)
                senders.append(send)
            start = clock()
            for _ in range(n):
                for send in senders:
                    try:
                        send.send_nowait(event)
                    except would_block:
                        await send.send(event)
                await cp()
            await countdown.done.wait()
            elapsed = clock() - start
            for send in senders:
                send.close()
        return elapsed

    return _runner(body)


def empty(*, full: bool) -> Runner:
    """S4: ``await checkpoint()`` or ``await checkpoint_if_cancelled()``."""

    async def body(n: int) -> float:
        cp = _checkpoint(full)
        start = clock()
        for _ in range(n):
            await cp()
        return clock() - start

    return _runner(body)
