"""The plugin lifecycle: load, configure, order, start, stop (DESIGN section 6).

One :class:`PluginManager` per bus node that has plugins: the root bus made by
``open_bus``, or a scope given ``add_plugin``. Starting goes:

1. **load**: import each enabled entry point or ``path``, or take the instance;
2. **config**: structure the plugin's ``Options`` from its ``[plugins.NAME]``
   table and create the plugin;
3. **order**: sort by ``requires`` (a missing requirement or a cycle fails);
4. **start**, in that order: enter the ``lifespan`` in its own task (started
   with ``nursery.start`` under ``start_timeout``, so a lifespan may open
   nurseries), then subscribe the decorated handlers with ``owner=name``.

Stopping goes in reverse for every started plugin, even when one fails:
handlers off, the plugin's hook queues drained (``drain_timeout``), lifespan
exited under ``stop_timeout``, all of it shielded from outside cancellation.

With ``strict=True`` a load, config, order or start failure raises
``PluginError`` (after stopping what had started); with ``strict=False`` the
plugin is skipped, logged, and listed as ``"failed"`` in ``bus.plugins``.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
import heapq
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Final, Literal, final

import attrs
import trio

from . import _discovery
from ._config import BusConfig, PluginConfig, structure_options
from ._errors import BusClosed, ConfigError, PluginError, PluginPhase
from ._plugins import Plugin, handler_specs
from ._scope import _give_up, settle, wait_idle
from ._subscription import Subscription

if TYPE_CHECKING:
    from ._bus import Bus

__all__ = [
    "PluginInfo",
    "PluginManager",
    "add_plugin",
    "plan_plugins",
    "start_plugins",
    "stop_error",
    "stop_plugins",
    "without_lifespans",
]

PluginState = Literal["running", "failed", "disabled", "stopped"]

# While the manager works a slot may also be "pending" (loaded, not started)
# or "starting"; both are shown as "failed" if they never get further.
_SlotState = Literal["pending", "starting", "running", "failed", "disabled", "stopped"]


class _StartTimeout(Exception):
    """A lifespan did not finish entering within ``start_timeout``."""


def describe(exc: BaseException) -> str:
    """``Boom: message``; the leaves of an exception group, joined."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@functools.cache
def _log(name: str) -> logging.Logger:
    # logging.getLogger takes the logging lock on every call; a plugin logs
    # four times per open and close, so look its logger up once per process.
    return logging.getLogger(f"eventbus.plugin.{name}")


#: False while ``eventbus plugins``, ``graph`` and ``check`` inspect a bus:
#: plugins are loaded, configured, ordered and their handlers subscribed (so
#: plans are built by the code ``emit`` uses), but no lifespan is entered.
_lifespans: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "eventbus_lifespans", default=True
)


@contextlib.contextmanager
def without_lifespans() -> Iterator[None]:
    """Within the block, buses start their plugins without entering any lifespan.

    For the command line's inspection commands: nothing a plugin runs in its
    lifespan (connections, background tasks) starts, yet its handlers are
    subscribed and ranked exactly as in a real start.
    """
    token = _lifespans.set(False)
    try:
        yield
    finally:
        _lifespans.reset(token)


@attrs.frozen
class PluginInfo:
    """What ``bus.plugins`` lists: one plugin and where it stands.

    Attributes:
        name: The plugin's name (its subscriptions' ``owner``).
        distribution: The distribution that installed it (entry points only).
        version: That distribution's version.
        source: ``"eventbus.plugins:NAME = mod:attr"`` for an entry point, or the
            import path ``"pkg.mod:Attr"`` (a ``path`` in the config, or the
            class of an instance given in code).
        state: ``"running"``, ``"failed"``, ``"disabled"`` or ``"stopped"``.
        error: The ``PluginError`` of a failed plugin (its cause chained).
        subscriptions: The plugin's subscriptions, in registration order.
    """

    name: str
    distribution: str | None = None
    version: str | None = None
    source: str | None = None
    state: PluginState = "running"
    error: BaseException | None = attrs.field(default=None, eq=False)
    subscriptions: tuple[Subscription[Any], ...] = attrs.field(default=(), eq=False)


