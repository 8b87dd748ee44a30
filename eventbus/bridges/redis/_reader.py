"""Receiving: one consumer-group reader per stream, at-least-once.

The loop, per stream::

    every claim_idle / 2:  XAUTOCLAIM idle entries (dead consumers', our own
                           failures), their delivery counts from XPENDING
    XREADGROUP GROUP g c COUNT batch BLOCK block STREAMS s >
    for each entry, in order:
        own origin, or a name `receive` does not match  -> acknowledge, skip
        undecodable (unknown name, bad data, version)    -> dead letter
        delivered more than max_deliveries times         -> dead letter
        else emit locally (pipes, hooks queued, listeners awaited):
            succeeded, or a pipe rejected it             -> acknowledge
            raised                                       -> stays pending
                (dead letter at once if this was delivery max_deliveries)
    XACK the acknowledged ids (one command per batch)

Nothing is acknowledged before its emit returned. Acknowledgements that could
not be sent (Redis went away) are kept and sent after the reconnect; until
then the entries stay pending, and may be delivered again: at least once.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, final

import trio

import eventbus

from ._codec import F_NAME, F_ORIGIN, F_VERSION, DecodeError
from ._codec import VERSION_BYTES as VERSION
from ._delivery import Handling, handling
from ._link import Backoff, Link, transient_errors
from ._registry import matches

if TYPE_CHECKING:
    import logging

    from ._codec import Codec
    from ._options import RedisOptions
    from ._stats import Counters

__all__ = ["Reader"]

#: XAUTOCLAIM rounds per sweep (each up to ``batch`` entries), so that a huge
#: backlog of abandoned entries does not starve new ones.
_CLAIM_ROUNDS: Final = 10
#: Last failures remembered per entry id, for the dead-letter reason.
_ERRORS_KEPT: Final = 10_000

#: Per wire name: the name, and its decoder (None: not received here, skipped).
_Kind = tuple[str, Callable[[Any], object] | None]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _describe(exc: BaseException) -> str:
    """``Type: message``; for a group (``ListenerError``) its leaves too."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, BaseExceptionGroup):
        text += " [" + "; ".join(_describe(leaf) for leaf in exc.exceptions) + "]"
    return text


