"""The hot path: dispatch plans, the pipe chain, listener fan-out, hook queues.

A :class:`Plan` is everything one emit of one event type on one bus or scope
needs, resolved at subscribe time: the pipes, listeners and hook queues in
run order, each with its call mode and effective time limit. ``Plan.run`` is
then flat loops over tuples. This module knows nothing of plugins,
configuration or entry points.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final, Protocol, final

import trio
from trio.lowlevel import (
    Task,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
)

from ._errors import HandlerTimeout, ListenerError, PipeError, Rejected, type_name
from ._instruments import Instruments
from ._subscription import CALL_ASYNC, CALL_SYNC, Subscription

if TYPE_CHECKING:
    from ._bus import Bus

__all__ = ["Entry", "Plan", "collapse_cancelled", "hook_worker", "logger_for", "note_handler"]

logger = logging.getLogger("eventbus")

#: (subscription, call mode, effective limit in seconds or None)
Entry = tuple[Subscription[Any], int, float | None]

_RUNNING: Final = "_eventbus_running"
_COUNTED: Final = "_eventbus_counted"

#: Without instruments, one emit in SAMPLE_EVERY (per plan) reads the clock
#: around each pipe; ``seconds`` in the stats is scaled from those samples.
#: A clock read costs about as much as an empty pipe call.
SAMPLE_EVERY: Final = 16
_SAMPLE_MASK: Final = SAMPLE_EVERY - 1

#: A hook worker takes a backlog of more than BACKLOG queued events up to
#: BACKLOG per schedule point (see hook_worker).
BACKLOG: Final = 16

#: What the timed emits without instruments observe: nobody.
_NOBODY: Final = Instruments()


# `await checkpoint_if_cancelled()` costs a coroutine of its own, about as
# much as the rest of an emit with no subscribers. `_cancel_pending(task)`
# makes its test without one: it counts the cancellation point (as trio does,
# for `trio.testing.assert_checkpoints`) and says whether a cancellation (or a
# KeyboardInterrupt) is due for `task`, the calling task (which emit has at
# hand already); only then is trio's function awaited, to deliver it. The
# test reads trio's private task state, so it is used only while
# trio's own function reads exactly that state (checked once, at import);
# otherwise `_cancel_pending` says yes every time and each emit awaits trio's
# function, which is always correct.
_TRIO_CANCEL_TEST: Final = frozenset(
    {
        "AssertionError",
        "_cancel_points",
        "_cancel_status",
        "_core",
        "_runner",
        "checkpoint",
        "current_task",
        "effectively_cancelled",
        "ki_pending",
        "main_task",
    }
)


def _cancel_due(task: Task) -> bool:
    task._cancel_points += 1
    return task._cancel_status.effectively_cancelled or (
        task is task._runner.main_task and task._runner.ki_pending
    )


def _always(task: Task) -> bool:
    return True


_cancel_pending: Final[Callable[[Task], bool]] = (
    _cancel_due
    if frozenset(checkpoint_if_cancelled.__code__.co_names) == _TRIO_CANCEL_TEST
    else _always
)


def logger_for(owner: str | None) -> logging.Logger:
    """``eventbus`` for the application's handlers, a child logger per plugin."""
    if owner is None:
        return logger
    return logging.getLogger(f"eventbus.plugin.{owner}")


def handler_name(sub: Subscription[Any]) -> str:
    handler = sub.handler
    return getattr(handler, "__qualname__", None) or repr(handler)


def note_handler(exc: BaseException, sub: Subscription[Any], event_type: type) -> None:
    """Add a PEP 678 note naming the handler that raised ``exc``."""
    owner = f" of plugin {sub.owner!r}" if sub.owner else ""
    scope = f" in scope {sub.bus.name!r}" if sub.bus.name is not None else ""
    exc.add_note(
        f"raised by {sub.kind} {handler_name(sub)!r}{owner}{scope} "
        f"handling a {type_name(event_type)} event"
    )


