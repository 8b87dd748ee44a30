"""Hooks: background delivery through bounded per-subscription queues.

DESIGN sections 2, 10 and 15.
"""

import collections
import logging
import threading

import attrs
import pytest
import trio
import trio.testing

import eventbus


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Ping(eventbus.Event):
    n: int = 0


def stats_for(bus, handler):
    records = [r for r in bus.stats() if r.handler == handler.__qualname__]
    assert len(records) == 1, f"expected one stats record for {handler.__qualname__}: {bus.stats()}"
    return records[0]


def warnings_from_eventbus(caplog):
    return [
        r for r in caplog.records if r.name.startswith("eventbus") and r.levelno >= logging.WARNING
    ]


async def test_emit_returns_before_the_hook_runs(autojump_clock):
    started, gate = trio.Event(), trio.Event()
    done = []
    async with open_bus() as bus:

        @bus.hook(Ping)
        async def slow_hook(event):
            started.set()
            await gate.wait()
            done.append(event)

        # if emit waited for the hook this would never return
        with trio.fail_after(60):
            assert await bus.emit(Ping(1)) == Ping(1)
        assert done == []
        with trio.fail_after(60):
            await started.wait()
        gate.set()
        await trio.testing.wait_all_tasks_blocked()
        assert done == [Ping(1)]


async def test_hooks_receive_the_event_after_the_pipes():
    seen = []
    async with open_bus() as bus:
        bus.pipe(Ping)(lambda event: attrs.evolve(event, n=event.n * 10))
        bus.hook(Ping)(seen.append)
        await bus.emit(Ping(4))
        await trio.testing.wait_all_tasks_blocked()
    assert seen == [Ping(40)]


async def test_sync_thread_hook_runs_in_a_worker_thread():
    threads = []
    async with open_bus() as bus:
        bus.hook(Ping, thread=True)(lambda event: threads.append(threading.get_ident()))
        await bus.emit(Ping())
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


async def test_one_hook_sees_events_in_emit_order():
    seen = []
    active = peak = 0
    async with open_bus() as bus:

        @bus.hook(Ping)
        async def ordered(event):
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await trio.lowlevel.checkpoint()
            seen.append(event.n)
            active -= 1

        for n in range(50):
            await bus.emit(Ping(n))
        bus.emit_soon(Ping(50))
        await trio.testing.wait_all_tasks_blocked()
        assert seen == list(range(51))
        assert peak == 1
        record = stats_for(bus, ordered)
        assert record.kind == "hook"
        assert record.calls == 51
        assert record.queued == 0


async def test_hook_options_are_on_the_subscription():
    async with open_bus() as bus:
        sub = bus.subscribe(
            Ping, lambda event: None, kind="hook", capacity=7, concurrency=2, overflow="drop"
        )
        assert (sub.kind, sub.capacity, sub.concurrency, sub.overflow) == ("hook", 7, 2, "drop")
        default = bus.subscribe(Ping, lambda event: None, kind="hook")
        assert (default.capacity, default.concurrency, default.overflow) == (1024, 1, "wait")


async def test_hook_capacity_defaults_to_the_bus_hook_capacity():
    async with open_bus(hook_capacity=3) as bus:
        sub = bus.subscribe(Ping, lambda event: None, kind="hook")
        assert sub.capacity == 3


# -- overflow ------------------------------------------------------------------------


async def test_full_queue_makes_the_emitter_wait_and_loses_nothing(autojump_clock):
    gate = trio.Event()
    seen, emitted = [], []
    async with open_bus() as bus:

        @bus.hook(Ping, capacity=1)
        async def gated(event):
            await gate.wait()
            seen.append(event.n)

        async def emitter():
            for n in range(5):
                await bus.emit(Ping(n))
                emitted.append(n)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(emitter)
            await trio.testing.wait_all_tasks_blocked()
            # one event in the hook, at most one in the queue: the emitter waits
            assert 1 <= len(emitted) <= 2, emitted
            blocked_at = len(emitted)
            assert stats_for(bus, gated).queued == 1
            await trio.sleep(1000)
            assert len(emitted) == blocked_at
            gate.set()

        assert emitted == list(range(5))
        await trio.testing.wait_all_tasks_blocked()
        assert seen == list(range(5))
        record = stats_for(bus, gated)
        assert (record.calls, record.drops, record.lost, record.queued) == (5, 0, 0, 0)


