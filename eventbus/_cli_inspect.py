"""What ``eventbus plugins``, ``graph`` and ``check`` report, gathered from a real bus.

:func:`inspect_bus` opens a bus exactly as an application does (``open_bus``
with the configuration), with two differences: no plugin lifespan is entered
(:func:`eventbus._lifecycle.without_lifespans`), and failures never raise
(``strict=False``), so that every problem is recorded. The plugins are still
loaded, configured, ordered, ranked and their handlers subscribed by the
lifecycle's own code, and each event type's plan is built by
``Bus._build_plan``, the function whose result ``emit`` runs. What ``graph``
prints is therefore the order ``emit`` uses, not a second implementation of it.

The results are plain frozen records, rendered by ``_cli_report`` and
``_cli_graph``.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import trio

from ._cli_text import one_line, shown_path
from ._config import BusConfig, _structure_bus_config, load_config
from ._discovery import autoload_disabled_by_env
from ._dispatch import handler_name
from ._errors import ConfigError, PluginError, type_name
from ._events import wire_name
from ._lifecycle import describe, without_lifespans
from ._open import open_bus
from ._subscription import CALL_SYNC

if TYPE_CHECKING:
    from ._bus import Bus
    from ._dispatch import Entry
    from ._lifecycle import PluginInfo
    from ._subscription import Subscription

__all__ = [
    "EventGraph",
    "Inspection",
    "PluginRow",
    "Problem",
    "Step",
    "SubscriptionRow",
    "graph_of",
    "inspect_bus",
    "select_events",
]

#: ``loaded``: enabled, imported, configured and ordered; ``failed``: enabled but one
#: of those failed (``phase`` says which); ``disabled``: not imported at all.
Status = Literal["loaded", "failed", "disabled"]


@attrs.frozen
class SubscriptionRow:
    """One subscription of a plugin, as declared."""

    kind: str
    event: str
    handler: str
    order: int
    timeout: float | None
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@attrs.frozen
class PluginRow:
    """One plugin as ``eventbus plugins`` lists it."""

    name: str
    distribution: str | None
    version: str | None
    source: str | None
    status: Status
    phase: str | None = None
    error: str | None = None
    subscriptions: tuple[SubscriptionRow, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.status != "disabled"


@attrs.frozen
class Step:
    """One handler of an event type's plan, in run order."""

    kind: str
    handler: str
    owner: str | None
    order: int
    timeout: float | None
    mode: str
    #: The scope the subscription was made on (None: the bus itself).
    scope: str | None = None
    #: The wire name of the type subscribed to, when it is a base class.
    via: str | None = None
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    #: Hooks: queue size, workers, what a full queue does.
    capacity: int | None = None
    concurrency: int | None = None
    overflow: str | None = None


@attrs.frozen
class EventGraph:
    """What one emit of one event type runs, on the bus or on one scope."""

    event: str
    type_name: str
    scope: str | None
    pipes: tuple[Step, ...]
    listeners: tuple[Step, ...]
    hooks: tuple[Step, ...]


@attrs.frozen
class Problem:
    """One thing ``eventbus check`` reports."""

    kind: Literal["config", "plugin"]
    message: str
    plugin: str | None = None
    phase: str | None = None
    distribution: str | None = None
    version: str | None = None


@attrs.frozen
class Inspection:
    """Everything the inspection commands print."""

    config: str | None
    autoload: bool
    plugins: tuple[PluginRow, ...] = ()
    graph: tuple[EventGraph, ...] = ()
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    #: False when the configuration is invalid (its problems come first).
    config_ok: bool = True
    #: False when no plugin was looked at: the keys that select plugins
    #: (``autoload``, ``enable``, ``disable``, ``plugins``) are invalid.
    loaded: bool = True


# --- plans ------------------------------------------------------------------------------


def _mode(sub: Subscription[Any], call: int) -> str:
    if sub.thread:
        return "thread"
    return "sync" if call == CALL_SYNC else "async"


def _step(sub: Subscription[Any], call: int, limit: float | None, event_type: type) -> Step:
    hook = sub.kind in ("hook", "stream")
    return Step(
        kind=sub.kind,
        handler=handler_name(sub) if sub.handler is not None else "(stream)",
        owner=sub.owner,
        order=sub.order,
        timeout=limit,
        mode=_mode(sub, call),
        scope=sub.bus.name,
        via=wire_name(sub.event_type) if sub.event_type is not event_type else None,
        before=sub.before,
        after=sub.after,
        capacity=sub.capacity if hook else None,
        concurrency=sub.concurrency if sub.kind == "hook" else None,
        overflow=sub.overflow if hook else None,
    )


def _steps(entries: Iterable[Entry], event_type: type) -> tuple[Step, ...]:
    return tuple(_step(sub, call, limit, event_type) for sub, call, limit in entries)


def _queue_steps(subs: Iterable[Subscription[Any]], event_type: type) -> tuple[Step, ...]:
    # A hook's limit is resolved when it subscribes (its worker applies it).
    return tuple(_step(sub, sub._call, sub._limit, event_type) for sub in subs)


def _sort_key(event_type: type) -> tuple[str, str]:
    return (wire_name(event_type), type_name(event_type))