@final
class _Slot:
    """One plugin as a manager tracks it (mutable; published as PluginInfo)."""

    __slots__ = (
        "cls",
        "distribution",
        "entry",
        "error",
        "exit_error",
        "exited",
        "index",
        "name",
        "plugin",
        "requires",
        "source",
        "state",
        "stop_requested",
        "subscriptions",
        "table",
        "version",
    )

    def __init__(
        self,
        name: str,
        *,
        source: str | None = None,
        entry: _discovery.PluginEntry | None = None,
        cls: type[Plugin] | None = None,
        plugin: Plugin | None = None,
        table: PluginConfig | None = None,
    ) -> None:
        self.name = name
        self.source = source
        self.entry = entry
        self.distribution = entry.distribution if entry is not None else None
        self.version = entry.version if entry is not None else None
        self.cls = cls
        self.plugin = plugin
        self.table = table
        self.requires: tuple[str, ...] = ()
        self.state: _SlotState = "pending"
        self.error: PluginError | None = None
        self.subscriptions: list[Subscription[Any]] = []
        # Set by the lifespan task.
        self.stop_requested: trio.Event | None = None
        self.exited: trio.Event | None = None
        self.exit_error: BaseException | None = None
        # Position in its manager's list (and in bus.plugins).
        self.index = -1

    def info(self) -> PluginInfo:
        state: PluginState
        state = "failed" if self.state == "pending" or self.state == "starting" else self.state
        return PluginInfo(
            name=self.name,
            distribution=self.distribution,
            version=self.version,
            source=self.source,
            state=state,
            error=self.error,
            subscriptions=tuple(self.subscriptions),
        )

    def provenance(self) -> str:
        """``eventbus-audit 0.1.0`` for an entry point, else the import path."""
        if self.distribution is not None:
            return f"{self.distribution} {self.version or '?'}"
        return self.source or "given in code"

    def error_for(self, phase: PluginPhase, message: str) -> PluginError:
        return PluginError(
            message,
            phase=phase,
            plugin=self.name,
            distribution=self.distribution,
            version=self.version,
        )

    def fail(self, error: PluginError, strict: bool) -> None:
        """Raise ``error`` (strict), or record and log it and carry on."""
        if strict:
            raise error
        self.state = "failed"
        self.error = error
        _log(self.name).error(
            "%s (strict=False: the bus goes on without it)", error, exc_info=error.__cause__
        )


def _import_path(obj: object) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


# --- selecting, loading, configuring, ordering ---------------------------------------


def _is_enabled(name: str, config: BusConfig) -> bool:
    """``disable`` wins; then ``[plugins.NAME] enabled``; then the ``enable`` list."""
    if name in config.disable:
        return False
    table = config.plugins.get(name)
    if table is not None and table.enabled is not None:
        return table.enabled
    return config.enable is None or name in config.enable


