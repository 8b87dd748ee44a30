"""Checked by mypy (see [tool.mypy] files), never run: the typing of handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import assert_type

import attrs

import eventbus


@attrs.frozen
class Placed(eventbus.Event):
    id: int


@attrs.frozen
class Shipped(eventbus.Event):
    id: int


async def stamp(event: Placed) -> Placed:
    return event


def stamp_sync(event: Placed) -> Placed:
    return event


async def on_any(event: eventbus.Event) -> None:
    pass


async def on_shipped(event: Shipped) -> None:
    pass


async def typed(bus: eventbus.Bus) -> None:
    assert_type(bus.pipe(Placed)(stamp), Callable[[Placed], Awaitable[Placed]])
    assert_type(bus.pipe(Placed)(stamp_sync), Callable[[Placed], Placed])
    # A handler for a base class accepts the subclass's events.
    bus.listener(Placed)(on_any)
    bus.hook(Placed, capacity=8, overflow="drop")(on_any)
    assert_type(await bus.emit(Placed(1)), Placed)
    sub = bus.subscribe(Placed, on_any, kind="listener")
    assert_type(sub, eventbus.Subscription[Placed])
    async with bus.stream(Placed) as events:
        async for event in events:
            assert_type(event, Placed)
    assert_type(await bus.wait_for(Placed, where=lambda e: e.id == 1), Placed)


async def rejected(bus: eventbus.Bus) -> None:
    # A handler for another event type is refused.
    bus.listener(Placed)(on_shipped)  # type: ignore[arg-type]
    bus.pipe(Placed)(on_shipped)  # type: ignore[arg-type]
    bus.subscribe(Placed, on_shipped)  # type: ignore[arg-type]
