"""Timeouts on trio cancel scopes, all on the autojump MockClock.

DESIGN sections 7, 8 and 15.
"""

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
class SlowEvent(eventbus.Event):
    n: int = 0


def stats_for(bus, handler):
    records = [r for r in bus.stats() if r.handler == handler.__qualname__]
    assert len(records) == 1, bus.stats()
    return records[0]


def sleeper(seconds, name="sleeper"):
    async def handler(event):
        await trio.sleep(seconds)
        return event

    handler.__name__ = handler.__qualname__ = name
    return handler


class Clock:
    def __init__(self):
        self.start = trio.current_time()

    @property
    def elapsed(self):
        return trio.current_time() - self.start


# -- per subscription ---------------------------------------------------------------


async def test_pipe_timeout_aborts_the_chain_with_handler_timeout(autojump_clock):
    after = []
    async with open_bus() as bus:
        bus.pipe(SlowEvent, timeout=1.5, owner="audit")(sleeper(5, "slow_pipe"))
        bus.pipe(SlowEvent, order=1)(lambda event: after.append(event) or event)
        clock = Clock()
        with pytest.raises(eventbus.HandlerTimeout) as excinfo:
            await bus.emit(SlowEvent())
        assert clock.elapsed == pytest.approx(1.5)
    assert after == []
    error = excinfo.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, eventbus.EventBusError)
    message = str(error)
    for part in ("slow_pipe", "SlowEvent", "1.5", "audit"):
        assert part in message, (part, message)


async def test_listener_timeout_is_one_failure_in_listener_error(autojump_clock):
    finished = []
    async with open_bus() as bus:
        bus.listener(SlowEvent, timeout=1)(sleeper(5, "slow_listener"))

        @bus.listener(SlowEvent)
        async def fine_listener(event):
            await trio.sleep(3)
            finished.append(event)

        clock = Clock()
        with pytest.raises(eventbus.ListenerError) as excinfo:
            await bus.emit(SlowEvent())
        assert clock.elapsed == pytest.approx(3)
    (error,) = excinfo.value.exceptions
    assert isinstance(error, eventbus.HandlerTimeout)
    assert "slow_listener" in str(error)
    assert finished == [SlowEvent()]


async def test_hook_timeout_is_reported_and_the_hook_keeps_running(autojump_clock):
    seen = []
    async with open_bus() as bus:

        @bus.hook(SlowEvent, timeout=1)
        async def slow_hook(event):
            await trio.sleep(event.n)
            seen.append(event.n)

        await bus.emit(SlowEvent(5))
        await bus.emit(SlowEvent(0))
        await trio.sleep(10)
        assert seen == [0]
        record = stats_for(bus, slow_hook)
        assert record.timeouts == 1
        assert record.calls == 2


async def test_handler_timeouts_are_counted_in_stats(autojump_clock):
    async with open_bus() as bus:
        pipe = sleeper(5, "slow_pipe")
        bus.pipe(SlowEvent, timeout=1)(pipe)
        for _ in range(2):
            with pytest.raises(eventbus.HandlerTimeout):
                await bus.emit(SlowEvent())
        assert stats_for(bus, pipe).timeouts == 2


async def test_a_handler_within_its_timeout_completes(autojump_clock):
    async with open_bus() as bus:
        bus.pipe(SlowEvent, timeout=5)(sleeper(4.9))
        assert await bus.emit(SlowEvent(1)) == SlowEvent(1)


async def test_thread_pipe_is_abandoned_on_timeout(autojump_clock):
    release = threading.Event()
    async with open_bus() as bus:

        @bus.pipe(SlowEvent, thread=True, timeout=2)
        def blocking_pipe(event):
            release.wait(60)
            return event

        try:
            clock = Clock()
            with pytest.raises(eventbus.HandlerTimeout) as excinfo:
                await bus.emit(SlowEvent())
            assert clock.elapsed == pytest.approx(2)
        finally:
            release.set()
    assert "blocking_pipe" in str(excinfo.value)


# -- per kind bus defaults --------------------------------------------------------------


async def test_pipe_timeout_default_on_the_bus(autojump_clock):
    async with open_bus(pipe_timeout=2) as bus:
        bus.pipe(SlowEvent)(sleeper(5, "default_limited"))
        bus.listener(SlowEvent)(sleeper(5, "unlimited_listener"))
        clock = Clock()
        with pytest.raises(eventbus.HandlerTimeout) as excinfo:
            await bus.emit(SlowEvent())
        assert clock.elapsed == pytest.approx(2)
    assert "default_limited" in str(excinfo.value)