def _select(
    config: BusConfig, instances: Sequence[object], autoload: bool
) -> tuple[list[_Slot], list[PluginError]]:
    """The candidate slots (nothing imported yet), and selection errors.

    Instances given in code come first (in the order given), then ``path``
    plugins of the config, then entry points sorted by name: that order breaks
    ties between plugins that ``requires`` leaves unordered. An explicit
    plugin (instance or path) replaces an entry point of the same name.
    """
    slots: list[_Slot] = []
    errors: list[PluginError] = []
    for obj in instances:
        if isinstance(obj, type) and issubclass(obj, Plugin):
            name = obj.name or obj.__name__
            slots.append(
                _Slot(name, source=_import_path(obj), cls=obj, table=config.plugins.get(name))
            )
        elif isinstance(obj, Plugin):
            name = obj.name or type(obj).__name__
            slots.append(_Slot(name, source=_import_path(obj), plugin=obj))
        else:
            raise TypeError(
                f"open_bus(plugins=...) takes eventbus.Plugin instances (or Plugin "
                f"subclasses), got {obj!r}"
            )
    taken = {s.name for s in slots}
    for name, table in config.plugins.items():
        if table.path is not None and name not in taken and _is_enabled(name, config):
            slots.append(_Slot(name, source=table.path, table=table))
            taken.add(name)
    if not autoload:
        return slots, errors
    entries = sorted(_discovery.entry_points(), key=lambda e: e.name)
    installed = {e.name for e in entries}
    for name, found in _discovery.duplicates(e for e in entries if e.name not in taken).items():
        if _is_enabled(name, config):
            errors.append(_discovery.duplicate_error(name, found))
        taken.add(name)
    for entry in entries:
        if entry.name in taken:
            continue
        taken.add(entry.name)
        slot = _Slot(
            entry.name, source=entry.source, entry=entry, table=config.plugins.get(entry.name)
        )
        if not _is_enabled(entry.name, config):
            slot.state = "disabled"
        slots.append(slot)
    # A name the config enables that nothing provides is most likely a typo.
    wanted = [n for n, t in config.plugins.items() if t.enabled is not False]
    wanted += config.enable or ()
    known = sorted(installed | taken)
    for name in dict.fromkeys(wanted):
        if name in taken or name in installed or name in config.disable:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        where = "the enable list" if name in (config.enable or ()) else f"[plugins.{name}]"
        errors.append(
            PluginError(
                f"{where} names it, but no such plugin is installed{hint} "
                f"(installed: {', '.join(sorted(installed)) or 'none'})",
                phase="load",
                plugin=name,
            )
        )
    return slots, errors


#: The table of a plugin the config does not mention (frozen, never changed).
_NO_TABLE: Final = PluginConfig()


def _load(slot: _Slot) -> None:
    """Import and configure one slot's plugin.

    Raises:
        PluginError: ``phase="load"`` or ``phase="config"``.
    """
    if slot.plugin is not None:
        return
    obj: object
    if slot.cls is not None:
        obj = slot.cls
    elif slot.entry is not None:
        obj = slot.entry.load()
    else:
        assert slot.source is not None
        obj = _discovery.load_by_path(slot.source, name=slot.name)
    table = slot.table or _NO_TABLE
    if isinstance(obj, type) and issubclass(obj, Plugin):
        try:
            options = structure_options(
                obj.Options, table.options, path_prefix=("plugins", slot.name), source=table.source
            )
        except ConfigError as exc:
            raise slot.error_for("config", str(exc)) from exc
        try:
            plugin = obj(options) if obj.Options is not None else obj()
        except Exception as exc:
            raise slot.error_for(
                "config", f"creating {obj.__qualname__} raised {describe(exc)}"
            ) from exc
    elif callable(obj) and not isinstance(obj, type):
        if table.options:
            raise slot.error_for(
                "config",
                f"{slot.source} is a factory, which takes no options, but "
                f"[plugins.{slot.name}] sets {', '.join(sorted(table.options))}; point it at "
                f"a Plugin subclass with an Options class instead",
            )
        try:
            plugin = obj()
        except Exception as exc:
            raise slot.error_for(
                "load", f"the factory {slot.source} raised {describe(exc)}"
            ) from exc
        if not isinstance(plugin, Plugin):
            raise slot.error_for(
                "load",
                f"the factory {slot.source} returned {plugin!r}, not an eventbus.Plugin instance",
            )
    else:
        raise slot.error_for(
            "load",
            f"{slot.source} is {obj!r}; a plugin is an eventbus.Plugin subclass or a "
            f"factory function returning a Plugin instance",
        )
    if plugin.name and plugin.name != slot.name:
        # Config, enable/disable and requires all use the installed name.
        _log(slot.name).warning(
            "%s declares name = %r but is installed as %r; using %r",
            type(plugin).__qualname__,
            plugin.name,
            slot.name,
            slot.name,
        )
    slot.plugin = plugin


