"""The events, handlers and instrument that every variant of a scenario shares.

Each factory returns distinct function objects: pyee and blinker key their
receivers by the function, so subscribing one function five times would
quietly measure one handler. Every variant of a scenario gets the same
handler bodies, so the only difference between rows is the dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import attrs
import trio

import eventbus

AsyncHandler = Callable[[Any], Coroutine[Any, Any, Any]]

CHAIN_LENGTH = 5  # S1, S5, S6, S7: pipes in the chain
FAN_OUT = 10  # S2, S3: listeners or hooks


@attrs.frozen
class Tick(eventbus.Event):
    """The event of every scenario but S6."""

    n: int = 0


@attrs.frozen
class A(eventbus.Event):
    """S6: the root of the MRO fan-in."""


@attrs.frozen
class B(A):
    """S6: subscribed to by pipes, and a base of `C`."""


@attrs.frozen
class C(B):
    """S6: the type that is emitted."""


TICK = Tick()


def async_passes(k: int) -> list[AsyncHandler]:
    """Return `k` distinct ``async def h(event): return event``."""

    def make() -> AsyncHandler:
        async def passes(event: Any) -> Any:
            return event

        return passes

    return [make() for _ in range(k)]


def sync_passes(k: int) -> list[Callable[[Any], Any]]:
    """Return `k` distinct ``def h(event): return event``."""

    def make() -> Callable[[Any], Any]:
        def passes(event: Any) -> Any:
            return event

        return passes

    return [make() for _ in range(k)]


def async_yields(k: int) -> list[AsyncHandler]:
    """Return `k` distinct handlers that do one ``trio.lowlevel.checkpoint()``."""

    def make() -> AsyncHandler:
        async def yields(event: Any) -> None:
            await trio.lowlevel.checkpoint()

        return yields

    return [make() for _ in range(k)]


def sync_noops(k: int) -> list[Callable[[Any], None]]:
    """Return `k` distinct ``def h(event): pass`` (the sync peers of S2)."""

    def make() -> Callable[[Any], None]:
        def noop(event: Any) -> None:
            pass

        return noop

    return [make() for _ in range(k)]


@attrs.define(slots=True, eq=False)
class Countdown:
    """Counts hook calls down to zero and then sets `done` (S3).

    S3 stops the clock only when every hook has seen every event, so that
    fire-and-forget work is counted and not left running after the sample.
    """

    left: int
    done: trio.Event = attrs.field(factory=trio.Event)

    def hooks(self, k: int) -> list[AsyncHandler]:
        """Return `k` distinct hooks that count one call each."""

        def make() -> AsyncHandler:
            async def counts(event: Any) -> None:
                self.left -= 1
                if not self.left:
                    self.done.set()

            return counts

        return [make() for _ in range(k)]


class NoopInstrument:
    """S7: an instrument whose four methods do nothing."""

    def emit_started(self, bus: Any, event: Any) -> None:
        pass

    def emit_finished(self, bus: Any, event: Any, error: BaseException | None) -> None:
        pass

    def handler_started(self, subscription: Any, event: Any) -> None:
        pass

    def handler_finished(self, subscription: Any, event: Any, seconds: float) -> None:
        pass
