"""``Delivery`` and ``current_delivery()``: which stream entry is being handled.

The reader emits each remote event inside a context that holds its
``Delivery``. Pipes run in the emitting task and listeners in tasks it starts,
so both see it through :func:`current_delivery`; hooks and ``emit_soon`` work
queued elsewhere do not (they run in the bus's own tasks). Events emitted
while handling an entry (a listener's follow-up emit) run in the same
context, so their handlers see the delivery they are part of.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Protocol, final

import attrs

__all__ = ["Delivery", "Handling", "current_delivery", "handling"]


@attrs.frozen
class Delivery:
    """One delivery of one stream entry to this process.

    ``(stream, id)`` identifies the entry: the key to deduplicate on, since
    an entry is delivered at least once and sometimes more.

    Attributes:
        stream: The stream the entry was read from.
        id: The entry's stream id (``"1718000000000-0"``).
        name: The event's wire name.
        origin: The id of the bridge that forwarded it.
        group: The consumer group it was read in.
        consumer: The consumer (this process) it was delivered to.
        deliveries: How many times it has been delivered, this time included
            (1 the first time; more after a failure or a dead consumer).
    """

    stream: str
    id: str
    name: str
    origin: str
    group: str
    consumer: str
    deliveries: int = 1


# Resolve the string annotations now, against this module: the package re-labels
# the class as eventbus.bridges.redis.Delivery, where cattrs would look them up.
attrs.resolve_types(Delivery)


class _Source(Protocol):
    """Where an entry was read: the reader (its stream, group and consumer)."""

    stream: str
    group: str
    consumer: str


@final
class Handling:
    """The reader's state for one emit of a remote event (mutable, internal).

    Holds what the reader has at hand, as it has it (the id and the origin
    as bytes); the :class:`Delivery` is built on first use: most handlers
    never ask.
    """

    __slots__ = (
        "_delivery",
        "deliveries",
        "entry_id",
        "event_type",
        "marked",
        "name",
        "origin",
        "source",
    )

    def __init__(
        self,
        source: _Source,
        entry_id: bytes,
        name: str,
        origin: bytes | str,
        deliveries: int,
        event_type: type,
    ) -> None:
        self.source = source
        self.entry_id = entry_id
        self.name = name
        self.origin = origin
        self.deliveries = deliveries
        self.event_type = event_type
        self._delivery: Delivery | None = None
        # Set by the forwarder's last pipe once it has seen the remote event
        # come out of the pipe chain (see _forward.Forwarder.mark_remote).
        self.marked = False

    @property
    def delivery(self) -> Delivery:
        if self._delivery is None:
            source, origin = self.source, self.origin
            self._delivery = Delivery(
                source.stream,
                self.entry_id.decode(),
                self.name,
                origin.decode() if isinstance(origin, bytes) else origin,
                source.group,
                source.consumer,
                self.deliveries,
            )
        return self._delivery


handling: ContextVar[Handling | None] = ContextVar("eventbus.bridges.redis.delivery", default=None)


def current_delivery() -> Delivery | None:
    """The stream entry whose handling the current task is part of, or None.

    Set while the bridge emits a remote event: its pipes and listeners (and
    the handlers of events they emit in turn) see it; code outside such an
    emit sees None.
    """
    state = handling.get()
    return None if state is None else state.delivery
