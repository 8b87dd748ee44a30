"""Scopes: cancelling, draining and closing a bus node.

Closing a node drains its hook queues and background emits, shielded from
outside cancellation and bounded by ``drain_timeout``; then it closes the
queues, counts what is left as lost (and logs it) and cancels the node's
remaining work. ``cancel`` skips the drain.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import trio

from ._dispatch import logger_for
from ._errors import type_name

if TYPE_CHECKING:
    from ._bus import Bus
    from ._subscription import Subscription

__all__ = ["cancel_node", "close_node", "own_nursery", "settle", "wait_idle"]

logger = logging.getLogger("eventbus")


@asynccontextmanager
async def own_nursery() -> AsyncIterator[trio.Nursery]:
    """A nursery for a bus's background tasks that lets the block's own
    exception through unwrapped.

    The bus's tasks never raise (they report their failures), so a group of
    exactly one exception is the ``async with`` body's: the user sees the
    error they raised, not a group around it, as with any context manager.
    """
    try:
        async with trio.open_nursery() as nursery:
            yield nursery
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1 and not isinstance(group.exceptions[0], BaseExceptionGroup):
            # The body's own exception, with its traceback and cause: nothing lost.
            inner = group.exceptions[0]
            raise inner from inner.__cause__  # noqa: ASYNC123
        raise


def cancel_node(self: Bus) -> None:
    """Cancel a node's work and its scopes', without draining."""
    self._was_cancelled = True
    for child in self._children:
        cancel_node(child)
    self._nursery.cancel_scope.cancel()
    for scope in self._emitting:
        scope.cancel()


def _cut_short(self: Bus) -> bool:
    """Whether the node's work was cancelled (node.cancel() or from outside):
    then its close drains nothing."""
    return (
        self._was_cancelled
        or self._nursery.cancel_scope.cancel_called
        or trio.current_effective_deadline() == -math.inf
    )


async def settle(self: Bus) -> None:  # noqa: ASYNC910 - shielded clean-up; returns at once when idle
    """Let the node's ``emit_soon`` work in flight finish before its plugins stop.

    An event handed to ``emit_soon`` just before the block ended is then
    delivered while the plugins' handlers are still on, as it would have been
    a moment earlier. Shielded and bounded by ``drain_timeout``, like the
    drain, whose time it takes from: ``drain_timeout`` bounds the two
    together. Skipped when the node was cancelled. Whatever is still running
    after that is counted as lost by the close, as before.
    """
    if self._soon_pending and not _cut_short(self):
        start = trio.current_time()
        with trio.CancelScope(shield=True), trio.move_on_after(self._tree.settings.drain_timeout):
            await _wait_soon(self)
        self._drain_spent = trio.current_time() - start


async def _wait_soon(self: Bus) -> None:  # noqa: ASYNC910 - part of a shielded drain; returns at once when idle
    """Wait until no ``emit_soon`` of the node is running (new ones may start
    meanwhile: they are waited for too)."""
    while self._soon_pending:
        self._soon_idle = trio.Event()
        await self._soon_idle.wait()
        self._soon_idle = None


async def close_node(self: Bus) -> None:  # noqa: ASYNC910 - shielded clean-up
    """Run the node's close callbacks (its plugins stop, in reverse), then close it."""
    closers, self._closers = self._closers, []
    try:
        for closer in reversed(closers):
            await closer()  # noqa: ASYNC102 - a plugin stop, shielded and bounded by stop_timeout
    finally:
        await _close(self)  # noqa: ASYNC102 - shields itself, bounded by drain_timeout


async def _close(self: Bus) -> None:  # noqa: ASYNC910 - shielded clean-up; cancellation was checked above
    """Drain hooks and background emits, then cancel what is left.

    Runs shielded: clean-up happens even when the caller is cancelled,
    bounded by ``drain_timeout``.
    """
    for child in self._children:
        cancel_node(child)
    self._closing = True
    self._fast = False
    # Cancelled (by node.cancel() or from outside): stop now, do not drain.
    cancelled = _cut_short(self)
    with trio.CancelScope(shield=True):
        if not cancelled:
            with trio.move_on_after(self._tree.settings.drain_timeout - self._drain_spent):
                await _drain(self)
        self._closed = True
        for group in self._subs.values():
            for sub in group:
                if sub.active and (sub.before or sub.after):
                    self._tree.constrained -= 1
                sub.active = False
        why = (
            "the work was cancelled, so nothing was drained"
            if cancelled
            else f"they were cancelled after drain_timeout={self._tree.settings.drain_timeout:g}s; "
            f"raise drain_timeout or make the handlers faster"
        )
        for sub in _hook_like(self):
            sub.active = False
            if sub._send is not None:
                sub._send.close()
            if sub.kind == "hook":
                _give_up(self, sub, why)
        # Background emits still running now are cancelled: lost.
        unfinished = self._soon_pending
        if unfinished:
            self._soon_lost += unfinished
            logger.warning(
                "%s closed with %d emit_soon() event%s not completed (lost, see "
                "bus.emit_soon_lost): %s",
                self._what(),
                unfinished,
                "s" if unfinished > 1 else "",
                why,
            )
        for scope in self._emitting:
            scope.cancel()
        self._nursery.cancel_scope.cancel()
    # The records stay for stats() of the closed node; no plan is built again.
    self._invalidate()


def _hook_like(self: Bus) -> list[Subscription[Any]]:
    """Every queue-backed subscription of the node, cancelled ones still
    draining included."""
    subs = [s for group in self._subs.values() for s in group if s._send is not None]
    subs.extend(s for s in self._retired if s.pending)
    return subs


def _give_up(self: Bus, sub: Subscription[Any], why: str) -> int:
    """Stop a hook's workers; what is queued or in delivery is lost."""
    queued = sub.pending
    for scope in sub._worker_scopes:
        scope.cancel()
    if queued:
        sub.lost += queued
        sub.pending = 0
        logger_for(sub.owner).warning(
            "hook %r lost %d %s event%s (queued or in delivery) when the %s closed: %s",
            getattr(sub.handler, "__qualname__", sub.handler),
            queued,
            type_name(sub.event_type),
            "s" if queued > 1 else "",
            self._what(),
            why,
        )
    return queued


async def wait_idle(sub: Subscription[Any]) -> None:  # noqa: ASYNC910 - part of a shielded drain; returns at once when idle
    """Wait until a hook has delivered everything queued to it (its workers
    set ``_idle`` when ``pending`` drops to 0)."""
    while sub.pending:
        sub._idle = trio.Event()
        await sub._idle.wait()
    sub._idle = None


async def _drain(self: Bus) -> None:  # noqa: ASYNC910 - returns at once when there is nothing to drain
    """Wait until every hook queue here is empty and idle and no
    ``emit_soon`` is running; new work may arrive meanwhile."""
    while True:
        busy = False
        if self._soon_pending:
            busy = True
            await _wait_soon(self)
        for sub in _hook_like(self):
            if sub.kind == "hook" and sub.pending:
                busy = True
                await wait_idle(sub)
        if not busy:
            return  # noqa: ASYNC910 - nothing to drain
