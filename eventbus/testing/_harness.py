"""``plugin_harness``: one plugin, its lifespan and its requirements, on a private bus.

The harness opens a bus with ``open_bus`` exactly as an application does,
with autoload off, and starts the plugin under test after its requirements
(the ones given as instances, then any others discovered through their entry
points). It records what the plugin emits with a listener on ``object`` and
tells the harness's own emits apart with an instrument: ``emit_started`` and
``emit_finished`` bracket every emit in the task that makes it, so a
recording made while the innermost emit of the current task is the
harness's own belongs to the harness. A pipe of the plugin that emits
while the harness's event goes through it is still recorded: its emit is
the innermost one then.

The recorder is itself a tiny plugin started first and stopped last, so that
events emitted while the other plugins start and stop are recorded too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, final, overload

import attrs
import trio

import eventbus

if TYPE_CHECKING:
    from trio.lowlevel import Task

__all__ = ["PluginHarness", "plugin_harness"]

P = TypeVar("P", bound=eventbus.Plugin)
E = TypeVar("E")

#: The name of the recording plugin in ``h.bus.plugins``.
RECORDER_NAME: Final = "eventbus.testing.harness"

#: The group the bus reads plugins from (DESIGN section 6).
_ENTRY_POINT_GROUP: Final = "eventbus.plugins"


class _Tracker:
    """Records what reaches ``object`` listeners, minus the harness's own emits."""

    def __init__(self) -> None:
        self.emitted: list[object] = []
        # Per task: the event the harness is about to emit from that task.
        self.outgoing: dict[Task, object] = {}
        # Per task: one flag per emit under way, innermost last: the harness's own?
        self.emits: dict[Task, list[bool]] = {}

    # Instrument methods (eventbus.Instrument): called in the emitting task.
    def emit_started(self, bus: eventbus.Bus, event: object) -> None:
        task = trio.lowlevel.current_task()
        own = task in self.outgoing and self.outgoing[task] is event
        if own:
            del self.outgoing[task]
        self.emits.setdefault(task, []).append(own)

    def emit_finished(self, bus: eventbus.Bus, event: object, error: BaseException | None) -> None:
        task = trio.lowlevel.current_task()
        stack = self.emits.get(task)
        if stack:
            stack.pop()
            if not stack:
                del self.emits[task]

    def record(self, event: object) -> None:
        # A plain function: the bus calls it inline, in the emitting task.
        stack = self.emits.get(trio.lowlevel.current_task())
        if stack and stack[-1]:
            return
        self.emitted.append(event)


class _RecorderPlugin(eventbus.Plugin):
    """Started before the plugin under test, stopped after it."""

    name = RECORDER_NAME

    def __init__(self, tracker: _Tracker) -> None:
        super().__init__()
        self.tracker = tracker

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:  # noqa: ASYNC911 - the bus checkpoints around it
        tracker = self.tracker
        bus.add_instrument(tracker)
        # The lowest order: recorded before the other listeners run (and emit).
        with bus.subscribe(
            object, tracker.record, kind="listener", order=-(2**62), owner=RECORDER_NAME
        ):
            try:
                yield  # noqa: ASYNC911 - nothing to wait for: starting is the bus's job
            finally:
                bus.remove_instrument(tracker)


