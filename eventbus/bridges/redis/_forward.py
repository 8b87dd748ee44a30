"""Forwarding: a hook takes local events, a flusher writes them with pipelined XADDs.

::

    emit ──> hook queue (capacity, "wait") ──> Forwarder.forward ──> buffer
                                                                      │ a batch
                              Redis <── XADD ... XADD (one pipeline) <── Forwarder.run

The hook encodes each event into a buffer and hands the buffer over as one
batch when it holds ``batch`` entries or when the hook's queue is empty (the
end of a burst): a lone event goes at once, and no task switch is spent per
event. One batch waits while another is written; a third makes the hook wait.
Meanwhile the emitters fill the hook's queue, which the hook then goes
through in full batches: under load the pipelines are full ones. When that
queue is full too, emitters of forwarded types wait (``overflow="wait"``):
that is the backpressure while Redis is slow or away, and nothing is lost.

Remote events are not forwarded again. The reader emits each one inside a
context (``_delivery.handling``); a plain-function pipe that runs last in the
chain of every type the bridge both receives and forwards (:meth:`mark_remote`)
sees the event as the pipes left it, in the reader's task, before any hook
gets it, and remembers that object; the hook then skips exactly that object.
Events emitted by a listener while it handles a remote event are new local
events, and are forwarded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

import trio

import eventbus

from ._delivery import handling
from ._link import Backoff, Link, transient_errors
from ._registry import matches

if TYPE_CHECKING:
    import logging

    from ._codec import Codec
    from ._options import RedisOptions
    from ._stats import Counters

__all__ = ["Forwarder"]

E = TypeVar("E")

Entry = tuple[str, dict[bytes, bytes]]
#: Where the events of a class go, and their encoder (None: not forwarded).
Target = tuple[str, Callable[[Any], dict[bytes, bytes]]] | None

#: Remote events remembered beyond the hook's capacity before the oldest is
#: forgotten (one whose emit was cancelled between the pipes and the hook).
_REMOTE_SLACK: Final = 1024


@final
class Forwarder:
    """The forwarding hook, the last-pipe marker of remote events, and the flusher."""

    __slots__ = (
        "_batch",
        "_buffer",
        "_codec",
        "_counters",
        "_link",
        "_log",
        "_origin",
        "_patterns",
        "_receive",
        "_remote",
        "_remote_limit",
        "_routes",
        "_send",
        "_targets",
        "_trim",
        "done",
        "handed",
        "hook",
        "options",
        "waiting",
    )

    def __init__(
        self,
        options: RedisOptions,
        codec: Codec,
        origin: str,
        link: Link,
        log: logging.Logger,
        counters: Counters,
        capacity: int,
    ) -> None:
        self.options = options
        self._codec = codec
        self._origin = origin.encode()
        self._link = link
        self._log = log
        self._counters = counters
        self._batch = options.batch
        self._patterns = options.forward
        self._routes: dict[type, str | None] = {}
        self._targets: dict[type, Target] = {}
        self._remote: dict[int, object] = {}
        self._remote_limit = capacity + _REMOTE_SLACK
        self._buffer: list[Entry] = []
        # One batch waits here while the flusher writes the previous one.
        self._send, self._receive = trio.open_memory_channel[list[Entry]](1)
        self._trim: dict[str, Any] = {}
        if options.maxlen is not None:
            from coredis import PureToken

            self._trim = {
                "trim_strategy": PureToken.MAXLEN,
                "trim_operator": PureToken.APPROXIMATELY,
                "threshold": options.maxlen,
            }
        #: Entries handed to the flusher and not yet written.
        self.handed = 0
        #: Whether the hook waits to hand a batch over (the event it holds is
        #: in that batch, and still counted as pending by its queue).
        self.waiting = False
        #: The forwarding hook's subscription (its queue depth ends a batch).
        self.hook: eventbus.Subscription[Any] | None = None
        #: Set when :meth:`run` has returned.
        self.done = trio.Event()

    # -- which events go where -----------------------------------------------------------

    def route(self, cls: type) -> str | None:
        """The stream events of class ``cls`` go to, or None if they are not forwarded."""
        try:
            return self._routes[cls]
        except KeyError:
            pass
        name = eventbus.wire_name(cls)
        stream = self.options.stream_for(name) if matches(name, self._patterns) else None
        self._routes[cls] = stream
        return stream

    def _target(self, cls: type) -> Target:
        """:meth:`route`, and the class's encoder (the codec's per-class work done once)."""
        stream = self.route(cls)
        target = None if stream is None else (stream, self._codec.encoder(cls, self._origin))
        self._targets[cls] = target
        return target

    # -- the hook and the marker ---------------------------------------------------------

    async def forward(self, event: object) -> None:  # noqa: ASYNC910 - a hook: its worker's receive is the schedule point
        """The hook: encode a local event; hand the buffer over at a burst's end."""
        buffer = self._buffer
        failure: Exception | None = None
        remote = self._remote
        if not (remote and remote.pop(id(event), None) is event):
            # (An event that came from Redis is never sent back.)
            cls = type(event)
            targets = self._targets
            try:
                target = targets[cls] if cls in targets else self._target(cls)
                if target is not None:
                    stream, encode = target
                    buffer.append((stream, encode(event)))
            except Exception as exc:  # reported by the bus as this hook's failure
                failure = exc
        # A batch is full, or the event being handled is the last one queued
        # (the end of a burst): hand the buffer over.
        if buffer and (len(buffer) >= self._batch or self.hook is None or self.hook.pending <= 1):
            await self._hand_over()
        if failure is not None:
            raise failure

    async def _hand_over(self) -> None:  # noqa: ASYNC910 - waits only when the flusher is behind
        batch, self._buffer = self._buffer, []
        self.handed += len(batch)
        try:
            try:
                self._send.send_nowait(batch)
            except trio.WouldBlock:
                self.waiting = True
                try:
                    await self._send.send(batch)
                finally:
                    self.waiting = False
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            # The bridge stopped and gave up on what was still queued; it
            # counted and logged those events once.
            self.handed -= len(batch)

    def mark_remote(self, event: E) -> E:
        """The last pipe of a received type: remember the remote event as piped."""
        state = handling.get()
        if state is not None and not state.marked and isinstance(event, state.event_type):
            state.marked = True
            remote = self._remote
            remote[id(event)] = event  # the reference keeps the id from being reused
            if len(remote) > self._remote_limit:
                del remote[next(iter(remote))]
        return event

    # -- the flusher ---------------------------------------------------------------------

    async def close(self) -> None:
        """No more events: hand over the buffer; the flusher writes it, then returns."""
        if self._buffer:
            await self._hand_over()
        else:
            await trio.lowlevel.checkpoint()
        self._send.close()

    def queued(self) -> int:
        """Events the hook took, or still holds in its queue, not yet written to Redis."""
        pending = self.hook.pending if self.hook is not None else 0
        return len(self._buffer) + self.handed + pending - self.waiting

    async def run(self, client: Any) -> None:
        """Write the batches handed over, one pipeline each, until :meth:`close`."""
        try:
            async with self._receive:
                async for batch in self._receive:
                    try:
                        await self._write(client, batch)
                    finally:
                        self.handed -= len(batch)
        finally:
            self.done.set()

    async def _write(self, client: Any, batch: list[Entry]) -> None:
        """One pipeline of XADDs; retried with backoff while Redis is away."""
        from coredis.exceptions import RedisError

        transient = transient_errors()
        backoff = Backoff()
        trim = self._trim
        while True:
            try:
                async with client.pipeline(transaction=False) as pipe:
                    for stream, fields in batch:
                        pipe.xadd(stream, fields, **trim)
            except transient as exc:
                delay = backoff.next()
                self._link.failed(exc, f"forwarding {len(batch)} events", delay)
                await trio.sleep(delay)
                continue
            except RedisError as exc:
                # Not a connection problem (a key of the wrong type, out of
                # memory with noeviction...): retrying the same batch would
                # block every emitter forever.
                self._counters.not_forwarded += len(batch)
                self._log.error(
                    "Redis refused %d forwarded events (%s: %s); they are dropped",
                    len(batch),
                    type(exc).__name__,
                    str(exc),
                )
                return  # noqa: ASYNC910 - the pipeline's commands were awaited
            self._link.ok()
            self._counters.forwarded += len(batch)
            return  # noqa: ASYNC910 - the pipeline's commands were awaited