async def test_drop_overflow_drops_the_newest_counts_and_logs_once_per_burst(
    autojump_clock, caplog
):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    gate = [trio.Event()]
    seen, dropped = [], []

    class DropRecorder:
        def hook_dropped(self, subscription, event):
            dropped.append((subscription, event))

    async def burst(bus, first):
        # the hook holds `first`, the queue holds `first + 1`, the rest is dropped
        await bus.emit(Ping(first))
        await trio.testing.wait_all_tasks_blocked()
        with trio.fail_after(60):  # the emitter never waits
            for n in range(first + 1, first + 10):
                await bus.emit(Ping(n))
        await trio.testing.wait_all_tasks_blocked()

    async with open_bus() as bus:
        bus.add_instrument(DropRecorder())

        @bus.hook(Ping, capacity=1, overflow="drop")
        async def gated(event):
            await gate[0].wait()
            seen.append(event.n)

        await burst(bus, 0)
        assert stats_for(bus, gated).drops == 8
        assert [event.n for _, event in dropped] == list(range(2, 10))
        assert all(sub.handler is gated for sub, _ in dropped)
        logged = warnings_from_eventbus(caplog)
        assert len(logged) == 1, [r.getMessage() for r in logged]
        assert "gated" in logged[0].getMessage()

        gate[0].set()
        await trio.testing.wait_all_tasks_blocked()
        assert seen == [0, 1]

        gate[0] = trio.Event()
        await burst(bus, 10)
        record = stats_for(bus, gated)
        assert record.drops == 16
        assert [event.n for _, event in dropped] == [*range(2, 10), *range(12, 20)]
        assert len(warnings_from_eventbus(caplog)) == 2
        gate[0].set()
        await trio.testing.wait_all_tasks_blocked()
        assert seen == [0, 1, 10, 11]


# -- failures ------------------------------------------------------------------------


async def test_hook_failures_are_reported_and_the_hook_keeps_running(caplog):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    seen, failed = [], []

    class FailureRecorder:
        def handler_failed(self, subscription, event, error):
            failed.append((subscription.handler, event, error))

    async with open_bus() as bus:
        bus.add_instrument(FailureRecorder())

        @bus.hook(Ping, owner="mailer")
        async def picky_hook(event):
            seen.append(event.n)
            if event.n == 1:
                raise ValueError("hook broke")

        for n in range(3):
            assert await bus.emit(Ping(n)) == Ping(n)
        await trio.testing.wait_all_tasks_blocked()

        assert seen == [0, 1, 2]
        record = stats_for(bus, picky_hook)
        assert record.failures == 1
        assert record.calls == 3
        assert len(failed) == 1
        handler, event, error = failed[0]
        assert handler is picky_hook
        assert event == Ping(1)
        assert isinstance(error, ValueError)

    assert warnings_from_eventbus(caplog)
    assert "picky_hook" in caplog.text
    assert "hook broke" in caplog.text
    # logged through a child of the "eventbus" logger for the owning plugin
    (record,) = [r for r in warnings_from_eventbus(caplog) if "picky_hook" in r.getMessage()]
    assert record.name.startswith("eventbus.")
    assert "mailer" in record.name


async def test_sync_hook_failure_is_reported_not_raised(caplog):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    async with open_bus() as bus:

        @bus.hook(Ping)
        def sync_failing_hook(event):
            raise KeyError("sync hook broke")

        await bus.emit(Ping())
        await trio.testing.wait_all_tasks_blocked()
        assert stats_for(bus, sync_failing_hook).failures == 1
    assert "sync_failing_hook" in caplog.text


# -- close and drain -----------------------------------------------------------------


async def test_closing_the_bus_drains_hook_queues(autojump_clock):
    seen = []
    async with open_bus() as bus:

        @bus.hook(Ping)
        async def slow_hook(event):
            await trio.sleep(1)
            seen.append(event.n)

        for n in range(5):
            await bus.emit(Ping(n))
        start = trio.current_time()
    assert seen == list(range(5))
    assert trio.current_time() - start == pytest.approx(5)


