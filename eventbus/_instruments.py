"""Instruments: optional observers of emits and handler calls.

Like ``trio.abc.Instrument``: an instrument defines any subset of the methods
of :class:`Instrument`. The bus keeps one :class:`Instruments` dispatcher per
tree and only while at least one instrument is added, so the hot path pays a
single ``is None`` test when there are none. An instrument that raises is
removed and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._bus import Bus
    from ._subscription import Subscription

__all__ = ["METHODS", "Instrument", "Instruments"]

logger = logging.getLogger("eventbus")

METHODS: Final = (
    "emit_started",
    "emit_finished",
    "handler_started",
    "handler_finished",
    "handler_failed",
    "hook_dropped",
)


class Instrument:
    """Base class for instruments; override the methods you need.

    Any object with some of these methods works too: the base class only
    documents the signatures.
    """

    __slots__ = ()

    def emit_started(self, bus: Bus, event: object) -> None:
        """An emit began (called before the pipe chain)."""

    def emit_finished(self, bus: Bus, event: object, error: BaseException | None) -> None:
        """An emit ended, with the error it raised or ``None``."""

    def handler_started(self, subscription: Subscription[Any], event: object) -> None:
        """A handler is about to be called."""

    def handler_finished(
        self, subscription: Subscription[Any], event: object, seconds: float
    ) -> None:
        """A handler returned (for a pipe: with an acceptable event)."""

    def handler_failed(
        self, subscription: Subscription[Any], event: object, error: BaseException
    ) -> None:
        """A handler raised (``Rejected`` and timeouts included)."""

    def hook_dropped(self, subscription: Subscription[Any], event: object) -> None:
        """A hook with ``overflow="drop"`` dropped ``event``: its queue was full."""


class Instruments:
    """Calls every added instrument that defines a method; drops broken ones.

    Each method keeps a tuple of ``(instrument, bound method)`` pairs, rebuilt
    on add and remove, so a call is one loop over a tuple (removal while a
    loop runs replaces the tuple, never mutates it).
    """

    __slots__ = ("_calls", "objects")

    def __init__(self) -> None:
        self.objects: list[object] = []
        self._calls: dict[str, tuple[tuple[object, Callable[..., object]], ...]]
        self._calls = dict.fromkeys(METHODS, ())

    def add(self, obj: object) -> None:
        if obj in self.objects:
            return
        found: list[tuple[str, Callable[..., object]]] = []
        for name in METHODS:
            method = getattr(obj, name, None)
            base = getattr(Instrument, name)
            if method is None or getattr(type(obj), name, None) is base:
                continue
            if not callable(method):
                raise TypeError(f"instrument {obj!r}: {name} must be a method, got {method!r}")
            found.append((name, method))
        if not found and not isinstance(obj, Instrument):
            raise TypeError(
                f"instrument {obj!r} defines none of {', '.join(METHODS)}; "
                f"an instrument is an object with at least one of these methods"
            )
        for name, method in found:
            self._calls[name] = (*self._calls[name], (obj, method))
        self.objects.append(obj)

    def remove(self, obj: object) -> None:
        if obj not in self.objects:
            raise ValueError(f"instrument {obj!r} was not added to this bus")
        self.objects.remove(obj)
        for name, calls in self._calls.items():
            self._calls[name] = tuple((o, m) for o, m in calls if o is not obj)

    def _broken(self, obj: object, name: str) -> None:
        logger.exception("instrument %r raised in %s and was removed from the bus", obj, name)
        if obj in self.objects:
            self.remove(obj)

    def emit_started(self, bus: Bus, event: object) -> None:
        for obj, method in self._calls["emit_started"]:
            try:
                method(bus, event)
            except Exception:
                self._broken(obj, "emit_started")

    def emit_finished(self, bus: Bus, event: object, error: BaseException | None) -> None:
        for obj, method in self._calls["emit_finished"]:
            try:
                method(bus, event, error)
            except Exception:
                self._broken(obj, "emit_finished")

    def handler_started(self, subscription: Subscription[Any], event: object) -> None:
        for obj, method in self._calls["handler_started"]:
            try:
                method(subscription, event)
            except Exception:
                self._broken(obj, "handler_started")

    def handler_finished(
        self, subscription: Subscription[Any], event: object, seconds: float
    ) -> None:
        for obj, method in self._calls["handler_finished"]:
            try:
                method(subscription, event, seconds)
            except Exception:
                self._broken(obj, "handler_finished")

    def handler_failed(
        self, subscription: Subscription[Any], event: object, error: BaseException
    ) -> None:
        for obj, method in self._calls["handler_failed"]:
            try:
                method(subscription, event, error)
            except Exception:
                self._broken(obj, "handler_failed")

    def hook_dropped(self, subscription: Subscription[Any], event: object) -> None:
        for obj, method in self._calls["hook_dropped"]:
            try:
                method(subscription, event)
            except Exception:
                self._broken(obj, "hook_dropped")