@final
class PluginHarness(Generic[P]):
    """What ``plugin_harness`` yields: the running plugin and its private bus.

    Attributes:
        bus: The bus the plugin runs on (subscribe, scope, ``stats()`` freely).
        name: The plugin's name (the ``owner`` of its subscriptions).
    """

    __slots__ = ("_plugin", "_tracker", "bus", "name")

    def __init__(self, bus: eventbus.Bus, name: str, plugin: P | None, tracker: _Tracker) -> None:
        self.bus = bus
        self.name = name
        self._plugin = plugin
        self._tracker = tracker

    @property
    def plugin(self) -> P:
        """The plugin instance under test."""
        if self._plugin is None:
            raise AttributeError(
                f"plugin_harness cannot reach the instance the bus created for plugin "
                f"{self.name!r}: it has no handlers to find it by. Pass an instance "
                f"instead: plugin_harness(MyPlugin(MyOptions(...)))"
            )
        return self._plugin

    @property
    def info(self) -> eventbus.PluginInfo:
        """The plugin's record in ``bus.plugins`` (state, subscriptions...)."""
        for info in self.bus.plugins:
            if info.name == self.name:
                found: eventbus.PluginInfo = info
                return found
        raise LookupError(f"plugin {self.name!r} is not in bus.plugins")  # pragma: no cover

    @property
    def subscriptions(self) -> tuple[eventbus.Subscription[Any], ...]:
        """The plugin's subscriptions, in registration order."""
        return self.info.subscriptions

    @property
    def emitted(self) -> list[object]:
        """Every event emitted on the bus by anything but the harness, in order.

        That is the plugin under test (its handlers, its lifespan, its
        ``emit_soon``) and the plugins it requires; emits the test makes on
        ``h.bus`` itself count too (use ``h.emit``). Events are recorded as
        listeners receive them, after the pipes; an emit that a pipe rejects
        or that fails before its listeners run is not recorded. The list is
        the harness's own: ``h.emitted.clear()`` starts afresh.
        """
        return self._tracker.emitted

    async def emit(self, event: E, *, timeout: float | None = None) -> E:
        """Emit ``event`` on the bus; return it as the pipes left it.

        Exactly ``bus.emit`` (the same errors), except that the event and
        what the pipes made of it are not recorded in :attr:`emitted`.
        """
        tracker = self._tracker
        task = trio.lowlevel.current_task()
        tracker.outgoing[task] = event
        try:
            return await self.bus.emit(event, timeout=timeout)
        finally:
            if tracker.outgoing.get(task) is event:
                del tracker.outgoing[task]

    def __repr__(self) -> str:
        return f"<PluginHarness {self.name!r} on {self.bus!r}>"


def _plugin_name(plugin: eventbus.Plugin | type[eventbus.Plugin]) -> str:
    # As the bus names plugins given in code (DESIGN section 6).
    cls = plugin if isinstance(plugin, type) else type(plugin)
    return plugin.name or cls.__name__


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    import tomllib
    from pathlib import Path

    file = Path(path)
    try:
        with file.open("rb") as stream:
            data = tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise eventbus.ConfigError(f"cannot read {os.fspath(path)!r}: {exc}") from exc
    if file.name == "pyproject.toml":
        tool = data.get("tool", {})
        section = tool.get("eventbus", {}) if isinstance(tool, dict) else {}
        return dict(section) if isinstance(section, dict) else {}
    return data


def _as_mapping(config: object) -> dict[str, Any]:
    """The configuration as a mutable mapping, in the form ``open_bus`` reads."""
    if config is None:
        # Not the working directory's eventbus.toml: a harness is hermetic.
        return {}
    if isinstance(config, eventbus.BusConfig):
        data: dict[str, Any] = {
            f.name: getattr(config, f.name)
            for f in attrs.fields(eventbus.BusConfig)
            if f.name not in ("plugins", "source")
        }
        plugins: dict[str, Any] = {}
        for name, table in config.plugins.items():
            entry = dict(table.options)
            if table.path is not None:
                entry["path"] = table.path
            if table.enabled is not None:
                entry["enabled"] = table.enabled
            plugins[name] = entry
        data["plugins"] = plugins
        return data
    if isinstance(config, Mapping):
        data = dict(config)
        data["plugins"] = {k: dict(v) for k, v in dict(config.get("plugins", {})).items()}
        return data
    if isinstance(config, str | os.PathLike):
        return _as_mapping(_read_toml(config))
    raise TypeError(
        f"plugin_harness(config=...) takes a mapping, an eventbus.BusConfig or a path to "
        f"a TOML file, got {config!r}"
    )


def _discovered_requirements(wanted: list[str], given: set[str]) -> list[str]:
    """``wanted`` and what those plugins require in turn, through their entry points."""
    if not wanted:
        return []
    from importlib_metadata import entry_points

    found = {ep.name: ep for ep in entry_points(group=_ENTRY_POINT_GROUP)}
    todo = list(wanted)
    names: list[str] = []
    while todo:
        name = todo.pop(0)
        if name in names or name in given:
            continue
        names.append(name)
        entry = found.get(name)
        if entry is None:
            continue  # the bus says it is not installed
        try:
            loaded = entry.load()
        except Exception:
            continue  # the bus reports the failure, with its distribution
        requires = getattr(loaded, "requires", ()) if isinstance(loaded, type) else ()
        todo.extend(r for r in requires if isinstance(r, str))
    return names


def _plugin_of(info: eventbus.PluginInfo, cls: type[P]) -> P | None:
    """The instance behind a plugin's handlers (bound methods), if it has any."""
    for sub in info.subscriptions:
        owner = getattr(sub.handler, "__self__", None)
        if isinstance(owner, cls):
            return owner
    return None