def _mark_running(exc: BaseException, sub: Subscription[Any]) -> None:
    # Remember which handler a cancellation interrupted, for EmitTimeout.
    if isinstance(exc, trio.Cancelled) and _RUNNING not in exc.__dict__:
        exc.__dict__[_RUNNING] = sub


def running_handler(exc: BaseException) -> Subscription[Any] | None:
    return exc.__dict__.get(_RUNNING)


def collapse_cancelled(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """A nursery's group of only ``Cancelled`` becomes one bare ``Cancelled``.

    Callers of ``emit`` see the cancellation they caused, not a group of it.
    """
    cancelled, rest = group.split(trio.Cancelled)
    if rest is None and cancelled is not None:
        exc: BaseException = cancelled
        while isinstance(exc, BaseExceptionGroup):
            exc = exc.exceptions[0]
        return exc
    return group


async def call_guarded(sub: Subscription[Any], limit: float | None, event: object) -> Any:
    """Call a handler that has a time limit or runs in a thread."""
    handler: Callable[..., Any] = sub.handler  # type: ignore[assignment]
    if limit is None:
        return await trio.to_thread.run_sync(handler, event, abandon_on_cancel=True)
    with trio.move_on_after(limit):
        if sub.thread:
            return await trio.to_thread.run_sync(handler, event, abandon_on_cancel=True)
        return await handler(event)
    raise HandlerTimeout(handler_name(sub), sub.owner, type(event), limit)


def _bad_return(
    sub: Subscription[Any],
    event: object,
    result: object,
    event_type: type,
    instr: Instruments | None,
) -> PipeError:
    sub.failures += 1
    error = PipeError(handler_name(sub), sub.owner, event_type, result)
    error.__dict__[_COUNTED] = True
    if instr is not None:
        instr.notify("handler_failed", sub, event, error)
    return error


def _count_failure(sub: Subscription[Any], exc: BaseException, event_type: type) -> None:
    if isinstance(exc, HandlerTimeout):
        sub.timeouts += 1
    elif isinstance(exc, Exception):
        sub.failures += 1
        note_handler(exc, sub, event_type)


@final
class Plan:
    """What an emit of one event type on one bus or scope runs, in order.

    ``run(event, task)`` is the emit without instruments, a coroutine
    function picked at build time; ``run_observed(event, task, instr)`` is the
    same emit with a clock read around every pipe and the instruments called.
    ``run`` hands one emit in SAMPLE_EVERY to ``run_observed`` for the stats.
    ``task`` is the calling task.
    """

    __slots__ = (
        "_unscheduled",
        "async_chain",
        "entered",
        "event_type",
        "fan_out",
        "left",
        "listeners",
        "pipes",
        "queues",
        "run",
        "spawn",
        "stopped",
        "sync_chain",
        "timed",
        "timed_stopped",
        "yield_at_end",
    )

    def __init__(
        self,
        event_type: type,
        pipes: tuple[Entry, ...],
        listeners: tuple[Entry, ...],
        queues: tuple[Subscription[Any], ...],
        *,
        full: bool,
    ) -> None:
        self.event_type = event_type
        self.pipes = pipes
        self.listeners = listeners
        self.queues = queues
        self.fan_out = bool(queues or listeners)
        # Pipe calls are counted per plan, not per call: emits that entered
        # the chain, and per pipe how many chains ended there (raised,
        # rejected, cancelled); `flush` turns them into each pipe's calls.
        # `run` counts `left` down to its next timed emit, which adds the
        # untimed ones to come to `entered` at once: the count per emit stays
        # a small int (no new object), and the untimed emits so far are
        # `entered - left`. Timed emits, which the stats' time is scaled
        # from, are `timed`; `timed_stopped` is their share of `stopped`.
        self.entered = 0
        self.left = 0
        self.stopped = [0] * len(pipes)
        self.timed = 0
        self.timed_stopped = [0] * len(pipes)
        # The common chains, every pipe a plain `async def` without a limit
        # or every pipe a plain function, get a loop with no branch per pipe.
        calls = {mode for _, mode, _ in pipes}
        handlers: tuple[tuple[Subscription[Any], Any], ...]
        handlers = tuple((sub, sub.handler) for sub, _, _ in pipes)
        self.async_chain = handlers if calls == {CALL_ASYNC} else ()
        self.sync_chain = handlers if calls == {CALL_SYNC} else ()
        # An emit is one cancellation point, at the start (a cancelled caller
        # runs no handler), and, in the full mode, one schedule point, at the
        # end (after the hooks were queued, so their workers run at once), as
        # trio's own channel operations are. Async listeners run in a
        # nursery, whose exit is a schedule point already.
        self.spawn = any(mode != CALL_SYNC for _, mode, _ in listeners)
        self.yield_at_end = full and not self.spawn
        self.run: Callable[[Any, Task], Coroutine[Any, Any, Any]] = (
            self._run if pipes or self.fan_out else self._run_empty
        )
        self._unscheduled: Plan | None = None

    def unscheduled(self) -> Plan:
        """This plan without the schedule point at the end of each emit.

        For a caller that emits a batch of events in a row and yields to the
        scheduler once per batch itself (the Redis bridge's reader, at its
        XACK): each emit stays a cancellation point. The same plan when
        there is no such schedule point to leave out. Its call counts are
        its own, folded in by :meth:`flush` with this plan's.
        """
        if not self.yield_at_end:
            return self
        plan = self._unscheduled
        if plan is None:
            plan = self._unscheduled = Plan(
                self.event_type, self.pipes, self.listeners, self.queues, full=False
            )
        return plan

    async def _run_empty(self, event: Any, task: Task) -> Any:
        """``run`` for an event type nobody subscribed to: the checkpoint alone."""
        if self.yield_at_end:
            # trio's checkpoint() written out, with the task at hand: the
            # schedule point, then the cancellation point.
            await cancel_shielded_checkpoint()
        if _cancel_pending(task):
            await checkpoint_if_cancelled()
        return event  # noqa: ASYNC910 - _cancel_pending() is the cancellation point

    async def _run(self, event: Any, task: Task) -> Any:
        """Pipes, then hook queues, then listeners; return the piped event."""
        if _cancel_pending(task):
            await checkpoint_if_cancelled()
        if self.pipes:
            left = self.left
            if not left:
                # One emit in SAMPLE_EVERY reads the clock, for the stats
                # (run_observed tests for a cancellation again: harmless).
                self.left = SAMPLE_EVERY - 1
                self.entered += SAMPLE_EVERY - 1  # the untimed ones to come
                return await self.run_observed(event, task, None)
            self.left = left - 1
        # The flat loops: no clock, no instrument, no per-call stores (calls
        # are derived from `entered` and `stopped`). A pipe that returns the
        # event it got passes the cheapest test: that event was checked.
        event_type = self.event_type
        sub = None
        try:
            if chain := self.async_chain:
                for sub, handler in chain:
                    result = await handler(event)
                    if (
                        result is not event
                        and result.__class__ is not event_type
                        and not isinstance(result, event_type)
                    ):
                        raise _bad_return(sub, event, result, event_type, None)
                    event = result
            elif chain := self.sync_chain:
                for sub, handler in chain:
                    result = handler(event)
                    if (
                        result is not event
                        and result.__class__ is not event_type
                        and not isinstance(result, event_type)
                    ):
                        raise _bad_return(sub, event, result, event_type, None)
                    event = result
            else:
                for sub, mode, limit in self.pipes:
                    handler = sub.handler
                    if mode == CALL_ASYNC:
                        result = await handler(event)  # type: ignore[misc]
                    elif mode == CALL_SYNC:
                        result = handler(event)  # type: ignore[misc]
                    else:
                        result = await call_guarded(sub, limit, event)
                    if (
                        result is not event
                        and result.__class__ is not event_type
                        and not isinstance(result, event_type)
                    ):
                        raise _bad_return(sub, event, result, event_type, None)
                    event = result
        except BaseException as exc:
            self._pipe_failed(exc, sub, event, None, timed=False)
            raise
        if self.fan_out:
            if self.queues:
                await self._queue(event, None)
            if self.listeners:
                await self._run_listeners(event, None)
        if self.yield_at_end:
            await cancel_shielded_checkpoint()
        return event  # noqa: ASYNC910 - _cancel_pending() is the cancellation point

    async def run_observed(
        self, event: Any, task: Task, instr: Instruments | None, bus: Bus | None = None
    ) -> Any:
        """``run`` with the clock read between pipes, and the instruments.

        ``instr`` is ``None`` on the emits ``run`` times for the stats. With
        ``bus`` (an emit on it that needs no cancel scope of its own), the
        emit's ``emit_started`` and ``emit_finished`` are called here too,
        so that an instrumented emit is still one coroutine.
        """
        # The instruments' methods are called directly, each in a try block
        # of its own (free when nothing raises); see Instruments.
        observed = _NOBODY if instr is None else instr
        emitted = event
        if bus is not None and (emit_started := observed.emit_started) is not None:
            try:
                emit_started(bus, event)
            except Exception:
                observed.broken("emit_started", emit_started)
        try:
            if _cancel_pending(task):
                await checkpoint_if_cancelled()
            if self.pipes:
                self.timed += 1
                event_type = self.event_type
                sub: Subscription[Any] | None = None
                try:
                    # One clock read per pipe: a pipe's time runs from the end
                    # of the previous one (instrument calls in between included).
                    t0 = perf_counter()
                    for sub, mode, limit in self.pipes:
                        if (started := observed.handler_started) is not None:
                            try:
                                started(sub, event)
                            except Exception:
                                observed.broken("handler_started", started)
                        handler = sub.handler
                        if mode == CALL_ASYNC:
                            result = await handler(event)  # type: ignore[misc]
                        elif mode == CALL_SYNC:
                            result = handler(event)  # type: ignore[misc]
                        else:
                            result = await call_guarded(sub, limit, event)
                        t1 = perf_counter()
                        seconds = t1 - t0
                        sub.timed_seconds += seconds
                        if (
                            result is not event
                            and result.__class__ is not event_type
                            and not isinstance(result, event_type)
                        ):
                            raise _bad_return(sub, event, result, event_type, instr)
                        if (finished := observed.handler_finished) is not None:
                            try:
                                finished(sub, event, seconds)
                            except Exception:
                                observed.broken("handler_finished", finished)
                        t0 = t1
                        event = result
                except BaseException as exc:
                    self._pipe_failed(exc, sub, event, instr, timed=True)
                    raise
            if self.fan_out:
                if self.queues:
                    await self._queue(event, instr)
                if self.listeners:
                    await self._run_listeners(event, instr)
            if self.yield_at_end:
                await cancel_shielded_checkpoint()
        except BaseException as exc:
            if bus is not None:
                observed.notify("emit_finished", bus, emitted, exc)
            raise
        if bus is not None and (emit_finished := observed.emit_finished) is not None:
            try:
                emit_finished(bus, emitted, None)
            except Exception:
                observed.broken("emit_finished", emit_finished)
        return event  # noqa: ASYNC910 - _cancel_pending() is the cancellation point

    def _pipe_failed(
        self,
        exc: BaseException,
        sub: Subscription[Any] | None,
        event: object,
        instr: Instruments | None,
        *,
        timed: bool,
    ) -> None:
        """Account for a pipe that raised; the caller re-raises ``exc``."""
        if sub is None:
            return
        for index, (other, _, _) in enumerate(self.pipes):
            if other is sub:
                # Called, and the chain ended there.
                self.stopped[index] += 1
                self.timed_stopped[index] += timed
                break
        if exc.__dict__.pop(_COUNTED, False):
            return
        if isinstance(exc, trio.Cancelled):
            _mark_running(exc, sub)
            return
        if isinstance(exc, Rejected):
            sub.rejected += 1
            if exc.handler is None:
                exc.handler = handler_name(sub)
                exc.owner = sub.owner
        else:
            _count_failure(sub, exc, self.event_type)
        if instr is not None:
            instr.notify("handler_failed", sub, event, exc)

    def flush(self) -> None:
        """Fold the pipe call counts gathered by this plan into the
        subscriptions' ``calls`` and ``timed_calls`` (before the plan is
        dropped or stats are read)."""
        if self._unscheduled is not None:
            self._unscheduled.flush()
        timed = self.timed
        reached = self.entered - self.left + timed
        if not reached:
            return
        stopped, timed_stopped = self.stopped, self.timed_stopped
        for index, (sub, _, _) in enumerate(self.pipes):
            sub.calls += reached
            sub.timed_calls += timed
            reached -= stopped[index]
            timed -= timed_stopped[index]
            stopped[index] = timed_stopped[index] = 0
        # What is left of the count `run` took in advance stays.
        self.entered = self.left
        self.timed = 0

    async def _queue(self, event: Any, instr: Instruments | None) -> None:  # noqa: ASYNC910 - called from Plan.run, which checkpoints first
        for sub in self.queues:
            send = sub._send
            assert send is not None
            try:
                send.send_nowait(event)
            except trio.WouldBlock:
                if sub.overflow == "drop":
                    _drop(sub, event, instr)
                    continue
                sub.pending += 1
                try:
                    await send.send(event)
                except (trio.ClosedResourceError, trio.BrokenResourceError):
                    # The subscription went away while we waited for room:
                    # it simply does not get this event.
                    sub.pending -= 1
                except BaseException:
                    sub.pending -= 1  # cancelled while waiting: never queued
                    raise
                continue
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                continue
            sub.pending += 1
            if sub._dropping:
                sub._dropping = False

    async def _run_listeners(self, event: Any, instr: Instruments | None) -> None:  # noqa: ASYNC910 - called from Plan.run, which checkpoints first
        failures: list[Exception] = []
        event_type = self.event_type
        if self.spawn:
            try:
                async with trio.open_nursery() as nursery:
                    for sub, mode, limit in self.listeners:
                        if mode == CALL_SYNC:
                            _call_sync_listener(sub, event, event_type, failures, instr)
                        else:
                            nursery.start_soon(
                                _run_listener, sub, mode, limit, event, failures, instr
                            )
            except BaseExceptionGroup as group:
                raise collapse_cancelled(group) from None
        else:
            for sub, _, _ in self.listeners:
                _call_sync_listener(sub, event, event_type, failures, instr)
        if failures:
            count = len(failures)
            raise ListenerError(
                f"{count} listener{'s' if count > 1 else ''} failed handling a "
                f"{type_name(event_type)} event",
                failures,
            )


def _drop(sub: Subscription[Any], event: object, instr: Instruments | None) -> None:
    sub.drops += 1
    if not sub._dropping:
        sub._dropping = True
        logger_for(sub.owner).warning(
            "hook %r dropped a %s event: its queue is full (capacity %d, overflow='drop'); "
            "further drops are counted in bus.stats() until it has room again",
            handler_name(sub),
            type_name(type(event)),
            sub.capacity,
        )
    if instr is not None:
        instr.notify("hook_dropped", sub, event)


def _call_sync_listener(
    sub: Subscription[Any],
    event: object,
    event_type: type,
    failures: list[Exception],
    instr: Instruments | None,
) -> None:
    if instr is not None:
        instr.notify("handler_started", sub, event)
    t0 = perf_counter()
    try:
        sub.handler(event)  # type: ignore[misc]
    except Exception as exc:
        sub.calls += 1
        sub.timed_calls += 1
        sub.timed_seconds += perf_counter() - t0
        _count_failure(sub, exc, event_type)
        failures.append(exc)
        if instr is not None:
            instr.notify("handler_failed", sub, event, exc)
        return
    elapsed = perf_counter() - t0
    sub.calls += 1
    sub.timed_calls += 1
    sub.timed_seconds += elapsed
    if instr is not None:
        instr.notify("handler_finished", sub, event, elapsed)


async def _run_listener(  # noqa: ASYNC910 - a task of the listener nursery, which is the schedule point
    sub: Subscription[Any],
    mode: int,
    limit: float | None,
    event: object,
    failures: list[Exception],
    instr: Instruments | None,
) -> None:
    if instr is not None:
        instr.notify("handler_started", sub, event)
    t0 = perf_counter()
    try:
        if mode == CALL_ASYNC:
            await sub.handler(event)  # type: ignore[misc]
        else:
            await call_guarded(sub, limit, event)
    except Exception as exc:
        sub.calls += 1
        sub.timed_calls += 1
        sub.timed_seconds += perf_counter() - t0
        _count_failure(sub, exc, type(event))
        failures.append(exc)
        if instr is not None:
            instr.notify("handler_failed", sub, event, exc)
        return  # noqa: ASYNC910 - a nursery task
    except BaseException as exc:
        _mark_running(exc, sub)
        raise
    elapsed = perf_counter() - t0
    sub.calls += 1
    sub.timed_calls += 1
    sub.timed_seconds += elapsed
    if instr is not None:
        instr.notify("handler_finished", sub, event, elapsed)


class _HasInstruments(Protocol):
    instruments: Instruments | None


async def hook_worker(
    sub: Subscription[Any],
    receive: trio.MemoryReceiveChannel[Any],
    tree: _HasInstruments,
) -> None:
    """Deliver a hook's queued events, one at a time, until its queue closes.

    Each event is a receive of its own, a schedule point, except in a
    backlog: while more than BACKLOG events are pending, up to BACKLOG are
    handled per schedule point (so a burst queued by an emitter that did not
    yield costs a task switch per BACKLOG events, not per event).

    Runs in the owning bus's nursery, under a cancel scope of its own that
    the bus cancels when it gives up draining. Failures are reported (log,
    stats, instruments) and the worker goes on. Without instruments the
    clock is read on one call in SAMPLE_EVERY, as on the pipe chain.
    """
    handler: Callable[..., Any] = sub.handler  # type: ignore[assignment]
    limit = sub._limit
    guarded = sub.thread or (limit is not None and sub._call == CALL_ASYNC)
    is_async = sub._call == CALL_ASYNC
    log = logger_for(sub.owner)
    scope = trio.CancelScope()
    sub._worker_scopes.append(scope)
    with scope:
        async with receive:
            in_row = 0
            while True:
                # A backlog (more than BACKLOG events pending) is taken
                # BACKLOG at a time, with no schedule point between them: that
                # work is waiting already, and a task switch per event would
                # only add to it. Otherwise each event is a receive of its
                # own, which is a schedule point.
                try:
                    if in_row < BACKLOG and sub.pending > BACKLOG:
                        event = receive.receive_nowait()
                        in_row += 1
                    else:
                        event = await receive.receive()
                        in_row = 1
                except trio.WouldBlock:
                    in_row = BACKLOG  # the backlog is other workers' (concurrency > 1)
                    continue
                except trio.EndOfChannel:
                    break
                instr = tree.instruments
                timed = instr is not None or sub.calls & _SAMPLE_MASK == 0
                if instr is not None:
                    instr.notify("handler_started", sub, event)
                if timed:
                    t0 = perf_counter()
                try:
                    if guarded:
                        await call_guarded(sub, limit, event)
                    elif is_async:
                        await handler(event)
                    else:
                        handler(event)
                except Exception as exc:
                    _count_failure(sub, exc, type(event))
                    log.error(
                        "hook %r failed handling a %s event; it keeps running for later events",
                        handler_name(sub),
                        type_name(type(event)),
                        exc_info=exc,
                    )
                    if instr is not None:
                        instr.notify("handler_failed", sub, event, exc)
                else:
                    if timed:
                        elapsed = perf_counter() - t0
                        sub.timed_calls += 1
                        sub.timed_seconds += elapsed
                        if instr is not None:
                            instr.notify("handler_finished", sub, event, elapsed)
                # Delivered (or failed): one more call ended, one fewer
                # pending; 0 once the bus gave up and counted the rest as lost.
                sub.calls += 1
                if sub.pending > 0:
                    sub.pending -= 1
                    if sub.pending == 0 and sub._idle is not None:
                        sub._idle.set()