def _order(slots: list[_Slot], available: Iterable[str], strict: bool) -> list[_Slot]:
    """Sort the loaded slots by ``requires``; fail those that cannot be ordered.

    Args:
        slots: Every slot, in tie-break order; only ``pending`` ones are ordered.
        available: Names already running elsewhere (an ancestor's plugins).
        strict: Raise the first problem instead of failing the slot.
    """
    outside = set(available)
    by_name: dict[str, _Slot] = {}
    for slot in slots:
        by_name.setdefault(slot.name, slot)
    for slot in slots:
        if slot.plugin is not None:
            slot.requires = tuple(type(slot.plugin).requires)
    # A missing requirement fails its plugin, then the plugins that need that one.
    changed = True
    while changed:
        changed = False
        for slot in slots:
            if slot.state != "pending":
                continue
            for required in slot.requires:
                other = by_name.get(required)
                if (other is not None and other.state == "pending") or (
                    other is None and required in outside
                ):
                    continue
                if other is None:
                    why = "is not installed (or not given to this bus)"
                elif other.state == "disabled":
                    why = "is disabled"
                else:
                    why = "failed"
                slot.fail(slot.error_for("order", f"it requires {required!r}, which {why}"), strict)
                changed = True
                break
    pending = [s for s in slots if s.state == "pending"]
    if not any(s.requires for s in pending):
        return pending  # nothing to sort: the tie-break order it is
    rank = {s.name: i for i, s in enumerate(pending)}
    waiting = {s.name: {r for r in s.requires if r in rank} for s in pending}
    needed_by: dict[str, list[_Slot]] = {}
    for slot in pending:
        for required in waiting[slot.name]:
            needed_by.setdefault(required, []).append(slot)
    # Kahn's algorithm; among the ready ones, the earliest in tie-break order.
    ready = [(rank[s.name], s.name) for s in pending if not waiting[s.name]]
    heapq.heapify(ready)
    ordered: list[_Slot] = []
    while ready:
        _, name = heapq.heappop(ready)
        ordered.append(pending[rank[name]])
        for other in needed_by.get(name, ()):
            waiting[other.name].discard(name)
            if not waiting[other.name]:
                heapq.heappush(ready, (rank[other.name], other.name))
    placed = set(map(id, ordered))
    stuck = [s for s in pending if id(s) not in placed]
    if stuck:
        cycle = _find_cycle({s.name: waiting[s.name] for s in stuck})
        path = " -> ".join([*cycle, cycle[0]])
        involved = ", ".join(repr(s.name) for s in stuck)
        error = PluginError(
            f"their requires form a cycle ({path}); plugins involved: {involved}. "
            f"Remove one of these requirements.",
            phase="order",
        )
        if strict:
            raise error
        for slot in stuck:
            failure = slot.error_for("order", f"its requires form a cycle ({path})")
            failure.__cause__ = error
            slot.fail(failure, strict=False)
    return ordered


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of a graph in which every node waits on another."""
    node = min(graph)
    seen: list[str] = []
    while node not in seen:
        seen.append(node)
        node = min(graph[node])
    return seen[seen.index(node) :]


def _prepare(
    config: BusConfig,
    instances: Sequence[object],
    *,
    autoload: bool,
    strict: bool,
    available: Iterable[str] = (),
) -> tuple[list[_Slot], list[_Slot]]:
    """Select, load, configure and order: ``(every slot, the slots to start in order)``.

    Raises:
        PluginError: ``strict`` and a plugin failed to load, configure or order.
    """
    slots, errors = _select(config, instances, autoload)
    failed: list[_Slot] = []
    for error in errors:
        slot = _Slot(error.plugin or "?")
        slot.fail(error, strict)
        failed.append(slot)
    seen: dict[str, _Slot] = {}
    for slot in slots:
        if slot.state != "pending":
            continue
        if slot.name in seen:
            slot.fail(
                slot.error_for("load", f"another plugin ({seen[slot.name].source}) has this name"),
                strict,
            )
            continue
        seen[slot.name] = slot
        try:
            _load(slot)
        except PluginError as exc:
            slot.fail(exc, strict)
    ordered = _order(slots, available, strict)
    placed = set(map(id, ordered))
    rest = [s for s in slots if id(s) not in placed]
    return [*ordered, *failed, *rest], ordered


# --- starting and stopping ---------------------------------------------------------------


@final
class PluginManager:
    """Starts and stops the plugins of one bus node (the root or a scope)."""

    __slots__ = (
        "_bus",
        "_infos",
        "_slots",
        "_stale",
        "_started",
        "lifespans",
        "shield",
        "start_timeout",
        "stop_timeout",
        "strict",
    )

    def __init__(
        self,
        bus: Bus,
        *,
        strict: bool,
        start_timeout: float,
        stop_timeout: float,
        shield: bool = True,
    ) -> None:
        self._bus = bus
        self.strict = strict
        # Whether running lifespans are shielded from outside cancellation:
        # only when the node's close is sure to stop them (else they would
        # keep its nursery open forever).
        self.shield = shield
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        # False under without_lifespans(): handlers only (the CLI's inspection).
        self.lifespans = _lifespans.get()
        self._slots: list[_Slot] = []
        # bus.plugins, as last published; slots changed since are in _stale,
        # slots added since are past the end of _infos (see _flush).
        self._infos: list[PluginInfo] = []
        self._stale: set[_Slot] = set()
        # Slots whose lifespan was entered, in start order: stopped in reverse.
        self._started: list[_Slot] = []

    def running(self) -> list[str]:
        """Running plugins here and on every ancestor (they satisfy ``requires``)."""
        found: list[str] = []
        node: Bus | None = self._bus
        while node is not None:
            manager = _managers.get(node)
            if manager is not None:
                found += [s.name for s in manager._slots if s.state == "running"]
            node = node.parent
        return found

    def _publish(self, slot: _Slot) -> None:
        """Note that ``slot`` changed; ``bus.plugins`` shows it at the next flush."""
        self._stale.add(slot)

    def _flush(self) -> None:
        """Bring ``bus.plugins`` up to date.

        Publishing is deferred to the points where anything else can look:
        before a plugin's own code runs (its lifespan, a hook drain) or
        another task gets to run (any await), and when start or stop returns.
        Between them the manager runs alone, so plugins without a lifespan
        start and stop without rebuilding the tuple (and every record) each.
        """
        infos = self._infos
        stale = self._stale
        if not stale and len(infos) == len(self._slots):
            return
        for slot in stale:
            if slot.index < len(infos):
                infos[slot.index] = slot.info()
        stale.clear()
        infos.extend(slot.info() for slot in self._slots[len(infos) :])
        self._bus._plugins = tuple(infos)

    async def start(  # noqa: ASYNC910 - with nothing to start, the caller's checkpoint is the one
        self, slots: list[_Slot], ordered: list[_Slot], *, rollback: bool = True
    ) -> None:
        """Start ``ordered``; list every one of ``slots`` in ``bus.plugins``.

        Raises:
            PluginError: ``strict`` and a plugin failed to start; with
                ``rollback`` the plugins started before it are stopped first.
        """
        for slot in slots:
            slot.index = len(self._slots)
            self._slots.append(slot)
        try:
            for slot in ordered:
                try:
                    await self._start_one(slot)
                except PluginError as exc:
                    slot.state = "failed"
                    slot.error = exc
                    self._publish(slot)
                    if self.strict:
                        if rollback:
                            for failure in await self.stop():  # noqa: ASYNC120 - stop() is shielded
                                exc.add_note(f"while stopping the other plugins: {failure}")
                        raise
                    slot.fail(exc, strict=False)
                self._publish(slot)
        finally:
            self._flush()

    async def _start_one(self, slot: _Slot) -> None:  # noqa: ASYNC910 - start() loops over these; a plugin without lifespan needs no schedule point
        plugin = slot.plugin
        assert plugin is not None
        running = self.running() if slot.requires else ()
        for required in slot.requires:
            if required not in running:
                raise slot.error_for("start", f"it requires {required!r}, which did not start")
        slot.state = "starting"
        bus = self._bus
        log = _log(slot.name)
        if log.isEnabledFor(logging.INFO):
            log.info("starting plugin %r (%s)", slot.name, slot.provenance())
        # No task for the default lifespan: it does nothing.
        if self.lifespans and type(plugin).lifespan is not Plugin.lifespan:
            # The lifespan runs plugin code and lets other tasks run.
            self._flush()
            await self._enter_lifespan(slot, plugin)
        self._started.append(slot)
        bus._register_owner(slot.name)
        try:
            for spec in handler_specs(plugin):
                sub = bus.subscribe(
                    spec.event_type,
                    getattr(plugin, spec.method),
                    kind=spec.kind,
                    owner=slot.name,
                    **spec.options,
                )
                slot.subscriptions.append(sub)
        except Exception as exc:
            error = slot.error_for("start", f"subscribing its handlers raised {describe(exc)}")
            # Roll this one back now: handlers off, lifespan exited.
            self._started.remove(slot)
            stop_failure = await self._stop_one(slot)  # noqa: ASYNC120 - _stop_one is shielded
            if stop_failure is not None:
                error.add_note(f"while stopping it: {stop_failure}")
            raise error from exc
        slot.state = "running"
        if log.isEnabledFor(logging.INFO):
            count = len(slot.subscriptions)
            log.info("plugin %r started: %d handler%s", slot.name, count, "" if count == 1 else "s")

    async def _enter_lifespan(self, slot: _Slot, plugin: Plugin) -> None:
        """Enter the plugin's lifespan in its own task, in the bus's nursery."""
        try:
            context = plugin.lifespan(self._bus)
        except Exception as exc:
            raise slot.error_for("start", f"lifespan() raised {describe(exc)}") from exc
        if not isinstance(context, AbstractAsyncContextManager):
            raise slot.error_for(
                "start",
                f"lifespan() returned {context!r}, not an async context manager; "
                f"decorate it with @contextlib.asynccontextmanager",
            )
        try:
            await self._bus._nursery.start(self._lifespan_task, slot, context)
        except _StartTimeout:
            raise slot.error_for(
                "start",
                f"its lifespan did not finish starting within start_timeout="
                f"{self.start_timeout:g}s and was cancelled; make its set-up faster "
                f"or raise start_timeout",
            ) from TimeoutError(f"start_timeout={self.start_timeout:g}s")
        except Exception as exc:
            raise slot.error_for("start", f"entering its lifespan raised {describe(exc)}") from exc

    async def _lifespan_task(  # noqa: ASYNC114, ASYNC910 - started with nursery.start; it waits for the stop request
        self,
        slot: _Slot,
        context: AbstractAsyncContextManager[object],
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Hold one plugin's lifespan open, in its own task, until it is stopped.

        The guard scope is entered before the lifespan and left after it (a
        lifespan may hold a nursery: cancel scopes must nest). It bounds the
        set-up by ``start_timeout``; once the plugin runs it is shielded, so
        that only the manager's stop request (or a failure inside the lifespan
        itself) ends the lifespan, in order, after the handlers are off. The
        clean-up then runs shielded, bounded by ``stop_timeout``.
        """
        stop_requested = slot.stop_requested = trio.Event()
        exited = slot.exited = trio.Event()
        started = False
        try:
            with trio.CancelScope(deadline=trio.current_time() + self.start_timeout) as guard:
                try:
                    async with context:
                        started = True
                        guard.deadline = math.inf
                        guard.shield = self.shield
                        task_status.started()
                        try:
                            await stop_requested.wait()
                        finally:
                            guard.shield = True
                            guard.deadline = trio.current_time() + self.stop_timeout
                except Exception as exc:
                    if not started:
                        raise
                    slot.exit_error = exc
            if not started:
                # Only our start deadline ends the set-up without an error.
                raise _StartTimeout
            if guard.cancelled_caught and slot.exit_error is None:
                slot.exit_error = TimeoutError(
                    f"its lifespan did not exit within stop_timeout={self.stop_timeout:g}s "
                    f"and was cancelled; make its clean-up faster or raise stop_timeout"
                )
        finally:
            exited.set()
        if not stop_requested.is_set():
            # Neither stopped nor cancelled from outside (that raised above):
            # the lifespan ended on its own, most likely a task in it failed.
            self._ended_early(slot)

    def _ended_early(self, slot: _Slot) -> None:
        """The lifespan ended while the plugin was running: it failed."""
        error = slot.exit_error
        cause = describe(error) if error is not None else "it ended on its own"
        failure = slot.error_for(
            "stop", f"its lifespan stopped while the plugin was running ({cause})"
        )
        failure.__cause__ = error
        for sub in slot.subscriptions:
            sub.cancel()
        if slot in self._started:
            self._started.remove(slot)
        slot.exit_error = None
        slot.fail(failure, strict=False)
        self._publish(slot)
        self._flush()

    async def _stop_one(self, slot: _Slot) -> PluginError | None:
        """Handlers off, hook queues drained, lifespan exited; never raises.

        Shielded; :meth:`stop` shields all of them at once and calls
        :meth:`_stop_slot` itself.
        """
        with trio.CancelScope(shield=True):
            failure = await self._stop_slot(slot)
        return failure

    async def _stop_slot(self, slot: _Slot) -> PluginError | None:
        """:meth:`_stop_one` without its own cancel scope (the caller shields)."""
        log = _log(slot.name)
        log.info("stopping plugin %r", slot.name)
        for sub in slot.subscriptions:
            sub.cancel()
        if any(s.kind == "hook" and s.pending for s in slot.subscriptions):
            self._flush()
            await self._drain(slot)
        if slot.stop_requested is not None:
            self._flush()
            slot.stop_requested.set()
        if slot.exited is not None:
            await slot.exited.wait()
        error, slot.exit_error = slot.exit_error, None
        if error is None:
            if slot.state in ("running", "starting"):
                slot.state = "stopped"
            log.info("plugin %r stopped", slot.name)
            return None  # noqa: ASYNC910 - shielded; nothing to wait for without lifespan or queued hooks
        if isinstance(error, TimeoutError) and "stop_timeout" in str(error):
            failure = slot.error_for("stop", str(error))
        else:
            failure = slot.error_for("stop", f"exiting its lifespan raised {describe(error)}")
        failure.__cause__ = error
        slot.state = "failed"
        slot.error = failure
        return failure  # noqa: ASYNC910 - a failed exit awaited the lifespan task above

    async def _drain(self, slot: _Slot) -> None:  # noqa: ASYNC910 - part of the shielded stop
        """Wait for the plugin's hook queues to empty, up to ``drain_timeout``."""
        hooks = [s for s in slot.subscriptions if s.kind == "hook"]
        if not any(s.pending for s in hooks):
            return  # noqa: ASYNC910 - nothing queued
        with trio.move_on_after(self._bus.settings.drain_timeout):
            for sub in hooks:
                await wait_idle(sub)
        for sub in hooks:
            if sub.pending:
                _give_up(
                    self._bus,
                    sub,
                    f"the plugin {slot.name!r} stopped and its hooks did not drain within "
                    f"drain_timeout={self._bus.settings.drain_timeout:g}s; raise drain_timeout "
                    f"or make the hook faster",
                )

    async def stop(self) -> list[PluginError]:  # noqa: ASYNC910 - shielded clean-up at close
        """Stop every started plugin, last started first, even when some fail.

        Shielded from outside cancellation. Returns the failures, each also
        logged and recorded in ``bus.plugins``.
        """
        failures: list[PluginError] = []
        with trio.CancelScope(shield=True):
            try:
                while self._started:
                    slot = self._started.pop()
                    failure = await self._stop_slot(slot)
                    if failure is not None:
                        failures.append(failure)
                        _log(slot.name).error("%s", failure, exc_info=failure.__cause__)
                    self._publish(slot)
            finally:
                self._flush()
        return failures  # noqa: ASYNC910 - shielded clean-up at close


