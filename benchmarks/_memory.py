"""Memory: peak traced memory through a slow hook, and bytes per subscription.

Both use `tracemalloc`, which only sees allocations made after it starts:
the bus is opened and subscribed first, so what is traced is the flow of
events itself (one new `Tick` per emit, the hook queue, the worker).

`tracemalloc` slows every allocation down, so these runs are long; they run
after the timings, in two worker processes (one per core), where they can
disturb no timed loop.
"""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import attrs
import trio

from ._eventbus import open_bus
from ._handlers import Countdown, Tick, sync_noops

HOOK_CAPACITY = 1024
SUBSCRIPTIONS = 10_000
CHECKS = 10  # traced memory is read every tenth of the run


@attrs.frozen
class FlowResult:
    """Peak traced memory while `events` went through one slow hook."""

    mode: str
    events: int
    seconds: float
    peaks: tuple[int, ...]  # the running peak (bytes) after each tenth of the run
    delivered: int
    max_queued: int  # the deepest the hook queue was seen, at the tenths

    @property
    def per_event(self) -> float:
        return self.seconds / self.events

    @property
    def peak(self) -> int:
        return self.peaks[-1]

    @property
    def halfway(self) -> int:
        """The peak over the first half of the run."""
        return self.peaks[CHECKS // 2 - 1]

    @property
    def flat_limit(self) -> float:
        """The largest whole-run peak that is still flat: the halfway peak +10% +64 KiB."""
        return self.halfway * 1.1 + 64 * 1024

    @property
    def flat(self) -> bool:
        """The second half of the run did not raise the peak of the first half.

        A leak grows with the number of events (it would double its share of
        the peak over the second half); a bounded queue does not.
        """
        return self.peak <= self.flat_limit


@attrs.frozen
class SubscriptionResult:
    """Traced bytes per listener subscription (`count` listeners on one type)."""

    count: int
    subscribe_bytes: int  # delta after subscribing
    plan_bytes: int  # further delta after the first emit builds the plan
    seconds: float  # time spent subscribing (tracemalloc on: slower than usual)

    @property
    def per_subscription(self) -> float:
        return self.subscribe_bytes / self.count

    @property
    def per_subscription_with_plan(self) -> float:
        return (self.subscribe_bytes + self.plan_bytes) / self.count


def hook_flow(events: int, mode: str) -> FlowResult:
    """Emit `events` new events through a hook that checkpoints once per event."""

    async def main() -> FlowResult:
        countdown = Countdown(events)
        [counts] = countdown.hooks(1)

        async def slow(event: Any) -> None:
            await trio.lowlevel.checkpoint()
            await counts(event)

        async with open_bus(mode) as bus:
            bus.hook(Tick, capacity=HOOK_CAPACITY)(slow)
            step = max(1, events // CHECKS)
            peaks: list[int] = []
            queued = 0
            emit = bus.emit
            gc.collect()
            tracemalloc.start()
            try:
                start = time.perf_counter()
                for i in range(events):
                    await emit(Tick(i))
                    if (i + 1) % step == 0 and len(peaks) < CHECKS - 1:
                        peaks.append(tracemalloc.get_traced_memory()[1])
                        queued = max(queued, *(s.queued for s in bus.stats()))
                await countdown.done.wait()
                seconds = time.perf_counter() - start
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
            return FlowResult(
                mode=mode,
                events=events,
                seconds=seconds,
                peaks=tuple(peaks),
                delivered=events - countdown.left,
                max_queued=queued,
            )

    return trio.run(main)


def subscription_cost(count: int = SUBSCRIPTIONS) -> SubscriptionResult:
    """Traced bytes for subscribing `count` listeners, then for their first emit."""

    async def main() -> SubscriptionResult:
        handlers = sync_noops(count)  # made before tracing: they are the user's
        subscriptions: list[Any] = [None] * count
        async with open_bus("default") as bus:
            await bus.emit(Tick())  # warm the emit path up outside the trace
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                start = time.perf_counter()
                for i, handler in enumerate(handlers):
                    subscriptions[i] = bus.subscribe(Tick, handler, kind="listener")
                seconds = time.perf_counter() - start
                gc.collect()
                subscribed = tracemalloc.get_traced_memory()[0]
                await bus.emit(Tick())
                gc.collect()
                planned = tracemalloc.get_traced_memory()[0]
            finally:
                tracemalloc.stop()
            return SubscriptionResult(
                count=count,
                subscribe_bytes=subscribed - before,
                plan_bytes=planned - subscribed,
                seconds=seconds,
            )

    return trio.run(main)


def measure(
    *, events: int, subscriptions: int, log: Callable[[str], object]
) -> tuple[list[FlowResult], SubscriptionResult]:
    """Run the memory measurements in two worker processes.

    The default mode gets `events`; the cancel mode a tenth of them (the bound
    is the same, and traced events are slow). Each measurement has a process
    of its own, so the peaks do not mix.
    """
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        # Longest first: the default-mode flow on one worker, the rest on the other.
        default = pool.submit(hook_flow, events, "default")
        subscribed = pool.submit(subscription_cost, subscriptions)
        cancel = pool.submit(hook_flow, max(events // 10, CHECKS), "cancel")
        for future in concurrent.futures.as_completed((default, subscribed, cancel)):
            result = future.result()
            if isinstance(result, FlowResult):
                log(f"memory ({result.mode}): {result.events:,} events in {result.seconds:.1f} s")
            elif isinstance(result, SubscriptionResult):
                log(f"memory: {result.count:,} subscriptions in {result.seconds:.1f} s")
        return [default.result(), cancel.result()], subscribed.result()
