"""Calling one handler under a microscope: steps, a cut, cancellations, leftover tasks.

This is the trio side of ``check_plugin``. :func:`call_handler` runs a
handler in a task of its own and watches it with a ``trio.abc.Instrument``:

- **steps**: every time the handler's task (or a task it started in a
  nursery of its own) runs until it yields to trio counts as one step; the
  end of a step is a checkpoint.
- **the cut**: with ``cut=k`` the call is cancelled from outside right after
  its k-th step (``k=0``: before it starts), from the instrument's
  ``after_task_step`` hook, so the cancellation lands exactly at that
  checkpoint.
- **delivery**: whether trio actually delivered ``Cancelled`` to the
  handler after the cut. Trio delivers it by rescheduling the task from a
  wait: either at once, while ``cancel()`` runs (the task was blocked), or
  when the task next enters a wait while cancelled (then the wait is aborted
  during the step that entered it). A shielded wait gets neither, and a
  handler that finishes without another cancellable checkpoint never sees
  the cancellation: both are correct, and neither counts as delivered.
- **leftover tasks**: tasks that appeared during the call and are still
  alive once every task is blocked (``wait_all_tasks_blocked``), found by
  walking trio's task tree from the root task.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import attrs
import trio
import trio.testing
from trio.lowlevel import Task

__all__ = ["CallResult", "all_tasks", "call_handler", "is_cancelled"]


def is_cancelled(exc: BaseException | None) -> bool:
    """``trio.Cancelled``, or a group of nothing but (as a nursery raises)."""
    if isinstance(exc, trio.Cancelled):
        return True
    if isinstance(exc, BaseExceptionGroup):
        _, rest = exc.split(trio.Cancelled)
        return rest is None
    return False


def all_tasks() -> set[Task]:
    """Every task of the current run, from the root task down."""
    found: set[Task] = set()
    stack = [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        if task is None:
            continue
        found.add(task)
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return found


@attrs.define
class CallResult:
    """How one call of a handler went."""

    #: What it returned (for a pipe: the event to pass on).
    value: object = None
    #: What it raised, if it did (``Cancelled`` included).
    error: BaseException | None = None
    #: It returned an awaitable (an ``async def`` handler).
    is_async: bool = False
    #: Seconds on the (mock) clock from the call to its end.
    elapsed: float = 0.0
    #: Steps taken (see the module docstring).
    steps: int = 0
    #: The time limit ended the call.
    limit_hit: bool = False
    #: The cut happened (the call had not ended by then).
    cut: bool = False
    #: ``Cancelled`` reached the handler after the cut.
    delivered: bool = False
    #: Tasks started during the call and still running after it.
    leaked: list[Task] = attrs.Factory(list)


class _Probe(trio.abc.Instrument):
    """The instrument: counts steps, makes the cut, notices deliveries."""

    def __init__(self, cut: int | None) -> None:
        self.cut_at = cut
        self.scope: trio.CancelScope | None = None
        self.nursery: trio.Nursery | None = None
        self.watched: set[Task] = set()
        self.steps = 0
        self.cut = False
        self.delivered = False
        self.cancelling = False
        self.stepping: Task | None = None

    def make_cut(self) -> None:
        self.cut = True
        self.cancelling = True
        try:
            assert self.scope is not None
            self.scope.cancel()
        finally:
            self.cancelling = False

    # -- trio.abc.Instrument ---------------------------------------------------

    def task_spawned(self, task: Task) -> None:
        parent = task.parent_nursery
        if parent is not None and (parent is self.nursery or parent.parent_task in self.watched):
            self.watched.add(task)

    def before_task_step(self, task: Task) -> None:
        if task in self.watched:
            self.stepping = task

    def task_scheduled(self, task: Task) -> None:
        if not self.cut or task not in self.watched:
            return
        if self.cancelling:
            # Woken while cancel() runs: only the cancellation wakes it.
            self.delivered = True
        elif task is self.stepping and _in_wait(task):
            # Rescheduled out of the wait it has just entered, during the
            # same step: trio aborted the wait to deliver Cancelled.
            self.delivered = True

    def after_task_step(self, task: Task) -> None:
        self.stepping = None
        if task not in self.watched:
            return
        self.steps += 1
        if self.steps == self.cut_at and not self.cut:
            self.make_cut()


def _in_wait(task: Task) -> bool:
    """The task is suspended in ``wait_task_rescheduled`` (not a bare schedule point)."""
    names = [frame.f_code.co_name for frame, _ in task.iter_await_frames()]
    return "wait_task_rescheduled" in names[-3:]


async def call_handler(
    handler: Callable[[Any], Any],
    event: object,
    *,
    inline: bool = False,
    limit: float | None = None,
    cut: int | None = None,
) -> CallResult:
    """Call ``handler(event)`` in a task of its own, watched; see the module docstring.

    Args:
        handler: A plain or ``async def`` callable.
        event: Its argument.
        inline: Call a plain function in the caller's task, unwatched.
        limit: Seconds after which the call is cancelled (a handler timeout).
        cut: Cancel from outside after this many steps (None: never).
    """
    result = CallResult()
    if inline:
        start = trio.current_time()
        try:
            result.value = handler(event)
        except Exception as exc:
            result.error = exc
        result.elapsed = trio.current_time() - start
        await trio.lowlevel.checkpoint()
        return result
    probe = _Probe(cut)
    before = all_tasks()
    trio.lowlevel.add_instrument(probe)
    try:
        with trio.CancelScope() as scope:
            probe.scope = scope
            if cut == 0:
                probe.make_cut()
            async with trio.open_nursery() as nursery:
                probe.nursery = nursery
                nursery.start_soon(_run, handler, event, limit, result)
    finally:
        trio.lowlevel.remove_instrument(probe)
    result.steps = probe.steps
    result.cut = probe.cut
    result.delivered = probe.delivered
    await trio.testing.wait_all_tasks_blocked()
    result.leaked = sorted(all_tasks() - before, key=lambda t: t.name)
    return result


async def _run(  # noqa: ASYNC910 - runs the handler under test, checkpoints or not
    handler: Callable[[Any], Any], event: object, limit: float | None, result: CallResult
) -> None:
    with trio.move_on_after(math.inf if limit is None else limit) as deadline:
        start = trio.current_time()
        try:
            value = handler(event)
            if inspect.isawaitable(value):
                result.is_async = True
                value = await value
        except BaseException as exc:  # noqa: ASYNC103 - recorded; Cancelled is re-raised
            result.error = exc
            if is_cancelled(exc) or isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
        else:
            result.value = value
        finally:
            result.elapsed = trio.current_time() - start
    result.limit_hit = deadline.cancelled_caught