def stop_error(failures: Sequence[PluginError]) -> PluginError:
    """One ``PluginError(phase="stop")`` reporting every stop failure together."""
    if len(failures) == 1:
        return failures[0]
    lines = "; ".join(f"[{i}] {f}" for i, f in enumerate(failures, 1))
    error = PluginError(f"{len(failures)} plugins failed to stop: {lines}", phase="stop")
    error.__cause__ = ExceptionGroup("plugins failed to stop", list(failures))
    return error


#: Managers by bus node; an entry goes when the node's plugins stop.
_managers: dict[Bus, PluginManager] = {}


async def start_plugins(
    bus: Bus,
    config: BusConfig,
    instances: Sequence[object],
    *,
    autoload: bool,
    strict: bool,
    start_timeout: float,
    stop_timeout: float,
) -> None:
    """Load, configure, order and start a root bus's plugins (``open_bus``).

    Raises:
        PluginError: ``strict`` and a plugin failed; nothing is left running.
    """
    manager = PluginManager(
        bus, strict=strict, start_timeout=start_timeout, stop_timeout=stop_timeout
    )
    _managers[bus] = manager
    try:
        slots, ordered = _prepare(config, instances, autoload=autoload, strict=strict)
        await manager.start(slots, ordered)
    except BaseException:
        # After a PluginError, manager.start has stopped what had started. After
        # anything else (the start cancelled from outside while a lifespan was
        # entering) the running lifespans, shielded, would wait forever: stop them.
        try:
            await manager.stop()  # noqa: ASYNC102, ASYNC120 - stop() is shielded, each step bounded
        finally:
            _managers.pop(bus, None)
        raise


