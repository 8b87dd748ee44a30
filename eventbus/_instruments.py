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
from functools import partial
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

    For each method of :class:`Instrument` there is an attribute of the same
    name, rebuilt on add and remove: ``None`` when no instrument defines the
    method, the instrument's own bound method when exactly one does (the hot
    path calls it directly), and a loop over all of them when several do.
    The hot path calls such an attribute in a ``try`` block of its own and
    hands what it called to :meth:`broken` when it raises::

        started = instruments.handler_started
        if started is not None:
            try:
                started(subscription, event)
            except Exception:
                instruments.broken("handler_started", started)

    Elsewhere :meth:`notify` does the same in one call.
    """

    __slots__ = ("_calls", "_on_empty", "objects", *METHODS)

    emit_started: Callable[[Bus, object], object] | None
    emit_finished: Callable[[Bus, object, BaseException | None], object] | None
    handler_started: Callable[[Subscription[Any], object], object] | None
    handler_finished: Callable[[Subscription[Any], object, float], object] | None
    handler_failed: Callable[[Subscription[Any], object, BaseException], object] | None
    hook_dropped: Callable[[Subscription[Any], object], object] | None

    def __init__(self, *, on_empty: Callable[[], None] | None = None) -> None:
        self.objects: list[object] = []
        # Called when the last instrument is removed, however that happens.
        self._on_empty = on_empty
        # Per method: (instrument, its bound method) in the order added. A
        # change replaces the tuple, never mutates it, so a loop in progress
        # is not disturbed by a removal.
        self._calls: dict[str, tuple[tuple[object, Callable[..., object]], ...]]
        self._calls = dict.fromkeys(METHODS, ())
        for name in METHODS:
            setattr(self, name, None)

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
            self._rebuild(name)
        self.objects.append(obj)

    def remove(self, obj: object) -> None:
        if obj not in self.objects:
            raise ValueError(f"instrument {obj!r} was not added to this bus")
        self.objects.remove(obj)
        for name, calls in self._calls.items():
            if any(o is obj for o, _ in calls):
                self._calls[name] = tuple((o, m) for o, m in calls if o is not obj)
                self._rebuild(name)
        if not self.objects and self._on_empty is not None:
            self._on_empty()

    def _rebuild(self, name: str) -> None:
        calls = self._calls[name]
        if not calls:
            setattr(self, name, None)
        elif len(calls) == 1:
            setattr(self, name, calls[0][1])
        else:
            setattr(self, name, partial(self.notify, name))

    def notify(self, name: str, *args: object) -> None:
        """Call method ``name`` of every instrument that defines it."""
        for obj, method in self._calls[name]:
            try:
                method(*args)
            except Exception:
                self._broken(obj, name)

    def broken(self, name: str, called: Callable[..., object]) -> None:
        """``called``, the attribute ``name`` read before, raised: log it and
        remove its instrument. Call it from the ``except`` block."""
        for obj, method in self._calls[name]:
            if method is called:
                self._broken(obj, name)
                return
        # Removed already (it removed itself, say, and then raised).
        self._broken(getattr(called, "__self__", called), name)

    def _broken(self, obj: object, name: str) -> None:
        logger.exception("instrument %r raised in %s and was removed from the bus", obj, name)
        if obj in self.objects:
            self.remove(obj)
