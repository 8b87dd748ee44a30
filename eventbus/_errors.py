"""The errors of trio-eventbus.

Every error the bus raises on its own account is an :class:`EventBusError`;
leaves also subclass the builtin they are, so ``except TimeoutError`` and
``except ValueError`` keep working::

    EventBusError
    ├── PluginError          (phase: load, config, order, start, stop)
    ├── ConfigError          (also ValueError)
    ├── OrderError           (also ValueError: a before/after cycle)
    ├── PipeError            (also TypeError: a pipe returned a non-event)
    ├── Rejected             (a decision, not a failure)
    ├── ListenerError        (also ExceptionGroup)
    ├── HandlerTimeout       (also TimeoutError)
    ├── EmitTimeout          (also TimeoutError)
    ├── WaitTimeout          (also TimeoutError)
    └── BusClosed            (also RuntimeError)

Messages are built in ``__init__`` from the structured fields, so a raise site
is one line and every message names the culprit and what to do. Every class
pickles: ``__reduce__`` replays the constructor's arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Self

__all__ = [
    "BusClosed",
    "ConfigError",
    "EmitTimeout",
    "EventBusError",
    "HandlerTimeout",
    "ListenerError",
    "OrderError",
    "PipeError",
    "PluginError",
    "Rejected",
    "WaitTimeout",
    "describe_handler",
    "type_name",
]

PluginPhase = Literal["load", "config", "order", "start", "stop"]


def type_name(tp: object) -> str:
    """Name a class the way a user wrote it: ``module.QualName``."""
    if isinstance(tp, type):
        module = tp.__module__
        if module == "builtins":
            return tp.__qualname__
        return f"{module}.{tp.__qualname__}"
    return repr(tp)


def describe_handler(handler: object, owner: str | None) -> str:
    """``handler 'mod.func' of plugin 'audit'`` (or without the plugin part)."""
    name = getattr(handler, "__qualname__", None) or repr(handler)
    module = getattr(handler, "__module__", None)
    qualified = f"{module}.{name}" if module else name
    if owner is None:
        return f"handler {qualified!r}"
    return f"handler {qualified!r} of plugin {owner!r}"


def _limit(seconds: float) -> str:
    return f"{seconds:g} s"


class EventBusError(Exception):
    """Root of every error raised by trio-eventbus itself."""

    # The constructor arguments, replayed by ``__reduce__`` so that every
    # error survives a pickle round-trip (a subprocess or a bridge may carry it).
    _init_args: tuple[Any, ...] = ()
    _init_kwargs: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance, never mutated

    def __reduce__(self) -> Any:
        if not self._init_args and not self._init_kwargs:
            return super().__reduce__()
        return (_rebuild, (type(self), self._init_args, self._init_kwargs), self.__dict__)


def _rebuild(cls: type[EventBusError], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return cls(*args, **kwargs)


class BusClosed(EventBusError, RuntimeError):
    """The bus or scope is closed (or closing) and takes no more work."""

    def __init__(self, what: str = "bus", action: str = "emit") -> None:
        self._init_args = (what, action)
        self.what = what
        super().__init__(
            f"cannot {action} on the {what}: it is closed. "
            f"Emit and subscribe only inside its 'async with' block."
        )


class ConfigError(EventBusError, ValueError):
    """A configuration problem; ``problems`` lists one line per bad key."""

    def __init__(self, problems: Sequence[str] | str, *, source: str | None = None) -> None:
        items = [problems] if isinstance(problems, str) else list(problems)
        self._init_args = (items,)
        self._init_kwargs = {"source": source}
        self.problems: tuple[str, ...] = tuple(items)
        self.source = source
        where = f" in {source}" if source else ""
        if len(items) == 1:
            message = f"invalid configuration{where}: {items[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in items)
            message = f"invalid configuration{where} ({len(items)} problems):\n{lines}"
        super().__init__(message)


class OrderError(EventBusError, ValueError):
    """``before``/``after`` constraints form a cycle."""

    def __init__(self, owners: Sequence[str], event_type: object, kind: str) -> None:
        self._init_args = (list(owners), event_type, kind)
        self.owners = tuple(owners)
        self.event_type = event_type
        self.kind = kind
        cycle = " -> ".join([*self.owners, self.owners[0]]) if self.owners else "?"
        super().__init__(
            f"cannot order the {kind}s of {type_name(event_type)}: before/after "
            f"constraints form a cycle ({cycle}). Remove one of the before=/after= "
            f"options of: {', '.join(repr(o) for o in dict.fromkeys(self.owners))}."
        )


class PluginError(EventBusError):
    """A plugin failed to load, configure, order, start or stop."""

    def __init__(
        self,
        message: str,
        *,
        phase: PluginPhase,
        plugin: str | None = None,
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        self._init_args = (message,)
        self._init_kwargs = {
            "phase": phase,
            "plugin": plugin,
            "distribution": distribution,
            "version": version,
        }
        self.phase = phase
        self.plugin = plugin
        self.distribution = distribution
        self.version = version
        parts = [f"plugin {plugin!r}" if plugin else "plugins"]
        if distribution:
            parts.append(f"(from {distribution} {version or '?'})")
        super().__init__(f"{' '.join(parts)} failed to {phase}: {message}")


class PipeError(EventBusError, TypeError):
    """A pipe returned something that is not an event of the emitted type."""

    def __init__(
        self, handler: str, owner: str | None, event_type: object, returned: object
    ) -> None:
        self._init_args = (handler, owner, event_type, returned)
        self.handler = handler
        self.owner = owner
        self.event_type = event_type
        self.returned = returned
        who = f"pipe {handler!r}" + (f" of plugin {owner!r}" if owner else "")
        what = "None" if returned is None else f"{type_name(type(returned))} {returned!r:.80}"
        super().__init__(
            f"{who} returned {what} for a {type_name(event_type)} event; a pipe must "
            f"return the event to pass on (an instance of {type_name(event_type)}, "
            f"e.g. attrs.evolve(event, ...)) or raise eventbus.Rejected(reason) to stop "
            f"the chain."
        )


class Rejected(EventBusError):
    """Raised by a pipe to stop the chain on purpose: a decision, not a failure."""

    def __init__(self, reason: str = "") -> None:
        self._init_args = (reason,)
        self.reason = reason
        #: Filled in by the bus: which pipe rejected the event.
        self.handler: str | None = None
        self.owner: str | None = None
        super().__init__(reason)

    def __str__(self) -> str:
        return self.reason or "the event was rejected by a pipe (no reason given)"


class ListenerError(EventBusError, ExceptionGroup[Exception]):
    """One or more listeners failed; each member carries a note naming its handler."""

    def __new__(cls, message: str, exceptions: Sequence[Exception]) -> Self:
        return super().__new__(cls, message, exceptions)

    def __init__(self, message: str, exceptions: Sequence[Exception]) -> None:
        super().__init__(message, exceptions)

    def derive(self, excs: Sequence[Exception]) -> ListenerError:  # type: ignore[override]
        return ListenerError(self.message, excs)

    def __reduce__(self) -> Any:
        return (type(self), (self.message, list(self.exceptions)), self.__dict__)


class HandlerTimeout(EventBusError, TimeoutError):
    """A handler ran past its ``timeout``."""

    def __init__(self, handler: str, owner: str | None, event_type: object, limit: float) -> None:
        self._init_args = (handler, owner, event_type, limit)
        self.handler = handler
        self.owner = owner
        self.event_type = event_type
        self.limit = limit
        who = f"handler {handler!r}" + (f" of plugin {owner!r}" if owner else "")
        super().__init__(
            f"{who} timed out after {_limit(limit)} handling a {type_name(event_type)} "
            f"event; make it faster or raise its timeout= (or the bus/scope default)."
        )


class EmitTimeout(EventBusError, TimeoutError):
    """A whole ``emit(..., timeout=)`` ran out of time."""

    def __init__(
        self,
        event_type: object,
        limit: float,
        handler: str | None = None,
        owner: str | None = None,
    ) -> None:
        self._init_args = (event_type, limit, handler, owner)
        self.event_type = event_type
        self.limit = limit
        self.handler = handler
        self.owner = owner
        running = ""
        if handler:
            running = (
                f" while handler {handler!r}"
                + (f" of plugin {owner!r}" if owner else "")
                + " was running"
            )
        super().__init__(
            f"emit of a {type_name(event_type)} event timed out after {_limit(limit)}"
            f"{running}; raise the emit's timeout= or make its handlers faster."
        )


class WaitTimeout(EventBusError, TimeoutError):
    """``wait_for`` saw no matching event in time."""

    def __init__(self, event_type: object, limit: float) -> None:
        self._init_args = (event_type, limit)
        self.event_type = event_type
        self.limit = limit
        super().__init__(
            f"no matching {type_name(event_type)} event arrived within {_limit(limit)}; "
            f"check that something emits it and that where= accepts it."
        )