async def stop_plugins(bus: Bus) -> list[PluginError]:  # noqa: ASYNC910 - shielded clean-up at close
    """Stop a node's plugins (every one, in reverse start order); return the failures.

    The node's ``emit_soon`` work in flight finishes first (see ``settle``),
    so an event handed to it just before the block ended reaches them.
    """
    manager = _managers.pop(bus, None)
    if manager is None:
        return []  # noqa: ASYNC910 - no plugins here
    await settle(bus)
    return await manager.stop()


async def add_plugin(bus: Bus, plugin: object) -> PluginInfo:
    """Start ``plugin`` on ``bus`` (a scope or the root); it stops when that node closes.

    Its ``requires`` are satisfied by plugins running on the node or an
    ancestor. Failures always raise: the call names one plugin explicitly.

    Raises:
        PluginError: The plugin could not be configured, ordered or started.
        BusClosed: The bus or scope is closed.
        TypeError: ``plugin`` is not a Plugin instance or subclass.
    """
    if bus.closed or bus._closing:
        raise BusClosed(bus._what(), "add a plugin")
    manager = _managers.get(bus)
    if manager is None:
        root = bus._tree.root
        settings = _managers.get(root) if root is not None else None
        # The node's close must stop its plugins; a core without close
        # callbacks cancels them instead (so they must not be shielded).
        closers: list[Callable[[], Awaitable[None]]] | None = getattr(bus, "_closers", None)
        manager = PluginManager(
            bus,
            strict=True,
            start_timeout=settings.start_timeout if settings is not None else 30.0,
            stop_timeout=settings.stop_timeout if settings is not None else 30.0,
            shield=closers is not None,
        )
        _managers[bus] = manager
        if closers is not None:
            closers.append(functools.partial(_close_node_plugins, bus))
    running = manager.running()
    slots, ordered = _prepare(BusConfig(), [plugin], autoload=False, strict=True, available=running)
    slot = slots[0]
    if slot.name in running:
        raise slot.error_for("load", "a plugin of this name is already running on this bus")
    strict, manager.strict = manager.strict, True
    try:
        # A failure here concerns this plugin only: the others keep running.
        await manager.start(slots, ordered, rollback=False)
    finally:
        manager.strict = strict
    return slot.info()


async def _close_node_plugins(bus: Bus) -> None:
    """Stop a scope's plugins as it closes; raises their stop failures together."""
    failures = await stop_plugins(bus)
    if failures:
        raise stop_error(failures)


def plan_plugins(
    config: BusConfig, instances: Sequence[object] = (), *, autoload: bool = True
) -> tuple[PluginInfo, ...]:
    """Load, configure and order without starting (for ``eventbus check``/``plugins``).

    Every problem is a ``"failed"`` record (as with ``strict=False``). The
    plugins that would start come first, in start order, with state
    ``"stopped"``; then the failed and the disabled ones.
    """
    slots, ordered = _prepare(config, instances, autoload=autoload, strict=False)
    return tuple(
        attrs.evolve(slot.info(), state="stopped") if slot in ordered else slot.info()
        for slot in slots
    )
