"""Streams: a task consumes a subscription's queue with ``async for``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar, final

import trio

if TYPE_CHECKING:
    from ._subscription import Subscription

__all__ = ["EventStream"]

E = TypeVar("E")


@final
class EventStream(AsyncIterator[E]):
    """The async iterator yielded by ``bus.stream(T)``: events in FIFO order."""

    __slots__ = ("_receive", "_sub")

    def __init__(self, sub: Subscription[E], receive: trio.MemoryReceiveChannel[E]) -> None:
        self._sub = sub
        self._receive = receive

    @property
    def subscription(self) -> Subscription[E]:
        return self._sub

    async def receive(self) -> E:
        """The next event; raises ``trio.EndOfChannel`` once the stream is closed."""
        event = await self._receive.receive()
        self._sub.pending -= 1
        self._sub.calls += 1
        return event

    def __aiter__(self) -> EventStream[E]:
        return self

    async def __anext__(self) -> E:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None
