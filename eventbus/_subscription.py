"""Subscriptions: one handler bound to one event type on one bus or scope.

Validation happens here, at subscribe time, so that a bad option is an error
at the call site and the hot path never checks anything twice.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar, final, overload

if TYPE_CHECKING:
    import trio

    from ._bus import Bus

__all__ = [
    "HandlerDecorator",
    "Kind",
    "Overflow",
    "PipeDecorator",
    "Subscription",
    "check_positive_int",
    "check_timeout",
    "validate_options",
]

Kind = Literal["pipe", "listener", "hook", "stream"]
Overflow = Literal["wait", "drop"]
KINDS: Final = ("pipe", "listener", "hook")
OVERFLOWS: Final = ("wait", "drop")

E = TypeVar("E")
R = TypeVar("R")

# How the dispatcher calls a handler; chosen once, here, at subscribe time.
CALL_SYNC: Final = 0  # plain function, called inline
CALL_ASYNC: Final = 1  # async function, awaited directly
CALL_GUARDED: Final = 2  # timeout and/or thread: the slow path


def _is_async_callable(handler: object) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(type(handler), "__call__", None)  # noqa: B004 - the class's __call__, not callable()
    return call is not None and inspect.iscoroutinefunction(call)


def _is_async_gen_callable(handler: object) -> bool:
    if inspect.isasyncgenfunction(handler):
        return True
    call = getattr(type(handler), "__call__", None)  # noqa: B004
    return call is not None and inspect.isasyncgenfunction(call)


def _names(value: str | Iterable[str], option: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise TypeError(
            f"{where}: {option}= takes a plugin name or a list of plugin names, got {value!r}"
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{where}: {option}= takes plugin names (str), got {name!r}")
    return names


def check_timeout(value: object, what: str) -> float | None:
    """Validate a timeout option: ``None`` or a number of seconds >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what}: timeout must be a number of seconds or None, got {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(
            f"{what}: timeout must be >= 0 seconds (or None for no limit), got {value!r}"
        )
    return float(value)


def check_positive_int(value: object, what: str) -> int:
    """Validate an option that must be an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an int >= 1, got {value!r}")
    return value


def validate_options(
    event_type: object,
    handler: object,
    kind: str,
    *,
    order: object = 0,
    before: str | Iterable[str] = (),
    after: str | Iterable[str] = (),
    timeout: object = None,
    thread: object = False,
    capacity: object = None,
    concurrency: object = 1,
    overflow: object = "wait",
    where: str | None = None,
) -> dict[str, Any]:
    """Check every option and return them normalised; raises at the call site."""
    if where is not None:
        what = where
    else:
        name = getattr(handler, "__qualname__", None)  # repr() only when there is none
        what = f"subscribing {name if isinstance(name, str) else repr(handler)}"
    if not isinstance(event_type, type):
        raise TypeError(f"{what}: the event type must be a class, got {event_type!r}")
    if kind not in (*KINDS, "stream"):
        raise ValueError(f"{what}: unknown kind {kind!r}; choose one of 'pipe', 'listener', 'hook'")
    if kind != "stream":
        if not callable(handler):
            raise TypeError(f"{what}: the handler must be a function or callable, got {handler!r}")
        if _is_async_gen_callable(handler):
            raise TypeError(
                f"{what}: the handler is an async generator function; handlers are "
                f"plain or 'async def' functions that return (pipes) or end"
            )
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(f"{what}: order must be an int, got {order!r}")
    limit = check_timeout(timeout, what)
    if not isinstance(thread, bool):
        raise TypeError(f"{what}: thread must be True or False, got {thread!r}")
    is_async = kind != "stream" and _is_async_callable(handler)
    if thread and is_async:
        raise TypeError(
            f"{what}: thread=True runs a plain function in a worker thread; "
            f"this handler is 'async def' already, drop thread=True"
        )
    if kind not in ("hook", "stream"):
        if capacity is not None:
            raise TypeError(f"{what}: capacity= applies to hooks only, not to a {kind}")
        if concurrency != 1:
            raise TypeError(f"{what}: concurrency= applies to hooks only, not to a {kind}")
        if overflow != "wait":
            raise TypeError(f"{what}: overflow= applies to hooks only, not to a {kind}")
    if capacity is not None:
        check_positive_int(capacity, f"{what}: capacity (queue size)")
    check_positive_int(concurrency, f"{what}: concurrency (workers)")
    if overflow not in OVERFLOWS:
        raise ValueError(f"{what}: overflow must be 'wait' or 'drop', got {overflow!r}")
    return {
        "order": order,
        "before": _names(before, "before", what),
        "after": _names(after, "after", what),
        "timeout": limit,
        "thread": thread,
        "capacity": capacity,
        "concurrency": concurrency,
        "overflow": overflow,
        "is_async": is_async,
    }


@final
class Subscription(Generic[E]):
    """One handler subscribed to one event type on a bus or scope.

    Returned by :meth:`Bus.subscribe`. ``cancel()`` removes it (idempotent);
    used as a context manager it is cancelled when the block exits.
    """

    __slots__ = (
        "_bus",
        "_call",
        "_dropping",
        "_idle",
        "_limit",
        "_receive",
        "_send",
        "_worker_scopes",
        "active",
        "after",
        "before",
        "calls",
        "capacity",
        "concurrency",
        "drops",
        "event_type",
        "failures",
        "handler",
        "kind",
        "lost",
        "order",
        "overflow",
        "owner",
        "pending",
        "rejected",
        "seq",
        "thread",
        "timed_calls",
        "timed_seconds",
        "timeout",
        "timeouts",
    )

    def __init__(
        self,
        bus: Bus,
        event_type: type[E],
        handler: Callable[..., Any] | None,
        kind: Kind,
        options: dict[str, Any],
        owner: str | None,
        seq: int,
    ) -> None:
        self._bus = bus
        self.event_type: type[E] = event_type
        self.handler = handler
        self.kind: Kind = kind
        self.order: int = options["order"]
        self.before: tuple[str, ...] = options["before"]
        self.after: tuple[str, ...] = options["after"]
        self.timeout: float | None = options["timeout"]
        self.thread: bool = options["thread"]
        self.capacity: int | None = options["capacity"]
        self.concurrency: int = options["concurrency"]
        self.overflow: Overflow = options["overflow"]
        self.owner = owner
        self.seq = seq
        self.active = True
        # Filled in by the bus: the effective limit and the call mode.
        self._limit: float | None = None
        self._call = CALL_ASYNC if options["is_async"] else CALL_SYNC
        # Statistics, updated in place by the dispatcher.
        self.calls = 0
        self.rejected = 0
        self.failures = 0
        self.timeouts = 0
        self.drops = 0
        self.lost = 0
        # Time spent, over the calls that were timed (see _dispatch.SAMPLE_EVERY).
        self.timed_calls = 0
        self.timed_seconds = 0.0
        # Hook and stream queues.
        self.pending = 0
        self._send: trio.MemorySendChannel[Any] | None = None
        self._receive: trio.MemoryReceiveChannel[Any] | None = None
        self._worker_scopes: list[trio.CancelScope] = []
        self._idle: trio.Event | None = None
        self._dropping = False

    @property
    def bus(self) -> Bus:
        """The bus or scope this subscription was made on."""
        return self._bus

    def cancel(self) -> None:
        """Remove the subscription; a no-op when it is gone already.

        A hook's queued events are still delivered (the queue drains in the
        background, bounded by the bus's ``drain_timeout`` when it closes).
        """
        if self.active:
            self._bus._unsubscribe(self)

    def __enter__(self) -> Subscription[E]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cancel()

    def __repr__(self) -> str:
        name = getattr(self.handler, "__qualname__", repr(self.handler))
        owner = f" owner={self.owner!r}" if self.owner else ""
        state = "" if self.active else " cancelled"
        return (
            f"<Subscription {self.kind} {name} on {self.event_type.__qualname__}"
            f" order={self.order}{owner}{state}>"
        )


def estimated_seconds(sub: Subscription[Any]) -> float:
    """Time spent in the handler: exact when every call was timed, else
    scaled from the timed ones."""
    if sub.timed_calls == 0 or sub.timed_calls >= sub.calls:
        return sub.timed_seconds
    return sub.timed_seconds * sub.calls / sub.timed_calls


class PipeDecorator(Generic[E]):
    """``bus.pipe(T)``: decorates ``(T) -> T`` or ``async (T) -> T`` functions."""

    __slots__ = ("_register",)

    def __init__(self, register: Callable[[Callable[..., Any]], object]) -> None:
        self._register = register

    @overload
    def __call__(self, handler: Callable[[E], Awaitable[E]]) -> Callable[[E], Awaitable[E]]: ...
    @overload
    def __call__(self, handler: Callable[[E], E]) -> Callable[[E], E]: ...
    def __call__(self, handler: Callable[[E], Any]) -> Callable[[E], Any]:
        self._register(handler)
        return handler


class HandlerDecorator(Generic[E]):
    """``bus.listener(T)`` / ``bus.hook(T)``: decorates functions taking a ``T``."""

    __slots__ = ("_register",)

    def __init__(self, register: Callable[[Callable[..., Any]], object]) -> None:
        self._register = register

    def __call__(self, handler: Callable[[E], R]) -> Callable[[E], R]:
        self._register(handler)
        return handler
