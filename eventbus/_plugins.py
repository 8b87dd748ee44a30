"""The ``Plugin`` base class and the ``pipe`` / ``listener`` / ``hook`` method decorators.

A plugin is a class::

    class AuditPlugin(eventbus.Plugin):
        name = "audit"
        requires = ("storage",)
        Options = AuditOptions

        @eventbus.pipe(DocumentCreating, order=-10, timeout=2.0)
        async def stamp(self, event): ...

The decorators only mark the function (it is returned unchanged) after
checking it: a handler method takes ``(self, event)``, is not an async
generator, and its options are the bus's (``owner`` excepted: the plugin's
name is the owner). A mistake is a ``TypeError`` or ``ValueError`` raised at
the decorator line, naming the class and the method, so a broken plugin fails
when its module is imported (which the loader reports as
``PluginError(phase="load")``).

``Plugin.__init_subclass__`` collects the marked methods once per class, in
class-body order with inherited handlers first; :func:`handler_specs` returns
them for the lifecycle, which subscribes ``getattr(plugin, spec.method)``. A
subclass that redefines a handler method without a decorator drops that
handler: what a class body shows is what it subscribes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Literal, TypeVar, overload

import attrs

from ._errors import type_name
from ._subscription import validate_options

if TYPE_CHECKING:
    from typing import Never

    from ._bus import Bus

__all__ = ["HandlerSpec", "Plugin", "handler_specs", "hook", "listener", "pipe"]

E = TypeVar("E")
S = TypeVar("S")
R = TypeVar("R")

HandlerKind = Literal["pipe", "listener", "hook"]

#: Attribute set on a decorated function: the marks, top decorator first.
_MARKS: Final = "__eventbus_marks__"
#: Class attribute set by ``__init_subclass__``: every handler of the class.
_SPECS: Final = "__eventbus_handlers__"


@attrs.frozen
class HandlerSpec:
    """One decorated method of a plugin class, as the lifecycle subscribes it.

    Attributes:
        method: The method's name (subscribed as ``getattr(plugin, method)``).
        kind: ``"pipe"``, ``"listener"`` or ``"hook"``.
        event_type: The event class.
        options: Keyword arguments for ``Bus.subscribe`` (``owner`` excluded),
            as written in the decorator.
    """

    method: str
    kind: HandlerKind
    event_type: type
    options: Mapping[str, Any] = attrs.field(hash=False)


@attrs.frozen
class _Mark:
    kind: HandlerKind
    event_type: type
    options: Mapping[str, Any] = attrs.field(hash=False)


def _where(kind: str, event_type: object, fn: object) -> str:
    target = getattr(fn, "__qualname__", None) or repr(fn)
    return f"@eventbus.{kind}({type_name(event_type)}) on {target}"


def _check_method(kind: HandlerKind, event_type: object, fn: object) -> None:
    """Raise ``TypeError`` unless ``fn`` is a plain method taking ``(self, event)``."""
    where = _where(kind, event_type, fn)
    if isinstance(fn, staticmethod | classmethod):
        raise TypeError(
            f"{where}: a plugin handler is a plain method taking (self, event), "
            f"not a {type(fn).__name__}; remove @{type(fn).__name__}"
        )
    if not inspect.isfunction(fn):
        raise TypeError(
            f"{where}: decorate a method (a 'def' in a Plugin class body), got {fn!r}; "
            f"to subscribe another callable use bus.{kind}(...) or bus.subscribe(...)"
        )
    if inspect.isasyncgenfunction(fn):
        raise TypeError(
            f"{where}: the method is an async generator; handlers are plain or "
            f"'async def' methods that return (pipes) or end"
        )
    try:
        inspect.signature(fn).bind(object(), object())
    except TypeError:
        raise TypeError(
            f"{where}: a handler method must take exactly (self, event), "
            f"but it is defined as {fn.__name__}{inspect.signature(fn)}"
        ) from None


class _MethodMarker(Generic[E]):
    """What ``eventbus.listener(T, ...)`` and ``eventbus.hook(T, ...)`` return."""

    __slots__ = ("_event_type", "_kind", "_options", "_unknown")

    def __init__(
        self,
        kind: HandlerKind,
        event_type: type[E],
        options: dict[str, Any],
        unknown: dict[str, Any],
    ) -> None:
        self._kind = kind
        self._event_type = event_type
        self._options = options
        self._unknown = unknown

    def _mark(self, fn: Any) -> None:
        kind, event_type = self._kind, self._event_type
        where = _where(kind, event_type, fn)
        if self._unknown:
            bad = sorted(self._unknown)
            if "owner" in self._unknown:
                raise TypeError(
                    f"{where}: owner= is not allowed on a plugin's handler: the "
                    f"plugin's name is its owner"
                )
            valid = ", ".join(_VALID_OPTIONS[kind])
            raise TypeError(
                f"{where}: unknown option{'s' if len(bad) > 1 else ''} "
                f"{', '.join(repr(b) for b in bad)}; valid options: {valid}"
            )
        _check_method(kind, event_type, fn)
        # The bus's own checks, with this message prefix; the normalised result
        # is thrown away: the options are checked again at subscribe time.
        validate_options(event_type, fn, kind, where=where, **self._options)
        marks: list[_Mark] = list(getattr(fn, _MARKS, ()))
        # Decorators apply bottom-up; keep the top one first, as written.
        marks.insert(0, _Mark(kind, event_type, dict(self._options)))
        setattr(fn, _MARKS, tuple(marks))

    def __call__(self, fn: Callable[[S, E], R]) -> Callable[[S, E], R]:
        self._mark(fn)
        return fn


class _PipeMarker(_MethodMarker[E]):
    """What ``eventbus.pipe(T, ...)`` returns: decorates ``(self, T) -> T``."""

    __slots__ = ()

    @overload  # type: ignore[override]
    def __call__(self, fn: Callable[[S, E], Awaitable[E]]) -> Callable[[S, E], Awaitable[E]]: ...
    @overload
    def __call__(self, fn: Callable[[S, E], E]) -> Callable[[S, E], E]: ...
    def __call__(self, fn: Callable[[S, E], Any]) -> Callable[[S, E], Any]:
        self._mark(fn)
        return fn


_COMMON: Final = ("order", "before", "after", "timeout", "thread")
_VALID_OPTIONS: Final[Mapping[HandlerKind, tuple[str, ...]]] = {
    "pipe": _COMMON,
    "listener": _COMMON,
    "hook": (*_COMMON, "capacity", "concurrency", "overflow"),
}


def pipe(
    event_type: type[E],
    *,
    order: int = 0,
    before: str | Iterable[str] = (),
    after: str | Iterable[str] = (),
    timeout: float | None = None,
    thread: bool = False,
    **unknown: Never,
) -> _PipeMarker[E]:
    """Mark a plugin method as a pipe for ``event_type`` (options as ``Bus.pipe``).

    The method takes ``(self, event)`` and returns the event to pass on.

    Raises:
        TypeError, ValueError: When applied, for a bad method or option, naming
            the class and the method.
    """
    options = {"order": order, "before": before, "after": after}
    options |= {"timeout": timeout, "thread": thread}
    return _PipeMarker("pipe", event_type, options, dict(unknown))


def listener(
    event_type: type[E],
    *,
    order: int = 0,
    before: str | Iterable[str] = (),
    after: str | Iterable[str] = (),
    timeout: float | None = None,
    thread: bool = False,
    **unknown: Never,
) -> _MethodMarker[E]:
    """Mark a plugin method as a listener for ``event_type`` (options as ``Bus.listener``).

    Raises:
        TypeError, ValueError: When applied, for a bad method or option, naming
            the class and the method.
    """
    options = {"order": order, "before": before, "after": after}
    options |= {"timeout": timeout, "thread": thread}
    return _MethodMarker("listener", event_type, options, dict(unknown))


def hook(
    event_type: type[E],
    *,
    order: int = 0,
    before: str | Iterable[str] = (),
    after: str | Iterable[str] = (),
    timeout: float | None = None,
    thread: bool = False,
    capacity: int | None = None,
    concurrency: int = 1,
    overflow: Literal["wait", "drop"] = "wait",
    **unknown: Never,
) -> _MethodMarker[E]:
    """Mark a plugin method as a hook for ``event_type`` (options as ``Bus.hook``).

    Raises:
        TypeError, ValueError: When applied, for a bad method or option, naming
            the class and the method.
    """
    options = {"order": order, "before": before, "after": after}
    options |= {"timeout": timeout, "thread": thread, "capacity": capacity}
    options |= {"concurrency": concurrency, "overflow": overflow}
    return _MethodMarker("hook", event_type, options, dict(unknown))


class Plugin:
    """Base class of plugins: decorated handler methods, options and a lifespan.

    Class attributes:
        name: The plugin's unique name; None takes the entry point's name (or,
            for an instance passed to ``open_bus``, the class name).
        requires: Names of plugins started before this one and stopped after it.
        Options: An attrs class (or dataclass) that the plugin's config table is
            structured into and passed to ``__init__``; None: no options.

    Override ``lifespan`` (an ``@contextlib.asynccontextmanager`` method) to
    hold resources while the plugin runs.
    """

    name: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type | None] = None
    __eventbus_handlers__: ClassVar[tuple[HandlerSpec, ...]] = ()

    def __init__(self, options: Any = None) -> None:
        self.options = options

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: Bus) -> AsyncIterator[None]:  # noqa: ASYNC911 - the default does nothing
        """Run around the plugin's active life: set up, ``yield``, clean up.

        Entered (under ``start_timeout``) before the handlers are subscribed,
        exited (under ``stop_timeout``, shielded) after they are removed and
        the plugin's hook queues drained. The default does nothing (and is
        not even entered).
        """
        yield  # noqa: ASYNC911 - does nothing, so has nothing to wait for

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_class(cls)
        setattr(cls, _SPECS, _collect(cls))

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<{type(self).__qualname__}{name}>"


def _check_class(cls: type[Plugin]) -> None:
    where = f"plugin class {cls.__module__}.{cls.__qualname__}"
    name = cls.__dict__.get("name", None)
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"{where}: name must be a non-empty str (or None), got {name!r}")
    requires = cls.__dict__.get("requires", ())
    if isinstance(requires, str) or not isinstance(requires, tuple | list):
        raise TypeError(
            f"{where}: requires must be a tuple of plugin names, got {requires!r}"
            + (f"; write requires = ({requires!r},)" if isinstance(requires, str) else "")
        )
    for required in requires:
        if not isinstance(required, str) or not required:
            raise TypeError(f"{where}: requires holds plugin names (str), got {required!r}")
    if isinstance(requires, list):
        cls.requires = tuple(requires)
    options = cls.__dict__.get("Options", None)
    if options is not None and not (
        isinstance(options, type) and (attrs.has(options) or dataclasses.is_dataclass(options))
    ):
        raise TypeError(
            f"{where}: Options must be an attrs class or a dataclass (or None), got {options!r}"
        )
    lifespan = cls.__dict__.get("lifespan")
    if lifespan is not None and (
        inspect.isasyncgenfunction(lifespan) or inspect.iscoroutinefunction(lifespan)
    ):
        what = "an async generator" if inspect.isasyncgenfunction(lifespan) else "a coroutine"
        raise TypeError(
            f"{where}: lifespan is {what} function; it must return an async context "
            f"manager: decorate it with @contextlib.asynccontextmanager"
        )


def _collect(cls: type) -> tuple[HandlerSpec, ...]:
    """Every handler of ``cls``: base classes' first, each in class-body order.

    A base's handler counts only if that base still provides the method (no
    class nearer in the MRO redefines the name).
    """
    mro = cls.__mro__
    provider: dict[str, type] = {}
    for klass in mro:
        for attr in vars(klass):
            provider.setdefault(attr, klass)
    specs: list[HandlerSpec] = []
    for klass in reversed(mro):
        for attr, value in vars(klass).items():
            if provider.get(attr) is not klass:
                continue
            specs.extend(
                HandlerSpec(attr, mark.kind, mark.event_type, mark.options)
                for mark in getattr(value, _MARKS, ())
                if inspect.isfunction(value)
            )
    return tuple(specs)


def handler_specs(plugin: Plugin | type[Plugin]) -> tuple[HandlerSpec, ...]:
    """The handlers a plugin (class or instance) subscribes, in registration order."""
    cls = plugin if isinstance(plugin, type) else type(plugin)
    specs: tuple[HandlerSpec, ...] = getattr(cls, _SPECS, ())
    return specs
