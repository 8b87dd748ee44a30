"""``BridgeStats``: what a bridge has done so far, as one frozen record."""

from __future__ import annotations

from typing import final

import attrs

__all__ = ["BridgeStats", "Counters"]


@attrs.frozen
class BridgeStats:
    """Counts since the bridge started (``RedisBridge.stats()``).

    Attributes:
        forwarded: Events written to a stream (XADD acknowledged by Redis).
        not_forwarded: Events given up: Redis refused them (not a connection
            problem), or they were still queued when the bridge stopped and
            Redis did not answer within ``drain_timeout``.
        received: Entries emitted locally and acknowledged.
        rejected: Entries whose emit a pipe rejected (acknowledged: a decision).
        skipped: Entries acknowledged without an emit: this bridge's own
            events, and names that ``receive`` does not match.
        failed: Emits that raised; the entry stays pending and is delivered again.
        dead_lettered: Entries moved to the dead-letter stream.
        claimed: Entries taken over with XAUTOCLAIM (from a dead consumer, or
            this one's own failures).
        trimmed: Pending entries that ``maxlen`` trimmed away before they were
            handled: lost, and logged as such.
        reconnects: Times the connection came back after Redis went away.
    """

    forwarded: int = 0
    not_forwarded: int = 0
    received: int = 0
    rejected: int = 0
    skipped: int = 0
    failed: int = 0
    dead_lettered: int = 0
    claimed: int = 0
    trimmed: int = 0
    reconnects: int = 0


# Resolve the string annotations now, against this module: the package re-labels
# the class as eventbus.bridges.redis.BridgeStats, where cattrs would look them up.
attrs.resolve_types(BridgeStats)


@final
class Counters:
    """The mutable counts behind :class:`BridgeStats`."""

    __slots__ = (
        "claimed",
        "dead_lettered",
        "failed",
        "forwarded",
        "not_forwarded",
        "received",
        "rejected",
        "skipped",
        "trimmed",
    )

    def __init__(self) -> None:
        self.forwarded = 0
        self.not_forwarded = 0
        self.received = 0
        self.rejected = 0
        self.skipped = 0
        self.failed = 0
        self.dead_lettered = 0
        self.claimed = 0
        self.trimmed = 0

    def snapshot(self, reconnects: int) -> BridgeStats:
        return BridgeStats(
            forwarded=self.forwarded,
            not_forwarded=self.not_forwarded,
            received=self.received,
            rejected=self.rejected,
            skipped=self.skipped,
            failed=self.failed,
            dead_lettered=self.dead_lettered,
            claimed=self.claimed,
            trimmed=self.trimmed,
            reconnects=reconnects,
        )
