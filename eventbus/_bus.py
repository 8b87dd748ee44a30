"""The bus and its scopes: subscribing, emitting, closing.

A :class:`Bus` is one node of a tree: the root made by ``open_bus`` and one
child per ``bus.scope(...)``. Each node owns a nursery (its background tasks:
hook workers and ``emit_soon``), its own subscriptions, and a cache
``event type -> Plan`` cleared whenever a subscription of this node or of an
ancestor changes. The hot path is ``emit``: one dict look-up, then the plan.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar, final

import attrs
import trio
from trio.lowlevel import current_task

from ._dispatch import Entry, Plan, handler_name, hook_worker, running_handler
from ._errors import BusClosed, EmitTimeout, Rejected, WaitTimeout, type_name
from ._instruments import Instruments
from ._ordering import SortKey, order_subscriptions
from ._scope import cancel_node, close_node, own_nursery
from ._stats import SubscriptionStats, snapshot
from ._stream import EventStream
from ._subscription import (
    CALL_ASYNC,
    CALL_GUARDED,
    CALL_SYNC,
    HandlerDecorator,
    Kind,
    Overflow,
    PipeDecorator,
    Subscription,
    check_timeout,
    validate_options,
)

if TYPE_CHECKING:
    from ._lifecycle import PluginInfo

__all__ = ["Bus", "BusSettings", "EventStream"]

logger = logging.getLogger("eventbus")

E = TypeVar("E")
R = TypeVar("R")

# Owners never registered as plugins sort after every plugin.
_UNRANKED = 1 << 30


def _runs_inside(nursery: trio.Nursery) -> bool:
    """Whether the current task was started, at any depth, in ``nursery``."""
    task: trio.lowlevel.Task | None = current_task()
    while task is not None:
        parent = task.parent_nursery
        if parent is None:
            return False
        if parent is nursery:
            return True
        task = parent.parent_task
    return False


@attrs.frozen
class BusSettings:
    """The resolved bus-level settings the core needs (DESIGN section 15)."""

    checkpoint: Literal["full", "cancel"] = "full"
    pipe_timeout: float | None = None
    listener_timeout: float | None = None
    hook_timeout: float | None = None
    drain_timeout: float = 10.0
    hook_capacity: int = 1024


@final
class _Tree:
    """State shared by every node of one bus tree."""

    __slots__ = ("constrained", "instruments", "ranks", "root", "seq", "settings")

    def __init__(self, settings: BusSettings) -> None:
        self.settings = settings
        # Live subscriptions with before=/after= (the only source of cycles).
        self.constrained = 0
        self.ranks: dict[str, int] = {}
        self.seq = 0
        self.instruments: Instruments | None = None
        self.root: Bus | None = None


@final
class Bus:
    """An event bus, or a scope of one (a scope is a ``Bus`` with a parent).

    Made by :func:`eventbus.open_bus` and :meth:`Bus.scope`; not instantiated
    directly.
    """

    __slots__ = (
        "_children",
        "_closed",
        "_closers",
        "_closing",
        "_depth",
        "_drain_spent",
        "_emitting",
        "_fast",
        "_nursery",
        "_owner",
        "_parent",
        "_plans",
        "_plugins",
        "_retired",
        "_scope_timeout",
        "_soon_idle",
        "_soon_lost",
        "_soon_pending",
        "_subs",
        "_tree",
        "_was_cancelled",
        "name",
    )

    def __init__(
        self,
        tree: _Tree,
        nursery: trio.Nursery,
        *,
        parent: Bus | None = None,
        name: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self._tree = tree
        self._nursery = nursery
        self._parent = parent
        self.name = name
        self._depth: int = 0 if parent is None else parent._depth + 1
        # The nearest scope timeout applies to every handler run by an emit here.
        inherited: float | None = parent._scope_timeout if parent is not None else None
        self._scope_timeout: float | None = timeout if timeout is not None else inherited
        self._children: list[Bus] = []
        # Run (in reverse) when the node closes, before it drains: plugin stops.
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._subs: dict[type, list[Subscription[Any]]] = {}
        self._plans: dict[type, Plan] = {}
        # The task whose block the scope is: its emits (and those of tasks it
        # started) run inside the scope's cancel scope already. Emits from
        # other tasks take the guarded path, so closing the scope can cancel
        # them. The root bus has no owner check: it closes when its own
        # block ends, and an emit still running then completes in its task.
        self._owner: trio.lowlevel.Task | None = None if parent is None else current_task()
        self._emitting: set[trio.CancelScope] = set()
        self._closed = False
        self._closing = False
        # False once closing or while instruments are added: emit then takes
        # a path that checks and reports both.
        self._fast = tree.instruments is None
        self._was_cancelled = False
        self._soon_pending = 0
        # Seconds of drain_timeout that settle() used before the plugins
        # stopped; the close's drain gets the rest.
        self._drain_spent = 0.0
        self._soon_lost = 0
        self._soon_idle: trio.Event | None = None
        self._plugins: tuple[PluginInfo, ...] = ()
        # Cancelled hooks whose workers still deliver what was queued.
        self._retired: list[Subscription[Any]] = []

    # -- introspection ---------------------------------------------------

    @property
    def parent(self) -> Bus | None:
        """The bus this scope was opened on; ``None`` for the root bus."""
        return self._parent

    @property
    def closed(self) -> bool:
        """True once the bus or scope has closed (emits raise ``BusClosed``)."""
        return self._closed

    @property
    def plugins(self) -> tuple[PluginInfo, ...]:
        """The plugins of this bus (or scope), in start order."""
        return self._plugins

    @property
    def emit_soon_lost(self) -> int:
        """``emit_soon`` events whose emit had not completed when this bus or
        scope closed (cancelled after ``drain_timeout``, or by a cancel)."""
        return self._soon_lost

    @property
    def settings(self) -> BusSettings:
        """The resolved bus-level settings."""
        return self._tree.settings

    def __repr__(self) -> str:
        what = "Bus" if self._parent is None else f"Bus scope={self.name!r}"
        state = " closed" if self._closed else ""
        return f"<{what}{state}>"

    def _what(self) -> str:
        return "bus" if self._parent is None else f"scope {self.name!r}"

    # -- subscribing -----------------------------------------------------

    def subscribe(
        self,
        event_type: type[E],
        handler: Callable[[E], Any],
        *,
        kind: Literal["pipe", "listener", "hook"] = "listener",
        order: int = 0,
        before: str | Iterable[str] = (),
        after: str | Iterable[str] = (),
        timeout: float | None = None,
        thread: bool = False,
        owner: str | None = None,
        capacity: int | None = None,
        concurrency: int = 1,
        overflow: Overflow = "wait",
    ) -> Subscription[E]:
        """Subscribe ``handler`` to ``event_type`` (and its subclasses).

        Args:
            event_type: the class to receive; subclasses are received too.
            handler: a plain or ``async def`` function taking the event.
            kind: ``"pipe"`` (ordered chain, returns the event),
                ``"listener"`` (concurrent, awaited by the emitter) or
                ``"hook"`` (background delivery through a bounded queue).
            order: lower runs first (ties: scope depth, plugin rank, sequence).
            before: plugin names whose subscriptions this one runs before.
            after: plugin names whose subscriptions this one runs after.
            timeout: seconds per call; ``None`` takes the scope/bus default.
            thread: run a plain function in a worker thread (abandoned on timeout).
            owner: the plugin that owns the subscription, by name.
            capacity: hooks only: queue size (default ``hook_capacity``).
            concurrency: hooks only: number of workers.
            overflow: hooks only: ``"wait"`` (backpressure) or ``"drop"``.

        Returns:
            The :class:`Subscription`; ``cancel()`` removes it.

        Raises:
            TypeError, ValueError: a bad option, naming it; nothing is registered.
            BusClosed: the bus or scope is closed.
            OrderError: ``before``/``after`` constraints form a cycle.
        """
        options = validate_options(
            event_type,
            handler,
            kind,
            order=order,
            before=before,
            after=after,
            timeout=timeout,
            thread=thread,
            capacity=capacity,
            concurrency=concurrency,
            overflow=overflow,
        )
        if owner is not None and not isinstance(owner, str):
            raise TypeError(f"owner must be a plugin name (str) or None, got {owner!r}")
        return self._add(event_type, handler, kind, options, owner)

    def _add(
        self,
        event_type: type[E],
        handler: Callable[..., Any] | None,
        kind: Kind,
        options: dict[str, Any],
        owner: str | None,
    ) -> Subscription[E]:
        if self._closed or self._closing:
            raise BusClosed(self._what(), "subscribe")
        tree = self._tree
        tree.seq += 1
        sub = Subscription(self, event_type, handler, kind, options, owner, tree.seq)
        if kind in ("hook", "stream"):
            sub.capacity = sub.capacity or tree.settings.hook_capacity
        if kind == "hook":
            limit = sub.timeout
            if limit is None:
                limit = self._scope_timeout
            if limit is None:
                limit = tree.settings.hook_timeout
            sub._limit = limit
        self._subs.setdefault(event_type, []).append(sub)
        constrained = bool(sub.before or sub.after)
        tree.constrained += constrained
        try:
            # Only before/after constraints can form a cycle: without any in
            # the tree, plans are just dropped and rebuilt on the next emit.
            self._invalidate(check=event_type if tree.constrained else None)
        except BaseException:
            tree.constrained -= constrained
            self._subs[event_type].remove(sub)
            if not self._subs[event_type]:
                del self._subs[event_type]
            self._invalidate()
            raise
        if kind in ("hook", "stream"):
            capacity = sub.capacity
            assert capacity is not None
            send, receive = trio.open_memory_channel[Any](capacity)
            sub._send = send
            sub._receive = receive
            if kind == "hook":
                for _ in range(sub.concurrency):
                    self._nursery.start_soon(hook_worker, sub, receive.clone(), tree)
        return sub

    def _unsubscribe(self, sub: Subscription[Any]) -> None:
        if sub.active and (sub.before or sub.after):
            self._tree.constrained -= 1
        sub.active = False
        subs = self._subs.get(sub.event_type)
        if subs is not None and sub in subs:
            subs.remove(sub)
            if not subs:
                del self._subs[sub.event_type]
        if sub._send is not None:
            # Workers deliver what is queued, then stop; emitters waiting
            # for room carry on without this subscription.
            sub._send.close()
            if sub.kind == "hook":
                self._retired = [s for s in self._retired if s.pending]
                self._retired.append(sub)
        self._invalidate()

    def pipe(
        self,
        event_type: type[E],
        *,
        order: int = 0,
        before: str | Iterable[str] = (),
        after: str | Iterable[str] = (),
        timeout: float | None = None,
        thread: bool = False,
        owner: str | None = None,
    ) -> PipeDecorator[E]:
        """Decorator: subscribe a pipe (see :meth:`subscribe`); returns the handler."""
        return self._decorator(  # type: ignore[return-value]
            event_type,
            "pipe",
            {
                "order": order,
                "before": before,
                "after": after,
                "timeout": timeout,
                "thread": thread,
                "owner": owner,
            },
        )

    def listener(
        self,
        event_type: type[E],
        *,
        order: int = 0,
        before: str | Iterable[str] = (),
        after: str | Iterable[str] = (),
        timeout: float | None = None,
        thread: bool = False,
        owner: str | None = None,
    ) -> HandlerDecorator[E]:
        """Decorator: subscribe a listener (see :meth:`subscribe`); returns the handler."""
        return self._decorator(  # type: ignore[return-value]
            event_type,
            "listener",
            {
                "order": order,
                "before": before,
                "after": after,
                "timeout": timeout,
                "thread": thread,
                "owner": owner,
            },
        )

    def hook(
        self,
        event_type: type[E],
        *,
        order: int = 0,
        before: str | Iterable[str] = (),
        after: str | Iterable[str] = (),
        timeout: float | None = None,
        thread: bool = False,
        owner: str | None = None,
        capacity: int | None = None,
        concurrency: int = 1,
        overflow: Overflow = "wait",
    ) -> HandlerDecorator[E]:
        """Decorator: subscribe a hook (see :meth:`subscribe`); returns the handler."""
        return self._decorator(  # type: ignore[return-value]
            event_type,
            "hook",
            {
                "order": order,
                "before": before,
                "after": after,
                "timeout": timeout,
                "thread": thread,
                "owner": owner,
                "capacity": capacity,
                "concurrency": concurrency,
                "overflow": overflow,
            },
        )

    def _decorator(
        self, event_type: type[E], kind: Any, options: dict[str, Any]
    ) -> PipeDecorator[E] | HandlerDecorator[E]:
        # Validate now, so a bad option fails at the decorator line.
        probe = dict(options)
        probe.pop("owner", None)
        validate_options(event_type, print, kind, **probe)

        def register(handler: Callable[..., Any]) -> object:
            return self.subscribe(event_type, handler, kind=kind, **options)

        if kind == "pipe":
            return PipeDecorator(register)
        return HandlerDecorator(register)

    # -- plans -----------------------------------------------------------

    def _invalidate(self, check: type | None = None) -> None:
        """Forget cached plans here and below; with ``check``, rebuild the
        plans that now include ``check`` so an ordering cycle fails at once."""
        stack = [self]
        nodes = []
        while stack:
            node = stack.pop()
            for plan in node._plans.values():
                plan.flush()
            node._plans.clear()
            nodes.append(node)
            stack.extend(node._children)
        if check is None:
            return
        types = {check}
        for node in self._lineage():
            types.update(t for t in node._subs if issubclass(t, check))
        for node in nodes:
            types.update(t for t in node._subs if issubclass(t, check))
        for node in nodes:
            for tp in types:
                node._plans[tp] = node._build_plan(tp)

    def _lineage(self) -> list[Bus]:
        node: Bus | None = self
        chain = []
        while node is not None:
            chain.append(node)
            node = node._parent
        return chain

    def _rank(self, sub: Subscription[Any]) -> SortKey:
        owner = sub.owner
        rank = _UNRANKED if owner is None else self._tree.ranks.get(owner, _UNRANKED)
        return (sub.order, sub.bus._depth, rank, sub.seq)

    def _plan_for(self, event: object) -> Plan:
        event_type = type(event)
        if isinstance(event, type) or event is None:
            raise TypeError(
                f"emit() takes an event instance, got {event!r}; "
                f"did you mean {type_name(event)}(...)?"
                if isinstance(event, type)
                else "emit() takes an event instance, got None"
            )
        plan = self._build_plan(event_type)
        self._plans[event_type] = plan
        return plan

    def _build_plan(self, event_type: type) -> Plan:
        mro = event_type.__mro__
        found: dict[str, list[Subscription[Any]]] = {"pipe": [], "listener": [], "queue": []}
        for node in self._lineage():
            for base in mro:
                for sub in node._subs.get(base, ()):
                    found["queue" if sub.kind in ("hook", "stream") else sub.kind].append(sub)
        settings = self._tree.settings
        pipes = order_subscriptions(found["pipe"], self._rank, event_type, "pipe")
        listeners = order_subscriptions(found["listener"], self._rank, event_type, "listener")
        queues = order_subscriptions(found["queue"], self._rank, event_type, "hook")
        return Plan(
            event_type,
            tuple(self._entry(s, settings.pipe_timeout) for s in pipes),
            tuple(self._entry(s, settings.listener_timeout) for s in listeners),
            queues,
            full=settings.checkpoint == "full",
        )

    def _entry(self, sub: Subscription[Any], default: float | None) -> Entry:
        limit = sub.timeout
        if limit is None:
            limit = self._scope_timeout
        if limit is None:
            limit = default
        if sub.thread:
            return (sub, CALL_GUARDED, limit)
        if sub._call == CALL_SYNC:
            # Plain functions run inline: no timeout can interrupt them.
            return (sub, CALL_SYNC, None)
        return (sub, CALL_ASYNC if limit is None else CALL_GUARDED, limit)

    def _register_owner(self, name: str) -> None:
        """Give plugin ``name`` the next rank (start order); plans are rebuilt."""
        ranks = self._tree.ranks
        if name not in ranks:
            ranks[name] = len(ranks)
            root = self._tree.root
            (root or self)._invalidate()

    # -- emitting --------------------------------------------------------

    def emit(self, event: E, *, timeout: float | None = None) -> Coroutine[Any, Any, E]:
        """Run the pipe chain, queue the result to the hooks, run the listeners.

        Args:
            event: the event instance.
            timeout: seconds for the whole emit; handler limits nest inside it.

        Returns:
            The event as the pipes left it.

        Raises:
            Rejected: a pipe stopped the chain on purpose.
            PipeError: a pipe returned something that is not an event.
            ListenerError: one or more listeners failed (an ``ExceptionGroup``).
            HandlerTimeout: a pipe ran past its limit.
            EmitTimeout: the whole emit ran past ``timeout``.
            BusClosed: the bus or scope is closed, or closed during the emit.
        """
        # A plain method returning the plan's coroutine: `await bus.emit(e)`
        # then runs one coroutine frame, not two. A scope takes this path
        # only from its own task (see _owner); the root, from any task.
        if timeout is None:
            task = current_task()
            if self._owner is None or task is self._owner:
                if self._fast:
                    instr = None
                else:
                    # Instruments alone need no cancel scope of our own.
                    instr = self._tree.instruments
                    if instr is None or self._closing or self._closed:
                        return self._emit_slow(event, timeout)
                try:  # self._plan(event), written out
                    plan = self._plans[type(event)]
                except KeyError:
                    plan = self._plan_for(event)
                if instr is None:
                    run = plan.run  # an attribute read, cheaper than a method look-up
                    return run(event, task)
                return plan.run_observed(event, task, instr, self)
        return self._emit_slow(event, timeout)

    def _emit_in_batch(self, event: E) -> Coroutine[Any, Any, E]:
        """``emit``, for a caller that yields to the scheduler once per batch.

        The same emit (a cancellation point; pipes, hooks, listeners) without
        the schedule point at its end, for code of ours that emits a bounded
        batch of events in a row and then awaits something that schedules
        (the Redis bridge's reader, whose XACK follows each batch). An emit
        with instruments, a deadline or from another task is ``emit`` itself.
        """
        if self._fast:
            task = current_task()
            if self._owner is None or task is self._owner:
                return self._plan(event).unscheduled().run(event, task)
        return self.emit(event)

    def _plan(self, event: object) -> Plan:
        try:
            return self._plans[type(event)]
        except KeyError:
            return self._plan_for(event)

    async def _emit_slow(self, event: E, timeout: float | None) -> E:
        if self._closed or (self._closing and not _runs_inside(self._nursery)):
            # Past the end of its block, a node takes emits only from its own
            # background work (a hook emitting a follow-up while it drains).
            raise BusClosed(self._what())
        return await self._emit_guarded(self._plan(event), event, timeout)

    async def _emit_guarded(self, plan: Plan, event: E, timeout: float | None) -> E:
        """The emit with the extras: a deadline, or a caller that is not
        inside this bus's cancel scope (so closing must cancel it)."""
        limit = check_timeout(timeout, "emit()")
        instr = self._tree.instruments
        if instr is not None:
            instr.notify("emit_started", self, event)
        scope = trio.CancelScope()
        if limit is not None:
            scope.deadline = trio.current_time() + limit
        self._emitting.add(scope)
        error: BaseException | None = None
        running = None
        result = event
        try:
            with scope:
                try:
                    if instr is None:
                        result = await plan.run(event, current_task())
                    else:
                        result = await plan.run_observed(event, current_task(), instr)
                except trio.Cancelled as exc:
                    running = running_handler(exc)
                    raise
            if scope.cancelled_caught:
                if self._closed or self._closing:
                    raise BusClosed(self._what())
                assert limit is not None
                raise EmitTimeout(
                    type(event),
                    limit,
                    None if running is None else handler_name(running),
                    None if running is None else running.owner,
                )
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._emitting.discard(scope)
            if instr is not None:
                instr.notify("emit_finished", self, event, error)
        return result

    def emit_soon(self, event: object) -> None:
        """Emit in the background, in the bus's own nursery; returns at once.

        Failures are logged and counted like a hook's, never raised here.
        """
        if self._closed:
            raise BusClosed(self._what(), "emit_soon")
        if isinstance(event, type) or event is None:
            self._plan_for(event)  # raises the TypeError
        self._soon_pending += 1
        self._nursery.start_soon(self._emit_in_background, event)

    async def _emit_in_background(self, event: object) -> None:  # noqa: ASYNC910 - its emit checkpoints
        try:
            await self._emit_guarded(self._plan(event), event, None)
        except BusClosed:
            pass  # cancelled by the close, which counted it as lost
        except Exception as exc:
            if isinstance(exc, Rejected):
                logger.debug("emit_soon: %s event rejected: %s", type_name(type(event)), exc)
            else:
                logger.error("emit_soon of a %s event failed", type_name(type(event)), exc_info=exc)
        finally:
            self._soon_pending -= 1
            if self._soon_pending == 0 and self._soon_idle is not None:
                self._soon_idle.set()

    # -- consuming -------------------------------------------------------

    @asynccontextmanager
    async def stream(
        self,
        event_type: type[E],
        *,
        capacity: int | None = None,
        overflow: Overflow = "wait",
    ) -> AsyncIterator[EventStream[E]]:
        """Receive events of ``event_type`` (after the pipes) in a task, in order.

        ``async with bus.stream(T) as events: async for event in events: ...``.
        The stream is a hook-like subscription with its own bounded queue,
        removed when the block exits (what is still queued then is discarded).
        """
        options = validate_options(event_type, None, "stream", capacity=capacity, overflow=overflow)
        sub = self._add(event_type, None, "stream", options, None)
        assert sub._receive is not None
        try:
            yield EventStream(sub, sub._receive)
        finally:
            sub.cancel()
            left = sub._receive.statistics().current_buffer_used
            if left:
                logger.debug(
                    "stream of %s closed with %d events unread", type_name(event_type), left
                )
        await trio.lowlevel.checkpoint()

    async def wait_for(
        self,
        event_type: type[E],
        *,
        where: Callable[[E], bool] | None = None,
        timeout: float | None = None,
    ) -> E:
        """Wait for the next ``event_type`` event (after the pipes) that ``where`` accepts.

        Raises:
            WaitTimeout: nothing matched within ``timeout`` seconds.
        """
        limit = check_timeout(timeout, "wait_for()")
        async with self.stream(event_type) as events:
            with trio.move_on_after(math.inf if limit is None else limit):
                async for event in events:
                    if where is None or where(event):
                        return event
        raise WaitTimeout(event_type, limit if limit is not None else math.inf)

    # -- scopes ----------------------------------------------------------

    @asynccontextmanager
    async def scope(self, name: str, *, timeout: float | None = None) -> AsyncIterator[Bus]:
        """Open a scoped sub-bus for the ``async with`` block.

        Subscriptions made on the scope are seen by emits on it and its
        descendants; an emit on it also runs its ancestors' subscriptions.
        On exit its subscriptions go away, its hook queues drain (within
        ``drain_timeout``) and its in-flight work is cancelled.
        ``timeout`` is the default handler timeout inside it.
        """
        if not isinstance(name, str):
            raise TypeError(f"scope name must be a str, got {name!r}")
        limit = check_timeout(timeout, f"scope({name!r})")
        if self._closed or self._closing:
            raise BusClosed(self._what(), "open a scope")
        async with own_nursery() as nursery:
            child = Bus(self._tree, nursery, parent=self, name=name, timeout=limit)
            self._children.append(child)
            try:
                yield child
            finally:
                try:
                    await close_node(child)  # noqa: ASYNC102 - shields itself, bounded by drain_timeout
                finally:
                    self._children.remove(child)

    async def add_plugin(self, plugin: object) -> PluginInfo:
        """Start ``plugin`` (an instance or a ``Plugin`` subclass) on this bus
        or scope; it stops when this bus or scope closes.

        Returns:
            The plugin's ``PluginInfo``.

        Raises:
            PluginError: the plugin could not be configured, ordered or started.
            BusClosed: the bus or scope is closed.
        """
        from ._lifecycle import add_plugin  # the plugin layer sits above the core

        return await add_plugin(self, plugin)

    def cancel(self) -> None:
        """Cancel this bus's or scope's work (and its scopes'), from anywhere.

        The ``async with`` block of the scope is cancelled too, as with a
        nursery's cancel scope; hooks are not drained: what is queued is lost
        (counted and logged).
        """
        cancel_node(self)

    # -- observing -------------------------------------------------------

    def stats(self) -> tuple[SubscriptionStats, ...]:
        """One record per subscription of this bus or scope and its live scopes."""
        # Any node's plans may hold this node's pipes: fold every count in.
        everywhere = [self._tree.root or self]
        while everywhere:
            node = everywhere.pop()
            for plan in node._plans.values():
                plan.flush()
            everywhere.extend(node._children)
        records: list[SubscriptionStats] = []
        stack = [self]
        while stack:
            node = stack.pop(0)
            subs = sorted((s for group in node._subs.values() for s in group), key=lambda s: s.seq)
            records.extend(snapshot(s) for s in subs)
            stack.extend(node._children)
        return tuple(records)

    def add_instrument(self, instrument: object) -> None:
        """Add an instrument to the whole bus tree (see :class:`Instrument`)."""
        tree = self._tree
        instruments = tree.instruments or Instruments(on_empty=self._instruments_gone)
        instruments.add(instrument)
        tree.instruments = instruments
        self._refresh_fast()

    def remove_instrument(self, instrument: object) -> None:
        """Remove an instrument; raises ``ValueError`` if it was not added."""
        if self._tree.instruments is None:
            raise ValueError(f"instrument {instrument!r} was not added to this bus")
        self._tree.instruments.remove(instrument)

    def _instruments_gone(self) -> None:
        # The last instrument was removed (or removed itself by raising):
        # emits take the fast path again.
        self._tree.instruments = None
        self._refresh_fast()

    def _refresh_fast(self) -> None:
        root = self._tree.root or self
        stack = [root]
        while stack:
            node = stack.pop()
            node._fast = self._tree.instruments is None and not (node._closing or node._closed)
            stack.extend(node._children)