@final
class Reader:
    """Reads one stream in the bridge's group and emits what it reads."""

    __slots__ = (
        "_acks",
        "_block",
        "_bus",
        "_claim_every",
        "_codec",
        "_counters",
        "_dead",
        "_errors",
        "_generation",
        "_kinds",
        "_link",
        "_log",
        "_origin_bytes",
        "_prepare",
        "_prepared",
        "_stopping",
        "_wait_scope",
        "consumer",
        "done",
        "group",
        "options",
        "origin",
        "stream",
    )

    def __init__(
        self,
        *,
        bus: eventbus.Bus,
        stream: str,
        options: RedisOptions,
        codec: Codec,
        consumer: str,
        origin: str,
        link: Link,
        log: logging.Logger,
        counters: Counters,
        prepare: Callable[[type], None],
    ) -> None:
        self._bus = bus
        self.stream = stream
        self.options = options
        self.group = options.group
        self.consumer = consumer
        self.origin = origin
        self._codec = codec
        self._link = link
        self._log = log
        self._counters = counters
        self._prepare = prepare
        self._prepared: set[type] = set()
        self._origin_bytes = origin.encode()
        # Per raw wire name seen: skip its entries, or their decoder; valid
        # while the registry's generation stays the same.
        self._kinds: dict[bytes, _Kind] = {}
        self._generation = -1
        self._dead = options.dead_letter_for(stream)
        self._block = options.block
        # Sweep twice per claim_idle, so an abandoned entry waits at most 1.5x.
        self._claim_every = options.claim_idle / 2
        self._acks: list[bytes] = []
        self._errors: dict[bytes, str] = {}
        self._stopping = False
        self._wait_scope: trio.CancelScope | None = None
        #: Set when :meth:`run` has returned.
        self.done = trio.Event()

    # -- group -----------------------------------------------------------------------------

    async def create_group(self, client: Any, start: str = "$") -> None:  # noqa: ASYNC910 - xgroup_create is awaited; BUSYGROUP is its answer
        """Create the consumer group (and the stream) unless it exists.

        ``start="$"``: a new group sees the entries added from now on.
        """
        from coredis.exceptions import StreamDuplicateConsumerGroupError

        try:
            await client.xgroup_create(self.stream, self.group, identifier=start, mkstream=True)
        except StreamDuplicateConsumerGroupError:
            pass  # BUSYGROUP: it exists, which is all we need
        else:
            self._log.info(
                "created consumer group %r on stream %r (from %s)",
                self.group,
                self.stream,
                "its new entries" if start == "$" else "its first entry",
            )

    # -- the loop --------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the entry being handled, send the acknowledgements, return."""
        self._stopping = True
        if self._wait_scope is not None:
            self._wait_scope.cancel()

    async def run(self, client: Any) -> None:  # noqa: ASYNC910 - every round awaits Redis
        """Read, claim and handle until :meth:`stop`; reconnect when Redis goes away."""
        from coredis.exceptions import RedisError, StreamConsumerGroupError, UnblockedError

        transient = transient_errors()
        backoff = Backoff()
        next_claim = -math.inf
        recreate = False
        try:
            while not self._stopping:
                try:
                    await self._flush_acks(client)
                    if recreate:
                        await self.create_group(client, "0")
                        recreate = False
                    while not self._stopping:
                        if trio.current_time() >= next_claim:
                            await self._claim(client)
                            next_claim = trio.current_time() + self._claim_every
                            continue
                        wait = min(self._block, next_claim - trio.current_time())
                        entries = await self._read(client, wait)
                        self._link.ok()
                        backoff.reset()
                        if entries:
                            await self._handle(client, entries, None)
                        await self._flush_acks(client)
                except transient as exc:
                    delay = backoff.next()
                    self._link.failed(exc, f"reading stream {self.stream!r}", delay)
                    with self._waiting():
                        await trio.sleep(delay)
                except (StreamConsumerGroupError, UnblockedError) as exc:
                    # NOGROUP, or UNBLOCKED (a blocked read whose stream was
                    # deleted): the stream or the group vanished. Redis restarted
                    # without persistence, or someone deleted them. Read the new
                    # stream from its start: what was added since is not missed.
                    self._log.warning(
                        "consumer group %r of stream %r is gone (%s); creating it again "
                        "from the stream's first entry",
                        self.group,
                        self.stream,
                        str(exc),
                    )
                    recreate = True
                except RedisError as exc:
                    # Redis answers, and refuses (out of memory, a key of the
                    # wrong type, no permission): log it, and retry rather than
                    # stop receiving for good; it may clear.
                    delay = backoff.next()
                    self._log.error(
                        "Redis refused a command on stream %r (%s: %s); retrying in %.2f s",
                        self.stream,
                        type(exc).__name__,
                        str(exc),
                        delay,
                    )
                    with self._waiting():
                        await trio.sleep(delay)
            try:
                await self._flush_acks(client)
            except transient as exc:
                self._log.warning(
                    "stopping while Redis is away (%s): %d handled entries of stream %r "
                    "stay unacknowledged and will be delivered again",
                    str(exc),
                    len(self._acks),
                    self.stream,
                )
        finally:
            self.done.set()

    @contextlib.contextmanager
    def _waiting(self) -> Iterator[None]:
        """A wait that :meth:`stop` cuts short (a blocking read, a backoff)."""
        with trio.CancelScope() as scope:
            self._wait_scope = scope
            if self._stopping:
                scope.cancel()
            try:
                yield
            finally:
                self._wait_scope = None

    async def _read(self, client: Any, wait: float) -> Sequence[Any]:
        """XREADGROUP of new entries; empty when none came within ``wait`` s or on stop."""
        reply = None
        with self._waiting():
            reply = await client.xreadgroup(
                self.group,
                self.consumer,
                {self.stream: ">"},
                count=self.options.batch,
                block=max(1, round(wait * 1000)),
            )
        if not reply:
            return ()
        entries: Sequence[Any] = next(iter(reply.values()))
        return entries

    async def _flush_acks(self, client: Any) -> None:
        """XACK what was handled; kept for the next attempt if Redis is away."""
        if not self._acks:
            await trio.lowlevel.checkpoint()
            return
        ids = list(self._acks)
        await client.xack(self.stream, self.group, ids)
        del self._acks[: len(ids)]

    # -- claiming --------------------------------------------------------------------------

    async def _claim(self, client: Any) -> None:  # noqa: ASYNC910 - runs at least one awaited XAUTOCLAIM
        """Take over entries pending longer than ``claim_idle`` and handle them."""
        idle = max(1, round(self.options.claim_idle * 1000))
        start: bytes | str = "0-0"
        for _ in range(_CLAIM_ROUNDS):
            reply = await client.xautoclaim(
                self.stream, self.group, self.consumer, idle, start, count=self.options.batch
            )
            start, entries = reply[0], reply[1]
            deleted = reply[2] if len(reply) > 2 else ()
            if deleted:
                self._counters.trimmed += len(deleted)
                self._log.error(
                    "%d pending entries of stream %r were trimmed away before anyone "
                    "handled them (ids %s); they are lost: raise maxlen, or add consumers",
                    len(deleted),
                    self.stream,
                    ", ".join(_text(i) for i in deleted[:5]) + (" ..." if len(deleted) > 5 else ""),
                )
            if entries:
                self._counters.claimed += len(entries)
                counts = await self._delivery_counts(client, entries)
                await self._handle(client, entries, counts)
                await self._flush_acks(client)
            if self._stopping or _text(start) == "0-0":
                return

    async def _delivery_counts(self, client: Any, entries: Sequence[Any]) -> dict[bytes, int]:
        """How often each claimed entry has been delivered (XPENDING, one per id)."""
        async with client.pipeline(transaction=False) as pipe:
            requests = [
                pipe.xpending(
                    self.stream,
                    self.group,
                    start=entry.identifier,
                    end=entry.identifier,
                    count=1,
                    consumer=self.consumer,
                )
                for entry in entries
            ]
        counts: dict[bytes, int] = {}
        for request in requests:
            for pending in await request:
                counts[pending.identifier] = pending.delivered
        return counts

    # -- handling --------------------------------------------------------------------------

    def _kind(self, raw: object, name: str) -> _Kind:
        """What to do with entries of wire name ``name``: skip them, or decode them.

        Remembered under the entry's raw name while the registry stays the
        same, except for names no class is known for yet (a module imported
        later makes them known).
        """
        if not matches(name, self.options.receive):
            kind: _Kind = (name, None)
        else:
            cls = self._codec.registry.get(name)
            if cls is None:

                def unknown(fields: Any) -> object:
                    # The codec's message (unknown name, and what to do about it),
                    # unless the class was imported meanwhile.
                    return self._codec.event(name, fields)

                return (name, unknown)
            kind = (name, self._codec.decoder(cls))
        if isinstance(raw, bytes):
            self._kinds[raw] = kind
        return kind

    async def _handle(  # noqa: ASYNC910 - the caller's XREADGROUP / XAUTOCLAIM was the checkpoint
        self, client: Any, entries: Sequence[Any], counts: dict[bytes, int] | None
    ) -> None:
        """Handle entries in order; ``counts`` (claimed entries) gives delivery counts.

        The loop is the bridge's receiving hot path: one flat pass per entry,
        with what can be looked up once per wire name (whether it is received,
        its decoder) looked up once.
        """
        codec = self._codec
        kinds = self._kinds
        if self._generation != codec.registry.generation:
            kinds.clear()
            self._generation = codec.registry.generation
        own = self._origin_bytes
        limit = self.options.max_deliveries
        acks = self._acks
        counters = self._counters
        # Each emit is a cancellation point; the XACK after the batch is its
        # schedule point (see Bus._emit_in_batch).
        emit = self._bus._emit_in_batch
        for entry in entries:
            if self._stopping:
                # The rest stays pending: claimed after claim_idle.
                return  # noqa: ASYNC910 - the caller's XREADGROUP / XAUTOCLAIM was the checkpoint
            entry_id: bytes = entry.identifier
            fields = entry.field_values
            if counts is None:
                deliveries = 1
            else:
                found = counts.get(entry_id)
                if found is None:
                    continue  # acknowledged (or claimed) elsewhere meanwhile
                deliveries = found
            # An entry of this schema version whose name was seen before and
            # whose origin is ASCII (as every bridge writes it): the envelope
            # is taken as it is, bytes. Anything else goes through the
            # codec's full check of the envelope.
            origin = fields.get(F_ORIGIN)
            kind = kinds.get(fields.get(F_NAME)) if fields.get(F_VERSION) == VERSION else None
            if kind is None or origin.__class__ is not bytes or not origin.isascii():
                try:
                    header = codec.header(fields)
                except DecodeError as exc:
                    await self._dead_letter(client, entry_id, fields, exc.reason, deliveries)
                    continue
                kind = self._kind(fields[F_NAME], header.name)
                origin = header.origin
                echo = origin == self.origin
            else:
                echo = origin == own
            name, decode = kind
            if echo or decode is None:
                counters.skipped += 1
                acks.append(entry_id)
                continue
            if deliveries > limit:
                last = self._errors.pop(entry_id, None) or (
                    "unknown here: the consumer that had it stopped or died before acknowledging it"
                )
                reason = (
                    f"delivered {deliveries - 1} times without being acknowledged "
                    f"(max_deliveries={limit}); last failure: {last}"
                )
                await self._dead_letter(client, entry_id, fields, reason, deliveries)
                continue
            try:
                event = decode(fields)
            except DecodeError as exc:
                await self._dead_letter(client, entry_id, fields, exc.reason, deliveries)
                continue
            cls = event.__class__
            if cls not in self._prepared:
                self._prepare(cls)
                self._prepared.add(cls)
            failure: Exception | None = None
            token = handling.set(Handling(self, entry_id, name, origin, deliveries, cls))
            try:
                await emit(event)
            except Exception as exc:
                failure = exc
            finally:
                handling.reset(token)
            if failure is None:
                counters.received += 1
                if self._errors:
                    self._errors.pop(entry_id, None)
                acks.append(entry_id)
            elif not await self._failed(client, entry_id, fields, name, deliveries, failure):
                return

    async def _failed(  # noqa: ASYNC910 - the emit that raised was the checkpoint
        self,
        client: Any,
        entry_id: bytes,
        fields: Any,
        name: str,
        deliveries: int,
        exc: Exception,
    ) -> bool:
        """After an emit raised: acknowledge, keep pending or dead-letter; False to stop."""
        if isinstance(exc, eventbus.Rejected):
            self._log.debug(
                "entry %s of %r (%s) rejected: %s", _text(entry_id), self.stream, name, exc
            )
            self._counters.rejected += 1
            self._errors.pop(entry_id, None)
            self._acks.append(entry_id)
            return True  # noqa: ASYNC910 - the emit that raised was the checkpoint
        if isinstance(exc, eventbus.BusClosed):
            self._stopping = True
            return False  # noqa: ASYNC910 - the emit that raised was the checkpoint
        limit = self.options.max_deliveries
        self._counters.failed += 1
        reason = _describe(exc)
        if deliveries >= limit:
            await self._dead_letter(
                client,
                entry_id,
                fields,
                f"handling failed on delivery {deliveries} of max_deliveries={limit}: {reason}",
                deliveries,
            )
            return True
        if len(self._errors) >= _ERRORS_KEPT:
            del self._errors[next(iter(self._errors))]
        self._errors[entry_id] = reason
        self._log.error(
            "handling %s (entry %s of stream %r, delivery %d of %d) failed; it stays "
            "pending and is delivered again after claim_idle=%g s",
            name,
            _text(entry_id),
            self.stream,
            deliveries,
            limit,
            self.options.claim_idle,
            exc_info=exc,
        )
        return True  # noqa: ASYNC910 - the emit that raised was the checkpoint

    async def _dead_letter(
        self, client: Any, entry_id: bytes, fields: Any, reason: str, deliveries: int
    ) -> None:
        """Copy the entry, with the reason, to the dead-letter stream; then acknowledge it."""
        record = dict(fields)
        record.update(
            {
                b"reason": reason.encode(),
                b"stream": self.stream.encode(),
                b"id": entry_id,
                b"group": self.group.encode(),
                b"consumer": self.consumer.encode(),
                b"deliveries": str(deliveries).encode(),
            }
        )
        # The copy first; only once Redis took it is the entry acknowledged (a
        # pipeline would acknowledge it even when the XADD is refused).
        await client.xadd(self._dead, record)
        self._acks.append(entry_id)
        self._errors.pop(entry_id, None)
        self._counters.dead_lettered += 1
        self._log.warning(
            "entry %s of stream %r moved to dead-letter stream %r: %s",
            _text(entry_id),
            self.stream,
            self._dead,
            reason,
        )

    # -- leaving ---------------------------------------------------------------------------

    async def leave(self, client: Any) -> None:
        """Delete this consumer from the group if it holds no pending entries.

        Deleting a consumer drops its pending entries, so one that still has
        some stays (another consumer claims them after ``claim_idle``).
        """
        summary = await client.xpending(self.stream, self.group)
        if summary.consumers.get(self.consumer.encode(), 0) == 0:
            await client.xgroup_delconsumer(self.stream, self.group, self.consumer)
        else:
            self._log.info(
                "consumer %r keeps %d pending entries of stream %r; another consumer "
                "claims them after claim_idle=%g s",
                self.consumer,
                summary.consumers[self.consumer.encode()],
                self.stream,
                self.options.claim_idle,
            )
