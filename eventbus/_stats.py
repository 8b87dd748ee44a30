"""Statistics records returned by ``Bus.stats()``."""

from __future__ import annotations

from typing import Any, final

import attrs

from ._subscription import Kind, Subscription, estimated_seconds

__all__ = ["SubscriptionStats", "snapshot"]


@final
@attrs.frozen
class SubscriptionStats:
    """What one subscription has done so far.

    Attributes:
        scope: the scope's name, ``None`` for the bus itself.
        owner: the plugin name, or ``None`` for the application's handlers.
        handler: the handler's qualified name (``"<stream>"`` for streams).
        kind: ``"pipe"``, ``"listener"``, ``"hook"`` or ``"stream"``.
        event_type: the subscribed class.
        calls: handler calls that ended (returned, raised or timed out);
            for streams, events taken from the queue.
        rejected: pipe calls that raised ``Rejected`` (a decision, not a failure).
        failures: calls that raised (pipes returning a non-event included).
        timeouts: calls stopped by their time limit.
        drops: events dropped because the queue was full (``overflow="drop"``).
        lost: events queued but never delivered (the bus gave up draining).
        seconds: time spent in the handler, in seconds. Pipes are timed on
            one emit in 16 per event type (a clock read costs as much as an
            empty pipe) and scaled to all calls; exact while an instrument
            is added. Listeners and hooks are timed on every call.
        queued: events waiting in the queue now (hooks and streams).
    """

    scope: str | None
    owner: str | None
    handler: str
    kind: Kind
    event_type: type
    calls: int
    rejected: int
    failures: int
    timeouts: int
    drops: int
    lost: int
    seconds: float
    queued: int


def snapshot(sub: Subscription[Any]) -> SubscriptionStats:
    handler = (
        "<stream>"
        if sub.handler is None
        else getattr(sub.handler, "__qualname__", repr(sub.handler))
    )
    receive = sub._receive
    queued = receive.statistics().current_buffer_used if receive is not None else 0
    return SubscriptionStats(
        scope=sub.bus.name,
        owner=sub.owner,
        handler=handler,
        kind=sub.kind,
        event_type=sub.event_type,
        calls=sub.calls,
        rejected=sub.rejected,
        failures=sub.failures,
        timeouts=sub.timeouts,
        drops=sub.drops,
        lost=sub.lost,
        seconds=estimated_seconds(sub),
        queued=queued,
    )
