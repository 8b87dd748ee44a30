"""``RedisBridge``: the plugin that joins a bus to Redis Streams.

An ordinary ``eventbus.Plugin``: its options come from ``[plugins.NAME]``,
and its ``lifespan`` holds everything it runs::

    lifespan
    └── coredis client (async with: its connection pool's task group)
        ├── consumer groups created (start fails if Redis does not answer)
        └── nursery
            ├── Forwarder.run           pipelined XADDs
            ├── Reader.run, per stream  XREADGROUP / XAUTOCLAIM / XACK
            ├── hook on the forwarded types  ──> Forwarder.forward
            └── last pipe on the received and forwarded types ──> mark_remote

Stopping goes in the order that loses nothing it can keep: the readers finish
the entry at hand and send their acknowledgements; the hook is removed and its
queue drained into Redis (up to the bus's ``drain_timeout``); consumers with
no pending entries leave their group; the client closes.

Only the public ``eventbus`` API is used, as any third-party plugin would.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

import trio

import eventbus

from ._codec import Codec
from ._forward import Forwarder
from ._link import Link, transient_errors
from ._options import RedisOptions
from ._reader import Reader
from ._registry import EventRegistry, is_pattern
from ._stats import BridgeStats, Counters

if TYPE_CHECKING:
    import cattrs

__all__ = ["RedisBridge"]

#: The remote-event marker runs after every other pipe.
_LAST: Final = sys.maxsize
#: How often a stopping bridge looks whether its hook queue has drained.
_DRAIN_POLL: Final = 0.005
#: Bound on leaving the groups at stop (Redis may be away by then).
_LEAVE_TIMEOUT: Final = 2.0


def _import_coredis() -> Any:
    try:
        import coredis
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "the Redis bridge needs coredis: pip install 'trio-eventbus[redis]'"
        ) from exc
    return coredis


def _split_password(url: str) -> tuple[str, str | None]:
    """``(url without its password, the password)``: coredis lets a URL's win."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    host = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host)), parts.password


def _common_base(types: Iterable[type]) -> type:
    """The most specific class every one of ``types`` derives from."""
    chosen = list(types)
    for candidate in chosen[0].__mro__:
        if all(issubclass(cls, candidate) for cls in chosen):
            return candidate
    return object  # pragma: no cover - object is in every MRO


def _resolve_source(source: str | None) -> object:
    """The object a ``PluginInfo.source`` points to, if its module is imported."""
    if not source:
        return None
    path = source.rsplit(" = ", 1)[-1]  # "eventbus.plugins:NAME = mod:attr"
    module_name, _, attr = path.partition(":")
    obj: object = sys.modules.get(module_name.strip())
    for part in attr.strip().split(".") if attr else ():
        obj = getattr(obj, part, None)
    return obj