def graph_of(bus: Bus) -> tuple[EventGraph, ...]:
    """The plan of every subscribed event type on ``bus`` and on each live scope.

    The bus's section covers every type subscribed on it; a scope's covers the
    types subscribed on the scope itself, and each of its plans includes the
    handlers of its ancestors, with the scope's timeouts: what an emit on that
    scope runs. Each plan is built by ``Bus._build_plan``, as ``emit`` builds it.
    """
    graphs: list[EventGraph] = []

    def visit(node: Bus, path: str | None) -> None:
        for event_type in sorted(node._subs, key=_sort_key):
            plan = node._build_plan(event_type)
            graphs.append(
                EventGraph(
                    event=wire_name(event_type),
                    type_name=type_name(event_type),
                    scope=path,
                    pipes=_steps(plan.pipes, event_type),
                    listeners=_steps(plan.listeners, event_type),
                    hooks=_queue_steps(plan.queues, event_type),
                )
            )
        for child in node._children:
            name = child.name or "?"
            visit(child, f"{path}/{name}" if path else name)

    visit(bus, None)
    return tuple(graphs)


def select_events(graphs: Sequence[EventGraph], patterns: Sequence[str]) -> list[EventGraph]:
    """The graphs whose wire name equals, or matches as a glob, one of ``patterns``."""
    return [
        g for g in graphs if any(g.event == p or fnmatch.fnmatchcase(g.event, p) for p in patterns)
    ]


# --- plugins ----------------------------------------------------------------------------


def _subscription_row(sub: Subscription[Any]) -> SubscriptionRow:
    return SubscriptionRow(
        kind=sub.kind,
        event=wire_name(sub.event_type),
        handler=handler_name(sub),
        order=sub.order,
        timeout=sub.timeout,
        before=sub.before,
        after=sub.after,
    )


def _plugin_row(info: PluginInfo) -> PluginRow:
    status: Status = (
        "disabled" if info.state == "disabled" else "failed" if info.state == "failed" else "loaded"
    )
    error = info.error
    message: str | None = None
    if isinstance(error, PluginError):
        message = one_line(str(error))
    elif error is not None:
        message = one_line(describe(error))
    return PluginRow(
        name=info.name,
        distribution=info.distribution,
        version=info.version,
        source=info.source,
        status=status,
        phase=error.phase if isinstance(error, PluginError) else None,
        error=message,
        subscriptions=tuple(_subscription_row(s) for s in info.subscriptions),
    )


def _problem(row: PluginRow) -> Problem:
    return Problem(
        kind="plugin",
        message=row.error or "failed",
        plugin=row.name,
        phase=row.phase,
        distribution=row.distribution,
        version=row.version,
    )


# --- the inspection ---------------------------------------------------------------------


class _Collect(logging.Handler):
    """Keeps the warnings logged while the plugins load (a renamed plugin...)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Errors are the failures, which the plugin records carry already.
        if record.levelno == logging.WARNING:
            self.messages.append(record.getMessage())


@contextmanager
def _collect_warnings() -> Iterator[list[str]]:
    """Route the ``eventbus`` loggers into a list instead of standard error."""
    logger = logging.getLogger("eventbus")
    handler = _Collect()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


async def _inspect(config: BusConfig, autoload: bool) -> Inspection:
    with _collect_warnings() as warnings, without_lifespans():
        async with open_bus(config, strict=False) as bus:
            rows = tuple(_plugin_row(info) for info in bus.plugins)
            graph = graph_of(bus)
    return Inspection(
        config=shown_path(config.source),
        autoload=autoload,
        plugins=rows,
        graph=graph,
        problems=tuple(_problem(row) for row in rows if row.status == "failed"),
        warnings=tuple(dict.fromkeys(warnings)),
    )


#: The configuration keys that decide which plugins load.
_SELECTION_KEYS = ("autoload", "enable", "disable", "plugins")


def _selection_only(error: ConfigError) -> BusConfig | None:
    """The plugin-selecting keys of a configuration file that failed, if they are valid.

    Lets ``eventbus check`` go on to the plugins when only bus settings (a
    timeout, a misspelt key) are wrong: those do not change which plugins
    load, or whether they configure and order.
    """
    if error.source is None:
        return None
    import tomllib

    path = Path(error.source)
    try:
        data: object = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    prefix: tuple[str, ...] = ()
    if path.name == "pyproject.toml":
        prefix = ("tool", "eventbus")
        for key in prefix:
            data = data.get(key) if isinstance(data, dict) else None
    if not isinstance(data, dict):
        return None
    subset = {key: data[key] for key in _SELECTION_KEYS if key in data}
    try:
        return _structure_bus_config(subset, source=error.source, prefix=prefix)
    except ConfigError:
        return None


def inspect_bus(config_file: str | None) -> Inspection:
    """Load, configure and order the plugins and subscribe their handlers, without
    starting them; report what was found.

    Args:
        config_file: The ``--config`` file; None looks in the working directory
            as ``open_bus`` does.
    """
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        problems = tuple(Problem(kind="config", message=p) for p in exc.problems)
        shown = shown_path(exc.source or config_file)
        salvaged = _selection_only(exc)
        if salvaged is None:
            return Inspection(
                config=shown,
                autoload=not autoload_disabled_by_env(),
                problems=problems,
                config_ok=False,
                loaded=False,
            )
        autoload = salvaged.autoload and not autoload_disabled_by_env()
        inspection = trio.run(_inspect, salvaged, autoload)
        return attrs.evolve(
            inspection, config=shown, problems=problems + inspection.problems, config_ok=False
        )
    autoload = config.autoload and not autoload_disabled_by_env()
    return trio.run(_inspect, config, autoload)