async def test_undelivered_hook_events_past_drain_timeout_are_counted_and_logged(
    autojump_clock, caplog
):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    seen = []
    async with open_bus(drain_timeout=2.5) as bus:

        @bus.hook(Ping)
        async def slow_hook(event):
            await trio.sleep(1)
            seen.append(event.n)

        for n in range(5):
            await bus.emit(Ping(n))
        start = trio.current_time()

    assert trio.current_time() - start == pytest.approx(2.5)
    assert seen == [0, 1]
    records = [r for r in bus.stats() if r.handler == slow_hook.__qualname__]
    assert len(records) == 1, (
        f"stats of a closed bus must still report what was lost: {bus.stats()}"
    )
    # events 3 and 4 never started; event 2 was cancelled in the hook
    assert records[0].lost in (2, 3)
    lost_logs = [
        r
        for r in warnings_from_eventbus(caplog)
        if str(records[0].lost) in r.getMessage() and "slow_hook" in r.getMessage()
    ]
    assert lost_logs, caplog.text


async def test_emit_soon_work_past_drain_timeout_is_cancelled_and_logged(autojump_clock, caplog):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    cancelled = []
    async with open_bus(drain_timeout=2) as bus:

        @bus.listener(Ping)
        async def endless_listener(event):
            try:
                await trio.sleep_forever()
            finally:
                cancelled.append(event)

        bus.emit_soon(Ping(1))
        await trio.testing.wait_all_tasks_blocked()
        start = trio.current_time()

    assert trio.current_time() - start == pytest.approx(2)
    assert cancelled == [Ping(1)]
    assert warnings_from_eventbus(caplog), "lost emit_soon work was not logged"


# -- concurrency ----------------------------------------------------------------------


async def test_hook_concurrency_runs_several_calls_at_once():
    gate = trio.Event()
    active = peak = 0
    seen = []
    async with open_bus() as bus:

        @bus.hook(Ping, concurrency=3)
        async def wide_hook(event):
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await gate.wait()
            active -= 1
            seen.append(event.n)

        for n in range(5):
            await bus.emit(Ping(n))
        await trio.testing.wait_all_tasks_blocked()
        assert active == 3
        assert stats_for(bus, wide_hook).queued == 2
        gate.set()
        await trio.testing.wait_all_tasks_blocked()
        assert sorted(seen) == list(range(5))
        assert peak == 3
        assert stats_for(bus, wide_hook).calls == 5


async def test_each_hook_has_its_own_queue(autojump_clock):
    gate = trio.Event()
    fast_seen, slow_seen = [], []
    async with open_bus() as bus:

        @bus.hook(Ping, capacity=1)
        async def slow_hook(event):
            await gate.wait()
            slow_seen.append(event.n)

        bus.hook(Ping)(lambda event: fast_seen.append(event.n))

        async def emitter():
            for n in range(4):
                await bus.emit(Ping(n))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(emitter)
            await trio.testing.wait_all_tasks_blocked()
            # the slow hook holds back the emitter, not the other hook
            assert fast_seen == list(range(len(fast_seen)))
            assert fast_seen
            gate.set()
        await trio.testing.wait_all_tasks_blocked()
    assert fast_seen == slow_seen == list(range(4))


async def test_an_emit_cancelled_while_waiting_for_room_queues_nothing(autojump_clock, caplog):
    # the cancelled emitter's event never entered the queue: the close has
    # nothing to drain and nothing to count as lost
    caplog.set_level(logging.DEBUG, logger="eventbus")
    gate = trio.Event()
    seen = []
    async with open_bus() as bus:

        @bus.hook(Ping, capacity=1)
        async def gated(event):
            await gate.wait()
            seen.append(event.n)

        await bus.emit(Ping(0))
        await trio.testing.wait_all_tasks_blocked()
        await bus.emit(Ping(1))
        with trio.move_on_after(1) as cancel_scope:
            await bus.emit(Ping(2))
        assert cancel_scope.cancelled_caught
        with pytest.raises(eventbus.EmitTimeout):
            await bus.emit(Ping(3), timeout=1)
        gate.set()
        await trio.testing.wait_all_tasks_blocked()
        assert seen == [0, 1]
        start = trio.current_time()
    assert trio.current_time() - start == pytest.approx(0)
    record = stats_for(bus, gated)
    assert (record.calls, record.lost, record.queued) == (2, 0, 0)
    assert warnings_from_eventbus(caplog) == []


