"""Runners for trio-eventbus: one factory per scenario, for both checkpoint modes.

`mode` is ``"default"`` (``open_bus(discover=False)``, a full checkpoint per
emit) or ``"cancel"`` (``open_bus(discover=False, checkpoint="cancel")``).
Each runner opens the bus and subscribes outside the clock, then times
``await bus.emit(event)`` `n` times.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

import eventbus

from ._handlers import (
    CHAIN_LENGTH,
    FAN_OUT,
    TICK,
    A,
    B,
    C,
    Countdown,
    NoopInstrument,
    Tick,
    async_passes,
    async_yields,
    sync_passes,
)
from ._harness import clock

if TYPE_CHECKING:
    from ._harness import Runner


def open_bus(mode: str) -> contextlib.AbstractAsyncContextManager[eventbus.Bus]:
    """Open a bus without plugin discovery in the given checkpoint mode."""
    if mode == "default":
        return eventbus.open_bus(discover=False)
    if mode == "cancel":
        return eventbus.open_bus(discover=False, checkpoint="cancel")
    raise ValueError(f"mode must be 'default' or 'cancel', got {mode!r}")


async def _emit_loop(bus: eventbus.Bus, event: Any, n: int) -> float:
    emit = bus.emit
    start = clock()
    for _ in range(n):
        await emit(event)
    return clock() - start


def _runner(body: Callable[[int], Awaitable[float]]) -> Runner:
    def run(n: int) -> float:
        return trio.run(body, n)

    return run


def chain(mode: str, *, sync: bool) -> Runner:
    """S1: five pipes, async or plain functions, each returning the event."""

    async def body(n: int) -> float:
        async with open_bus(mode) as bus:
            for handler in sync_passes(CHAIN_LENGTH) if sync else async_passes(CHAIN_LENGTH):
                bus.pipe(Tick)(handler)
            return await _emit_loop(bus, TICK, n)

    return _runner(body)


def listeners(mode: str) -> Runner:
    """S2: ten listeners, each doing one checkpoint."""

    async def body(n: int) -> float:
        async with open_bus(mode) as bus:
            for handler in async_yields(FAN_OUT):
                bus.listener(Tick)(handler)
            return await _emit_loop(bus, TICK, n)

    return _runner(body)


def hooks(mode: str) -> Runner:
    """S3: ten hooks; the clock stops when every hook has seen every event."""

    async def body(n: int) -> float:
        countdown = Countdown(FAN_OUT * n)
        async with open_bus(mode) as bus:
            for handler in countdown.hooks(FAN_OUT):
                bus.hook(Tick)(handler)
            emit = bus.emit
            event = TICK
            start = clock()
            for _ in range(n):
                await emit(event)
            await countdown.done.wait()
            return clock() - start

    return _runner(body)


def empty(mode: str) -> Runner:
    """S4: emit with no subscribers."""

    async def body(n: int) -> float:
        async with open_bus(mode) as bus:
            return await _emit_loop(bus, TICK, n)

    return _runner(body)


@contextlib.asynccontextmanager
async def _nested(bus: eventbus.Bus) -> AsyncIterator[tuple[eventbus.Bus, ...]]:
    async with bus.scope("a") as a, a.scope("b") as b, b.scope("c") as c:
        yield bus, a, b, c


def scoped_chain(mode: str) -> Runner:
    """S5: emit on scope c (root -> a -> b -> c), the five pipes spread 2/1/1/1."""

    async def body(n: int) -> float:
        async with open_bus(mode) as bus, _nested(bus) as levels:
            handlers = async_passes(CHAIN_LENGTH)
            for level, handler in zip((0, 0, 1, 2, 3), handlers, strict=True):
                levels[level].pipe(Tick)(handler)
            return await _emit_loop(levels[-1], TICK, n)

    return _runner(body)


def scoped_empty(mode: str) -> Runner:
    """S5: emit on scope c with no subscribers anywhere."""

    async def body(n: int) -> float:
        async with open_bus(mode) as bus, _nested(bus) as levels:
            return await _emit_loop(levels[-1], TICK, n)

    return _runner(body)


def mro_chain(mode: str) -> Runner:
    """S6: emit C(B(A)) with the five pipes subscribed to A, A, B, B, C."""

    async def body(n: int) -> float:
        async with open_bus(mode) as bus:
            handlers = async_passes(CHAIN_LENGTH)
            for event_type, handler in zip((A, A, B, B, C), handlers, strict=True):
                bus.pipe(event_type)(handler)
            return await _emit_loop(bus, C(), n)

    return _runner(body)


def instrumented_chain(mode: str) -> Runner:
    """S7: the S1 async chain with one no-op instrument added."""

    async def body(n: int) -> float:
        async with open_bus(mode) as bus:
            bus.add_instrument(NoopInstrument())
            for handler in async_passes(CHAIN_LENGTH):
                bus.pipe(Tick)(handler)
            return await _emit_loop(bus, TICK, n)

    return _runner(body)