async def test_pipe_timeout_does_not_limit_listeners(autojump_clock):
    async with open_bus(pipe_timeout=1) as bus:
        bus.listener(SlowEvent)(sleeper(5))
        clock = Clock()
        await bus.emit(SlowEvent())
        assert clock.elapsed == pytest.approx(5)


async def test_listener_timeout_default_on_the_bus(autojump_clock):
    async with open_bus(listener_timeout=2) as bus:
        bus.pipe(SlowEvent)(sleeper(3))  # pipes are not limited by listener_timeout
        bus.listener(SlowEvent)(sleeper(5))
        clock = Clock()
        with pytest.raises(eventbus.ListenerError) as excinfo:
            await bus.emit(SlowEvent())
        assert clock.elapsed == pytest.approx(5)
    assert [type(e) for e in excinfo.value.exceptions] == [eventbus.HandlerTimeout]


async def test_hook_timeout_default_on_the_bus(autojump_clock):
    async with open_bus(hook_timeout=2) as bus:
        slow_hook = sleeper(5, "slow_hook")
        bus.hook(SlowEvent)(slow_hook)
        await bus.emit(SlowEvent())
        await trio.sleep(10)
        assert stats_for(bus, slow_hook).timeouts == 1


async def test_a_subscription_timeout_wins_over_the_bus_default(autojump_clock):
    async with open_bus(pipe_timeout=1) as bus:
        bus.pipe(SlowEvent, timeout=10)(sleeper(5))
        assert await bus.emit(SlowEvent(1)) == SlowEvent(1)


# -- per scope ----------------------------------------------------------------------------


async def test_scope_timeout_overrides_the_bus_default(autojump_clock):
    async with open_bus(pipe_timeout=10) as bus:
        bus.pipe(SlowEvent)(sleeper(5))
        assert await bus.emit(SlowEvent(1)) == SlowEvent(1)
        async with bus.scope("strict", timeout=1) as scope:
            clock = Clock()
            with pytest.raises(eventbus.HandlerTimeout):
                await scope.emit(SlowEvent(2))
            assert clock.elapsed == pytest.approx(1)
        async with bus.scope("lenient", timeout=30) as scope:
            bus.pipe(SlowEvent, order=1)(sleeper(15))
            assert await scope.emit(SlowEvent(3)) == SlowEvent(3)


# -- per emit -------------------------------------------------------------------------------


async def test_emit_timeout_bounds_the_whole_emit(autojump_clock):
    async with open_bus() as bus:
        bus.pipe(SlowEvent)(sleeper(1, "first_pipe"))
        bus.pipe(SlowEvent, order=1, owner="audit")(sleeper(1, "second_pipe"))
        bus.listener(SlowEvent)(sleeper(1, "a_listener"))
        clock = Clock()
        with pytest.raises(eventbus.EmitTimeout) as excinfo:
            await bus.emit(SlowEvent(), timeout=1.5)
        assert clock.elapsed == pytest.approx(1.5)
    error = excinfo.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, eventbus.EventBusError)
    assert not isinstance(error, eventbus.HandlerTimeout)
    message = str(error)
    # it ran out in the second pipe
    for part in ("SlowEvent", "1.5", "second_pipe", "audit"):
        assert part in message, (part, message)


async def test_emit_timeout_during_listeners_is_an_emit_timeout(autojump_clock):
    async with open_bus() as bus:
        bus.listener(SlowEvent)(sleeper(5))
        bus.listener(SlowEvent)(sleeper(6))
        with pytest.raises(eventbus.EmitTimeout):
            await bus.emit(SlowEvent(), timeout=2)


async def test_emit_within_its_timeout_returns(autojump_clock):
    async with open_bus() as bus:
        bus.pipe(SlowEvent)(sleeper(1))
        bus.listener(SlowEvent)(sleeper(1))
        assert await bus.emit(SlowEvent(1), timeout=2.5) == SlowEvent(1)


async def test_emit_timeout_does_not_wait_for_hooks(autojump_clock):
    done = []
    async with open_bus() as bus:

        @bus.hook(SlowEvent)
        async def slow_hook(event):
            await trio.sleep(5)
            done.append(event)

        await bus.emit(SlowEvent(), timeout=1)
        await trio.sleep(10)
    assert done == [SlowEvent()]


# -- nested deadlines --------------------------------------------------------------------------


