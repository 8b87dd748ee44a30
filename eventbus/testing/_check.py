"""``check_plugin``: property-based contract checks for one plugin.

The clauses, each checked on events that hypothesis generates for every
subscribed type (``events(T)`` unless the caller gives strategies):

- ``lifespan``: the plugin starts and stops cleanly, twice in a row, and
  leaves no task running after it stops;
- ``pipe result``: every pipe returns an instance of the event's type (or a
  subclass) or raises ``eventbus.Rejected``;
- ``timeout``: no handler runs past its timeout (its own ``timeout=``, else
  the bus default for its kind), and none without a timeout hangs;
- ``cancellation``: cancelled from outside after any of its checkpoints,
  each ``async`` handler lets ``trio.Cancelled`` propagate (never returns
  normally or raises something else once trio delivered it) and leaves no
  task running;
- ``mutation``: no handler changes the event it was given (compared with a
  deep copy taken before the call) or tries to (``FrozenInstanceError``).

Every example runs in a fresh ``trio.run`` on
``trio.testing.MockClock(autojump_threshold=0)``, inside ``plugin_harness``
(so the plugin's lifespan is up), and calls the handler directly through its
subscription, found in ``PluginInfo.subscriptions``. The run happens in a
worker thread so that a handler that never ends (a shielded wait forever, or
a loop that swallows every ``Cancelled``) is reported after ``hang_timeout``
seconds of real time instead of hanging the test suite; that thread is then
abandoned.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, TypeVar, final

import attrs
import trio
import trio.testing
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import eventbus

from ._harness import plugin_harness
from ._probe import CallResult, all_tasks, call_handler, is_cancelled
from ._strategies import events as events_of

__all__ = ["CLAUSES", "check_plugin"]

R = TypeVar("R")

#: Every clause, by the name failures give, with what it promises.
CLAUSES: Final[Mapping[str, str]] = {
    "lifespan": "the lifespan starts and stops cleanly, twice in a row",
    "pipe result": "every pipe returns an event of an allowed type or raises eventbus.Rejected",
    "timeout": "no handler runs past its timeout",
    "cancellation": "every handler survives cancellation at any checkpoint",
    "mutation": "no handler mutates the event it was given",
}

#: Mock-clock seconds after which a handler without a timeout is said to hang.
_HANG: Final = 24 * 3600.0
#: The most checkpoints a handler is cancelled at, per example (spread evenly).
_MAX_CUTS: Final = 24
_NO_EVENT: Final = object()


class _Violation(Exception):
    """A broken clause, raised inside the property and reported by check_plugin."""

    def __init__(
        self,
        clause: str,
        problem: str,
        *,
        handler: str | None = None,
        event: object = _NO_EVENT,
        shrunk: bool = True,
    ) -> None:
        super().__init__(problem)
        self.clause = clause
        self.problem = problem
        self.handler = handler
        self.event = event
        self.shrunk = shrunk


@final
@attrs.frozen
class _Handler:
    """One subscription of the plugin, as the checks need it."""

    index: int
    kind: str
    event_type: type
    qualname: str
    #: The effective time limit: its own ``timeout``, else the bus default.
    limit: float | None
    #: ``thread=True``: a plain function the bus runs in a worker thread.
    thread: bool

    def __str__(self) -> str:
        limit = "" if self.limit is None else f", timeout {self.limit:g} s"
        return f"{self.kind} {self.qualname!r} on {self.event_type.__qualname__}{limit}"


@final
@attrs.frozen
class _Target:
    """What to run: the arguments of check_plugin that plugin_harness takes."""

    plugin: Any
    options: object
    config: object
    requires: tuple[Any, ...]

    def harness(self) -> Any:
        return plugin_harness(self.plugin, self.options, config=self.config, requires=self.requires)

    def describe(self) -> str:
        cls = self.plugin if isinstance(self.plugin, type) else type(self.plugin)
        name = self.plugin.name or cls.__name__
        return f"{name!r} ({cls.__module__}:{cls.__qualname__})"


class _Stage:
    """What the worker thread is doing: the clause to blame if it never returns."""

    def __init__(self) -> None:
        self.clause = "lifespan"
        self.problem = ""
        self.handler: str | None = None

    def set(self, clause: str, problem: str, handler: _Handler | None = None) -> None:
        self.clause = clause
        self.problem = problem
        self.handler = None if handler is None else str(handler)


def _run_trio(
    main: Callable[[], Awaitable[R]], stage: _Stage, hang_timeout: float, event: object
) -> R:
    """``trio.run(main)`` on an autojump MockClock, in a thread we can walk away from."""
    box: dict[str, Any] = {}
    clock = trio.testing.MockClock(autojump_threshold=0)

    async def run() -> R:
        box["token"] = trio.lowlevel.current_trio_token()
        return await main()

    def target() -> None:
        try:
            box["value"] = trio.run(run, clock=clock)
        except BaseException as exc:  # noqa: ASYNC103 - a thread: the outcome goes to the caller
            box["error"] = exc

    worker = threading.Thread(target=target, name="eventbus.testing.check_plugin", daemon=True)
    worker.start()
    worker.join(hang_timeout)
    if worker.is_alive():
        # With nothing left to jump to, an autojump clock polls without pause:
        # let the abandoned run sleep instead (its loop applies the change).
        with contextlib.suppress(KeyError, trio.RunFinishedError):
            box["token"].run_sync_soon(setattr, clock, "autojump_threshold", math.inf)
        raise _Violation(
            stage.clause,
            f"{stage.problem}: it did not end within {hang_timeout:g} s of real time "
            f"(the clock is a MockClock, so no sleep explains it): it shields a wait that "
            f"never ends or swallows every trio.Cancelled. check_plugin gave up on it; "
            f"its thread is left running",
            handler=stage.handler,
            event=event,
            shrunk=False,
        )
    if "error" in box:
        raise box["error"]
    value: R = box["value"]
    return value


# -- lifespan ---------------------------------------------------------------------------


async def _lifespan_twice(target: _Target, stage: _Stage) -> list[_Handler]:
    handlers: list[_Handler] = []
    for attempt in ("first", "second"):
        stage.set("lifespan", f"on the {attempt} start or stop")
        before = all_tasks()
        try:
            async with target.harness() as h:
                if not handlers:
                    handlers = _handlers(h.subscriptions, h.bus.settings)
        except eventbus.PluginError as exc:
            if exc.phase not in ("start", "stop"):
                raise  # load, config, order: the call is wrong, not the plugin
            raise _Violation("lifespan", f"the {attempt} time, the bus reported: {exc}") from exc
        await trio.testing.wait_all_tasks_blocked()
        left = all_tasks() - before
        if left:
            raise _Violation(
                "lifespan",
                f"after the {attempt} stop, it left {_tasks(left)} running; start tasks in "
                f"a nursery that the lifespan opens, so that they end when it exits",
            )
    return handlers


def _handlers(
    subscriptions: Iterable[eventbus.Subscription[Any]], bus_settings: Any
) -> list[_Handler]:
    found = []
    for index, sub in enumerate(subscriptions):
        limit = sub.timeout
        if limit is None:
            limit = getattr(bus_settings, f"{sub.kind}_timeout", None)
        found.append(
            _Handler(
                index=index,
                kind=sub.kind,
                event_type=sub.event_type,
                qualname=getattr(sub.handler, "__qualname__", repr(sub.handler)),
                limit=limit,
                thread=sub.thread,
            )
        )
    return found


def _tasks(tasks: Iterable[trio.lowlevel.Task]) -> str:
    """``1 task ('name')`` or ``3 tasks ('a', 'b', 'c')``."""
    names = sorted(t.name for t in tasks)
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    return f"{len(names)} task{'s' if len(names) > 1 else ''} ({shown})"


# -- one example: one handler, one event -------------------------------------------------


async def _exercise(target: _Target, handler: _Handler, event: object, stage: _Stage) -> None:
    async with target.harness() as h:
        call = h.subscriptions[handler.index].handler
        before = _snapshot(event)
        stage.set("timeout", "called (not cancelled)", handler)
        limit = _HANG if handler.limit is None else handler.limit
        base = await call_handler(call, event, inline=handler.thread, limit=limit)
        _check_mutation(handler, event, before, base)
        if handler.kind == "pipe":
            _check_pipe(handler, event, base)
        _check_timeout(handler, event, base)
        if base.is_async:
            await _check_cancellation(handler, call, event, base, limit, stage)


def _fail(clause: str, handler: _Handler, event: object, problem: str) -> _Violation:
    return _Violation(clause, problem, handler=str(handler), event=event)


def _check_mutation(handler: _Handler, event: object, before: object, base: CallResult) -> None:
    shown = event if before is _NO_EVENT else before
    frozen = _frozen_error(base.error)
    if frozen is not None:
        raise _fail(
            "mutation",
            handler,
            shown,
            f"it tried to change the event ({type(frozen).__name__}: {frozen}); events "
            f"are values: make a new one with attrs.evolve(event, ...)",
        ) from frozen
    if before is not _NO_EVENT and not _same(before, event):
        raise _fail(
            "mutation",
            handler,
            shown,
            f"it changed the event it was given, which every other handler shares: "
            f"after the call it was {event!r}; make a new one with attrs.evolve(event, ...)",
        )


def _check_pipe(handler: _Handler, event: object, base: CallResult) -> None:
    if base.limit_hit or is_cancelled(base.error):
        return
    expected = type(event).__qualname__
    if base.error is not None:
        if isinstance(base.error, eventbus.Rejected):
            return
        raise _fail(
            "pipe result",
            handler,
            event,
            f"it raised {_describe(base.error)}; a pipe returns the event to pass on, or "
            f"raises eventbus.Rejected(reason) to stop the chain on purpose: anything "
            f"else reaches the emitter as a failure",
        ) from base.error
    if not isinstance(base.value, type(event)):
        raise _fail(
            "pipe result",
            handler,
            event,
            f"it returned {base.value!r}, not a {expected} (the type of the event it was "
            f"given, or a subclass); return the event, e.g. attrs.evolve(event, ...), or "
            f"raise eventbus.Rejected(reason)",
        )


def _check_timeout(handler: _Handler, event: object, base: CallResult) -> None:
    if handler.limit is None:
        if base.limit_hit or base.elapsed >= _HANG:
            raise _fail(
                "timeout",
                handler,
                event,
                f"it had not finished after {_HANG:g} s of mock time (a day) and has no "
                f"timeout, so nothing would ever stop it; give it timeout= or make it end",
            )
        return
    if base.is_async and base.elapsed > handler.limit * (1 + 1e-9) + 1e-9:
        raise _fail(
            "timeout",
            handler,
            event,
            f"it ran for {base.elapsed:g} s of mock time, past its timeout of "
            f"{handler.limit:g} s: it shields its work from cancellation or swallows "
            f"trio.Cancelled",
        )


def _cut_points(steps: int) -> list[int]:
    if steps <= _MAX_CUTS:
        return list(range(steps))
    return sorted({round(i * (steps - 1) / (_MAX_CUTS - 1)) for i in range(_MAX_CUTS)})


async def _check_cancellation(  # noqa: ASYNC910 - after call_handler, which checkpointed
    handler: _Handler,
    call: Callable[[Any], Any],
    event: object,
    base: CallResult,
    limit: float,
    stage: _Stage,
) -> None:
    steps = base.steps
    for cut in _cut_points(steps):
        where = (
            "before its first checkpoint" if cut == 0 else f"at its checkpoint {cut} of {steps - 1}"
        )
        stage.set("cancellation", f"cancelled {where}", handler)
        run = await call_handler(call, event, limit=limit, cut=cut)
        if not run.cut:
            continue
        if run.delivered and not is_cancelled(run.error):
            if run.error is None:
                problem = (
                    f"cancelled {where}, it returned normally although trio delivered "
                    f"trio.Cancelled to it: it swallowed the cancellation (an except "
                    f"clause catching trio.Cancelled or BaseException without re-raising, "
                    f"or a return or break in a finally block)"
                )
            else:
                problem = (
                    f"cancelled {where}, it raised {_describe(run.error)} instead of "
                    f"letting trio.Cancelled propagate"
                )
            raise _fail("cancellation", handler, event, problem) from run.error
        if run.leaked and not base.leaked:
            raise _fail(
                "cancellation",
                handler,
                event,
                f"cancelled {where}, it left {_tasks(run.leaked)} running; start tasks "
                f"in a nursery the handler opens, so that they end (or are cancelled) "
                f"with it",
            )


# -- comparing events ----------------------------------------------------------------------


def _snapshot(event: object) -> object:
    try:
        return copy.deepcopy(event)
    except Exception:
        return _NO_EVENT  # cannot be copied: the mutation check is skipped


def _same(a: object, b: object, depth: int = 0) -> bool:
    """Equal field by field, whatever the classes' own ``__eq__`` says."""
    if a is b:
        return True
    if type(a) is not type(b) or depth > 64:
        return depth > 64
    cls = type(a)
    if attrs.has(cls):
        return all(
            _same(getattr(a, f.name), getattr(b, f.name), depth + 1) for f in attrs.fields(cls)
        )
    if dataclasses.is_dataclass(cls):
        return all(
            _same(getattr(a, f.name), getattr(b, f.name), depth + 1)
            for f in dataclasses.fields(cls)
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if cls.__eq__ is object.__eq__:
        # Identity equality says nothing about a copy: compare the contents.
        state_a, state_b = getattr(a, "__dict__", None), getattr(b, "__dict__", None)
        return state_a is None or _same(state_a, state_b, depth + 1)
    try:
        return bool(a == b)
    except Exception:
        return True


def _frozen_error(error: BaseException | None) -> BaseException | None:
    frozen = (attrs.exceptions.FrozenInstanceError, dataclasses.FrozenInstanceError)
    if isinstance(error, frozen):
        return error
    if isinstance(error, BaseExceptionGroup):
        found: BaseException | None = error.split(frozen)[0]
        while isinstance(found, BaseExceptionGroup):
            found = found.exceptions[0]
        return found
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- the entry point --------------------------------------------------------------------------


def _strategy(
    handler: _Handler,
    events: st.SearchStrategy[Any] | Mapping[type, st.SearchStrategy[Any]] | None,
) -> st.SearchStrategy[Any]:
    event_type = handler.event_type
    if isinstance(events, st.SearchStrategy):
        return events.filter(lambda e: isinstance(e, event_type))
    if events is not None and event_type in events:
        return events[event_type]
    try:
        return events_of(event_type)
    except TypeError as exc:
        exc.add_note(
            f"check_plugin: the {handler} subscribes to {event_type.__qualname__}; give "
            f"check_plugin(..., events={{{event_type.__qualname__}: <a strategy>}})"
        )
        raise


def _report(target: _Target, violation: _Violation) -> AssertionError:
    cls = target.plugin if isinstance(target.plugin, type) else type(target.plugin)
    lines = [
        (
            f"check_plugin({cls.__qualname__}): the clause {violation.clause!r} is broken: "
            f"{CLAUSES[violation.clause]}"
        ),
        f"  plugin:  {target.describe()}",
    ]
    if violation.handler is not None:
        lines.append(f"  handler: {violation.handler}")
    lines.append(f"  problem: {violation.problem}")
    if violation.event is not _NO_EVENT:
        how = "shrunk by hypothesis" if violation.shrunk else "the first that failed"
        lines.append(f"  event:   {violation.event!r} ({how})")
    return AssertionError("\n".join(lines))


def check_plugin(
    plugin: type[eventbus.Plugin] | eventbus.Plugin,
    options: object = None,
    *,
    max_examples: int = 50,
    events: st.SearchStrategy[Any] | Mapping[type, st.SearchStrategy[Any]] | None = None,
    config: object = None,
    requires: Iterable[eventbus.Plugin | type[eventbus.Plugin]] = (),
    hang_timeout: float = 10.0,
) -> None:
    """Check a plugin against the contract of a well-behaved plugin; raise if it breaks it.

    A plain function: call it from any sync test. The lifespan is checked
    first (started and stopped twice); then, for each handler of the
    plugin, hypothesis generates events of its subscribed type and checks
    every clause (see :data:`CLAUSES`) on each, shrinking a failure to the
    simplest event that shows it. Time is a ``MockClock``: timeouts and
    sleeps cost nothing.

    Args:
        plugin: A ``Plugin`` subclass (a fresh instance per example) or an
            instance (reused: started and stopped many times).
        options: As for :func:`plugin_harness`.
        max_examples: Events tried per handler.
        events: Strategies to use instead of ``events(T)``: a mapping from
            subscribed type to strategy (types not in it use ``events(T)``),
            or one strategy for every handler (each gets the events that are
            instances of its type).
        config: The bus configuration, as for :func:`plugin_harness`
            (``pipe_timeout`` and the like apply).
        requires: The plugins it requires, as for :func:`plugin_harness`.
        hang_timeout: Real seconds one example may take before the handler
            is reported as never ending.

    Raises:
        AssertionError: A clause is broken; the message names the clause, the
            plugin, the handler, the problem and the (shrunk) event.
        eventbus.PluginError: The plugin cannot be loaded or configured with
            these options (not a contract failure: the call is wrong).
        TypeError: ``events()`` cannot build a subscribed type and no
            strategy was given for it.
    """
    target = _Target(plugin, options, config, tuple(requires))
    stage = _Stage()
    try:
        handlers = _run_trio(lambda: _lifespan_twice(target, stage), stage, hang_timeout, _NO_EVENT)
        for handler in handlers:
            _check_handler(target, handler, events, max_examples, hang_timeout)
    except _Violation as violation:
        raise _report(target, violation) from violation.__cause__


def _check_handler(
    target: _Target,
    handler: _Handler,
    events: st.SearchStrategy[Any] | Mapping[type, st.SearchStrategy[Any]] | None,
    max_examples: int,
    hang_timeout: float,
) -> None:
    strategy = _strategy(handler, events)
    hung: list[_Violation] = []

    def example(event: object) -> None:
        if hung:
            # The thread of the first hang still runs: fail fast from now on
            # (the report shows the event that hung, not a shrunk one).
            raise hung[0]
        stage = _Stage()
        try:
            _run_trio(lambda: _exercise(target, handler, event, stage), stage, hang_timeout, event)
        except _Violation as violation:
            if not violation.shrunk:
                hung.append(violation)
            raise

    run = settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=(HealthCheck.too_slow,),
    )(given(strategy)(example))
    run()