@overload
def plugin_harness(
    plugin: type[P],
    options: object = None,
    *,
    config: object = None,
    requires: Iterable[eventbus.Plugin | type[eventbus.Plugin]] = (),
) -> contextlib.AbstractAsyncContextManager[PluginHarness[P]]: ...
@overload
def plugin_harness(
    plugin: P,
    options: None = None,
    *,
    config: object = None,
    requires: Iterable[eventbus.Plugin | type[eventbus.Plugin]] = (),
) -> contextlib.AbstractAsyncContextManager[PluginHarness[P]]: ...
def plugin_harness(
    plugin: type[P] | P,
    options: object = None,
    *,
    config: object = None,
    requires: Iterable[eventbus.Plugin | type[eventbus.Plugin]] = (),
) -> contextlib.AbstractAsyncContextManager[PluginHarness[P]]:
    """Run one plugin, lifespan included, on a private bus, for the ``async with`` block.

    ``async with plugin_harness(AuditPlugin, {"table": "t"}) as h:`` then
    ``await h.emit(event)`` runs the plugin's pipes and listeners and returns
    the event as the pipes left it; ``h.emitted`` is what the plugin emitted.
    On exit the bus closes as ``open_bus`` does: hook queues drain, then the
    plugins stop.

    Args:
        plugin: A ``Plugin`` subclass or instance.
        options: For a class: an instance of its ``Options`` class, or a
            mapping structured into it as a ``[plugins.NAME]`` table would be
            (None: the table of ``config``, else the defaults). Not allowed
            with an instance, which has its options already.
        config: The bus configuration (a mapping, an ``eventbus.BusConfig`` or
            a path to a TOML file); None: the defaults. The working
            directory's ``eventbus.toml`` is never read.
        requires: The plugins it requires, as instances (or classes). Any
            requirement not given here is discovered through the
            ``eventbus.plugins`` entry points (with what it requires in
            turn); nothing else installed is loaded.

    Raises:
        PluginError: The plugin or a requirement failed to load, configure,
            start or stop (as from ``open_bus``).
        TypeError: ``options`` given with an instance, or a bad ``config``.
    """
    return _harness(plugin, options, config=config, requires=requires)


@contextlib.asynccontextmanager
async def _harness(
    plugin: type[P] | P,
    options: object,
    *,
    config: object,
    requires: Iterable[eventbus.Plugin | type[eventbus.Plugin]],
) -> AsyncIterator[PluginHarness[P]]:
    if isinstance(plugin, type):
        if not issubclass(plugin, eventbus.Plugin):
            raise TypeError(f"plugin_harness() takes an eventbus.Plugin, got {plugin!r}")
        cls: type[P] = plugin
    elif isinstance(plugin, eventbus.Plugin):
        if options is not None:
            raise TypeError(
                f"plugin_harness({plugin!r}, options=...): an instance has its options "
                f"already; pass the class to give options"
            )
        cls = type(plugin)
    else:
        raise TypeError(f"plugin_harness() takes an eventbus.Plugin, got {plugin!r}")
    name = _plugin_name(plugin)
    data = _as_mapping(config)
    # The instance when we have it; else the class, for the bus to configure.
    instance: P | None = None if isinstance(plugin, type) else plugin
    if isinstance(options, Mapping):
        table = data.setdefault("plugins", {}).setdefault(name, {})
        table.update(options)
    elif options is not None:
        instance = cls(options)
    given = list(requires)
    given_names = {_plugin_name(p) for p in given}
    wanted: list[str] = []
    for p in (*given, plugin):
        wanted += [r for r in p.requires if r not in given_names and r not in wanted]
    missing = _discovered_requirements(wanted, given_names | {name})
    # Only the missing requirements are discovered; nothing else installed runs.
    data["autoload"] = bool(missing)
    data["enable"] = missing
    tracker = _Tracker()
    opened = eventbus.open_bus(
        data,
        plugins=[_RecorderPlugin(tracker), *given, cls if instance is None else instance],
        discover=bool(missing),
    )
    async with contextlib.AsyncExitStack() as stack:
        try:
            bus = await stack.enter_async_context(opened)
        except eventbus.PluginError as exc:
            if missing and exc.phase in ("load", "order"):
                exc.add_note(
                    f"plugin_harness looked for {', '.join(map(repr, missing))} among the "
                    f"installed plugins (entry points; EVENTBUS_DISABLE_PLUGIN_AUTOLOAD=1 "
                    f"turns that off); to give a requirement yourself: "
                    f"plugin_harness(..., requires=[StoragePlugin(...)])"
                )
            raise
        if instance is None:
            instance = _plugin_of(next(i for i in bus.plugins if i.name == name), cls)
        yield PluginHarness(bus, name, instance, tracker)