async def test_earlier_emit_deadline_wins_over_a_handler_timeout(autojump_clock):
    async with open_bus() as bus:
        bus.pipe(SlowEvent, timeout=3)(sleeper(10))
        clock = Clock()
        with pytest.raises(eventbus.EmitTimeout):
            await bus.emit(SlowEvent(), timeout=1)
        assert clock.elapsed == pytest.approx(1)


async def test_earlier_handler_deadline_wins_over_an_emit_timeout(autojump_clock):
    async with open_bus() as bus:
        bus.pipe(SlowEvent, timeout=1)(sleeper(10))
        clock = Clock()
        with pytest.raises(eventbus.HandlerTimeout):
            await bus.emit(SlowEvent(), timeout=3)
        assert clock.elapsed == pytest.approx(1)


async def test_the_callers_deadline_nests_around_handler_timeouts(autojump_clock):
    async with open_bus() as bus:
        bus.pipe(SlowEvent, timeout=3)(sleeper(10))
        clock = Clock()
        with trio.move_on_after(1) as cancel_scope:
            await bus.emit(SlowEvent())
        assert cancel_scope.cancelled_caught
        assert clock.elapsed == pytest.approx(1)


async def test_handler_timeout_after_a_slow_earlier_pipe(autojump_clock):
    # each handler's limit bounds that handler only
    async with open_bus() as bus:
        bus.pipe(SlowEvent, timeout=2)(sleeper(1.5))
        bus.pipe(SlowEvent, order=1, timeout=2)(sleeper(1.5))
        clock = Clock()
        assert await bus.emit(SlowEvent(1)) == SlowEvent(1)
        assert clock.elapsed == pytest.approx(3)


# -- outer cancellation ---------------------------------------------------------------------------


async def test_outer_cancellation_propagates_as_cancelled_from_a_pipe(autojump_clock):
    running = []
    async with open_bus() as bus:

        @bus.pipe(SlowEvent)
        async def stuck_pipe(event):
            running.append("pipe")
            try:
                await trio.sleep_forever()
            finally:
                running.remove("pipe")

        caught = []
        with trio.move_on_after(1) as cancel_scope:
            try:
                await bus.emit(SlowEvent())
            except BaseException as exc:
                caught.append(exc)
                raise
        assert cancel_scope.cancelled_caught
        assert [type(exc) for exc in caught] == [trio.Cancelled]
        assert running == []
        assert stats_for(bus, stuck_pipe).failures == 0
        assert stats_for(bus, stuck_pipe).timeouts == 0


async def test_outer_cancellation_from_listeners_is_a_bare_cancelled(autojump_clock):
    running = set()
    caught = []
    async with open_bus() as bus:
        for index in range(3):

            async def stuck_listener(event, index=index):
                running.add(index)
                try:
                    await trio.sleep_forever()
                finally:
                    running.discard(index)

            bus.listener(SlowEvent)(stuck_listener)

        with trio.move_on_after(2) as cancel_scope:
            try:
                await bus.emit(SlowEvent())
            except BaseException as exc:
                caught.append(exc)
                raise
        assert cancel_scope.cancelled_caught
        assert [type(exc) for exc in caught] == [trio.Cancelled]
        assert running == set()
        await trio.testing.wait_all_tasks_blocked()
        assert running == set()


async def test_outer_cancellation_while_waiting_on_a_full_hook_queue(autojump_clock):
    gate = trio.Event()
    async with open_bus() as bus:

        @bus.hook(SlowEvent, capacity=1)
        async def gated_hook(event):
            await gate.wait()

        await bus.emit(SlowEvent(0))
        await trio.testing.wait_all_tasks_blocked()
        await bus.emit(SlowEvent(1))
        with trio.move_on_after(1) as cancel_scope:
            await bus.emit(SlowEvent(2))
        assert cancel_scope.cancelled_caught
        gate.set()


async def test_outer_cancellation_is_not_counted_as_a_failure(autojump_clock):
    async with open_bus() as bus:
        listener = sleeper(10, "cancelled_listener")
        bus.listener(SlowEvent)(listener)
        with trio.move_on_after(1):
            await bus.emit(SlowEvent())
        record = stats_for(bus, listener)
        assert (record.failures, record.timeouts) == (0, 0)
        # the bus is fine afterwards
        with trio.move_on_after(20) as cancel_scope:
            await bus.emit(SlowEvent())
        assert not cancel_scope.cancelled_caught