class RedisBridge(eventbus.Plugin):
    """Forwards chosen event types to Redis Streams and emits what others forwarded.

    In a configuration file::

        [plugins.bridge]
        path = "eventbus.bridges.redis:RedisBridge"
        url = "redis://127.0.0.1:6379/0"
        forward = ["shop.events.*"]
        receive = ["shop.events.*"]
        group = "billing"

    In code: ``open_bus(plugins=[RedisBridge(RedisOptions(...), types=[...])])``.

    Args:
        options: The options (default: all defaults, which forward and receive
            nothing).
        types: Event classes to register for decoding, besides those found by
            wire name (see :class:`EventRegistry`).
        converter: A cattrs converter for the events (default: JSON-ready
            ``cattrs.preconf.json`` plus UUID and Decimal).

    Raises:
        ImportError: A module named in ``options.imports`` cannot be imported.
        ValueError: Two registered classes share a wire name.
    """

    Options = RedisOptions

    def __init__(
        self,
        options: RedisOptions | None = None,
        *,
        types: Iterable[type] = (),
        converter: cattrs.Converter | None = None,
    ) -> None:
        options = options if options is not None else RedisOptions()
        if not isinstance(options, RedisOptions):
            raise TypeError(f"RedisBridge takes a RedisOptions, got {options!r}")
        super().__init__(options)
        self.options: RedisOptions = options
        self.registry = EventRegistry(types)
        for spec in options.imports:
            self.registry.load(spec)
        for name in (*options.forward, *options.receive):
            if not is_pattern(name):
                self.registry.load_name(name)
        self.codec = Codec(self.registry, converter)
        #: This process's consumer name in the group.
        self.consumer = options.consumer_name()
        #: Written into every forwarded entry; entries carrying it are not
        #: emitted here again (no echo). Unique per bridge instance.
        self.origin = f"{self.consumer}/{secrets.token_hex(4)}"
        self._counters = Counters()
        self._link: Link | None = None

    def _client(self, coredis: Any) -> Any:
        """The coredis client (not connected yet) for ``options.url``."""
        options = self.options
        url, password = _split_password(options.url)
        kwargs: dict[str, Any] = {
            "password": options.password if options.password is not None else password,
            "decode_responses": False,
            # The bridge retries on its own, with backoff and one log line per outage.
            "retry_policy": coredis.retry.NoRetryPolicy(),
            "client_name": f"eventbus:{self.consumer}",
            "connect_timeout": 5.0,
            # A blocked XREADGROUP answers within `block`; past that the
            # server is gone without closing the connection.
            "stream_timeout": options.block + 10.0,
        }
        if not options.cluster:
            return coredis.Redis.from_url(url, **kwargs)
        # The URL names one node; given as a TCPLocation, not coredis'
        # deprecated host/port dict that its from_url would build.
        parts = urlsplit(url)
        node = coredis.connection.TCPLocation(parts.hostname or "127.0.0.1", parts.port or 6379)
        return coredis.RedisCluster.from_url(url, startup_nodes=[node], **kwargs)

    def stats(self) -> BridgeStats:
        """What the bridge has forwarded, received, skipped, dead-lettered so far."""
        reconnects = self._link.reconnects if self._link is not None else 0
        return self._counters.snapshot(reconnects)

    # -- the lifespan ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        """Connect, create the groups, start the tasks and the hook; undo on stop."""
        coredis = _import_coredis()
        options = self.options
        name = self._registered_name(bus)
        log = logging.getLogger(f"eventbus.plugin.{name}")
        where = options.redacted_url()
        link = self._link = Link(log, where)
        client = self._client(coredis)
        capacity = options.capacity or bus.settings.hook_capacity
        forwarder = Forwarder(options, self.codec, self.origin, link, log, self._counters, capacity)
        forwarded = [cls for cls in self.registry.matching(options.forward) if forwarder.route(cls)]
        marked: set[type] = set()
        subscriptions: list[eventbus.Subscription[Any]] = []

        def prepare(cls: type) -> None:
            # Before the first emit of a received type that is also forwarded:
            # the last pipe that tells the hook which object came from Redis.
            if forwarder.route(cls) is None or any(base in marked for base in cls.__mro__):
                return
            marked.add(cls)
            subscriptions.append(
                bus.subscribe(cls, forwarder.mark_remote, kind="pipe", order=_LAST, owner=name)
            )

        readers = [
            Reader(
                bus=bus,
                stream=stream,
                options=options,
                codec=self.codec,
                consumer=self.consumer,
                origin=self.origin,
                link=link,
                log=log,
                counters=self._counters,
                prepare=prepare,
            )
            for stream in (options.streams() if options.receive else ())
        ]
        async with client:
            try:
                for reader in readers:
                    await reader.create_group(client)
                if not readers:
                    await client.ping()
            except transient_errors() as exc:
                raise ConnectionError(
                    f"cannot reach Redis at {where}: {type(exc).__name__}: {exc}"
                ) from exc
            async with trio.open_nursery() as nursery:
                nursery.start_soon(forwarder.run, client)
                for reader in readers:
                    nursery.start_soon(reader.run, client)
                for cls in self.registry.matching(options.receive):
                    prepare(cls)
                hook = None
                if forwarded:
                    base = _common_base(forwarded)
                    hook = bus.subscribe(
                        base,
                        forwarder.forward,
                        kind="hook",
                        owner=name,
                        capacity=capacity,
                        overflow="wait",
                    )
                    forwarder.hook = hook
                    subscriptions.append(hook)
                self._log_start(log, where, forwarded, hook, readers)
                try:
                    yield
                finally:
                    try:
                        # The lifecycle runs a lifespan's exit shielded, bounded
                        # by stop_timeout; after a crash of one of our tasks it
                        # is cancelled, and only the clean-up below matters.
                        await self._stop(client, readers, forwarder, hook, bus, log)  # noqa: ASYNC102
                    finally:
                        for sub in subscriptions:
                            sub.cancel()
                        nursery.cancel_scope.cancel()

    async def _stop(
        self,
        client: Any,
        readers: list[Reader],
        forwarder: Forwarder,
        hook: eventbus.Subscription[Any] | None,
        bus: eventbus.Bus,
        log: logging.Logger,
    ) -> None:
        """Readers first (follow-up events still get forwarded), then the hook."""
        for reader in readers:
            reader.stop()
        for reader in readers:
            await reader.done.wait()
        if hook is not None:
            hook.cancel()
        drain = bus.settings.drain_timeout
        with trio.move_on_after(drain):
            # Subscription.pending: events queued for the hook and not yet
            # handled; the bus has no awaitable for "this hook's queue drained".
            while hook is not None and hook.pending:  # noqa: ASYNC110 - no event to wait on
                await trio.sleep(_DRAIN_POLL)
            await forwarder.close()
            await forwarder.done.wait()
        left = forwarder.queued()
        if left:
            self._counters.not_forwarded += left
            log.error(
                "%d events were not forwarded: Redis did not take them within "
                "drain_timeout=%g s of the bridge stopping",
                left,
                drain,
            )
        with trio.move_on_after(_LEAVE_TIMEOUT):
            for reader in readers:
                try:
                    await reader.leave(client)
                except Exception as exc:  # Redis away: the consumer just stays listed
                    log.debug("could not leave group %r: %s", reader.group, str(exc))
        stats = self.stats()
        log.info(
            "stopped: forwarded %d, received %d, skipped %d, dead-lettered %d, "
            "reconnected %d times",
            stats.forwarded,
            stats.received,
            stats.skipped,
            stats.dead_lettered,
            stats.reconnects,
        )

    def _log_start(
        self,
        log: logging.Logger,
        where: str,
        forwarded: list[type],
        hook: eventbus.Subscription[Any] | None,
        readers: list[Reader],
    ) -> None:
        options = self.options
        if hook is not None:
            base = hook.event_type
            note = ""
            if base is object or base is eventbus.Event:
                note = (
                    "; every other event passes through this hook and is skipped: give the "
                    "forwarded types a base class of their own to spare the others"
                )
            log.info(
                "forwarding %d event types (%s) through a hook on %s%s",
                len(forwarded),
                ", ".join(eventbus.wire_name(cls) for cls in forwarded),
                eventbus.wire_name(base),
                note,
            )
        elif options.forward:
            log.warning(
                "forward = %r matches no event type known here; list the modules that "
                "define them in 'imports'",
                list(options.forward),
            )
        if readers:
            log.info(
                "receiving %s from %s as consumer %r of group %r",
                ", ".join(options.receive),
                ", ".join(repr(r.stream) for r in readers),
                self.consumer,
                options.group,
            )
        log.info("connected to Redis at %s (origin %s)", where, self.origin)

    def _registered_name(self, bus: eventbus.Bus) -> str:
        """The name this plugin runs under (its config table's, its entry point's).

        A plugin is not told its name; ``bus.plugins`` lists it while it
        starts, as the first record pointing at this class that is neither
        running nor finished (plugins start one at a time, in that order).
        """
        cls = type(self)
        for info in bus.plugins:
            if info.state in ("running", "stopped", "disabled") or info.error is not None:
                continue
            if _resolve_source(info.source) is cls:
                return info.name
        return self.name or cls.__name__