@attrs.frozen
class Pong(eventbus.Event):
    n: int = 0


async def test_a_hook_may_emit_a_follow_up_event_while_the_bus_drains(autojump_clock):
    # The block has ended, but the bus's own background work may still emit:
    # a follow-up emitted by a draining hook reaches its handlers.
    ponged = []
    async with open_bus() as bus:

        @bus.hook(Ping)
        async def slow_hook(event):
            await trio.sleep(1)
            await bus.emit(Pong(event.n))

        @bus.hook(Pong)
        async def pong_hook(event):
            ponged.append(event.n)

        for n in range(3):
            await bus.emit(Ping(n))
    assert ponged == [0, 1, 2]
    assert bus.closed


# -- a backlog is taken BACKLOG events per schedule point --


class StepCounter(trio.abc.Instrument):
    """Counts each task's steps: events handled in one step had no schedule point between."""

    def __init__(self):
        self.steps = collections.Counter()

    def before_task_step(self, task):
        self.steps[task] += 1


def runs(seen):
    """Per worker task, how many events it handled in each of its steps."""
    per_step = collections.Counter((task, step) for _, task, step in seen)
    return list(per_step.values())


async def emit_then_drain(mode, count, concurrency=1):
    counter = StepCounter()
    seen = []

    def record(event):
        task = trio.lowlevel.current_task()
        seen.append((event.n, task, counter.steps[task]))

    trio.lowlevel.add_instrument(counter)
    try:
        async with open_bus(checkpoint=mode) as bus:
            bus.hook(Ping, concurrency=concurrency)(record)
            await trio.testing.wait_all_tasks_blocked()  # the workers wait
            for n in range(count):
                await bus.emit(Ping(n))
            while len(seen) < count:
                await trio.lowlevel.checkpoint()
    finally:
        trio.lowlevel.remove_instrument(counter)
    return seen


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_a_backlog_is_delivered_in_order_backlog_events_per_schedule_point(concurrency):
    from eventbus._dispatch import BACKLOG

    # an emitter that does not yield queues everything before the hook runs
    seen = await emit_then_drain("cancel", 10 * BACKLOG, concurrency)
    numbers = [n for n, _, _ in seen]
    if concurrency == 1:
        assert numbers == list(range(10 * BACKLOG))
    else:
        assert sorted(numbers) == list(range(10 * BACKLOG))
    lengths = runs(seen)
    assert max(lengths) == BACKLOG  # a schedule point at least every BACKLOG events
    assert len(lengths) < 10 * BACKLOG / 2  # and not one per event


@pytest.mark.parametrize("mode", ["full", "cancel"])
async def test_a_short_queue_is_delivered_one_event_per_schedule_point(mode):
    from eventbus._dispatch import BACKLOG

    # cancel: BACKLOG events queued at once, no more; full: every emit yields
    seen = await emit_then_drain(mode, BACKLOG if mode == "cancel" else 5 * BACKLOG)
    assert [n for n, _, _ in seen] == list(range(len(seen)))
    assert max(runs(seen)) == 1


@pytest.mark.parametrize("handler_kind", ["async", "sync"])
async def test_a_backlog_past_drain_timeout_is_counted_as_lost(autojump_clock, handler_kind):
    from eventbus._dispatch import BACKLOG

    total = 10 * BACKLOG
    seen = []
    async with open_bus(drain_timeout=2.5, checkpoint="cancel") as bus:
        if handler_kind == "async":

            async def hook(event):
                await trio.sleep(0.1)
                seen.append(event.n)

        else:

            def hook(event):
                seen.append(event.n)

        bus.hook(Ping)(hook)
        # the emitter does not yield: the whole backlog is left to the close
        for n in range(total):
            await bus.emit(Ping(n))
        start = trio.current_time()

    stats = {r.handler: r for r in bus.stats()}
    record = stats[hook.__qualname__]
    if handler_kind == "async":
        # 0.1 s per event: about 25 delivered in the 2.5 s, the rest lost
        assert trio.current_time() - start == pytest.approx(2.5)
        assert seen == list(range(len(seen)))
        assert 20 <= len(seen) <= 26
        assert len(seen) + record.lost in (total, total - 1)  # one may be cut mid-call
    else:
        # a sync hook goes through its whole backlog: nothing lost
        assert seen == list(range(total))
        assert record.lost == 0
