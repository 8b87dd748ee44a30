"""Listeners: concurrent fan-out, isolated failures collected in ListenerError.

DESIGN sections 2, 8 and 15.
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
class Ping(eventbus.Event):
    n: int = 0


def stats_for(bus, handler):
    records = [r for r in bus.stats() if r.handler == handler.__qualname__]
    assert len(records) == 1, bus.stats()
    return records[0]


async def test_listeners_run_concurrently(autojump_clock):
    # each listener waits for the other: only a concurrent fan-out finishes
    a_ready, b_ready = trio.Event(), trio.Event()
    done = []
    async with open_bus() as bus:

        @bus.listener(Ping)
        async def a(event):
            a_ready.set()
            await b_ready.wait()
            done.append("a")

        @bus.listener(Ping)
        async def b(event):
            b_ready.set()
            await a_ready.wait()
            done.append("b")

        with trio.fail_after(60):
            await bus.emit(Ping())
    assert sorted(done) == ["a", "b"]


async def test_listeners_interleave_in_sequence(autojump_clock):
    sequencer = trio.testing.Sequencer()
    trail = []
    async with open_bus() as bus:

        @bus.listener(Ping)
        async def first(event):
            async with sequencer(0):
                trail.append("first-0")
            async with sequencer(2):
                trail.append("first-2")

        @bus.listener(Ping)
        async def second(event):
            async with sequencer(1):
                trail.append("second-1")
            async with sequencer(3):
                trail.append("second-3")

        with trio.move_on_after(30) as deadline:
            await bus.emit(Ping())
        assert not deadline.cancelled_caught
    assert trail == ["first-0", "second-1", "first-2", "second-3"]


async def test_emit_waits_for_every_listener(autojump_clock):
    done = []
    async with open_bus() as bus:
        for delay in (3, 1, 2):

            async def slow(event, delay=delay):
                await trio.sleep(delay)
                done.append(delay)

            bus.listener(Ping)(slow)

        start = trio.current_time()
        await bus.emit(Ping())
        assert sorted(done) == [1, 2, 3]
        # concurrently: the emit takes as long as the slowest listener
        assert trio.current_time() - start == pytest.approx(3)


async def test_listeners_receive_the_event_after_the_pipes():
    seen = []
    async with open_bus() as bus:
        bus.pipe(Ping)(lambda event: attrs.evolve(event, n=event.n + 1))
        bus.listener(Ping)(seen.append)

        @bus.listener(Ping)
        async def async_listener(event):
            seen.append(event)

        result = await bus.emit(Ping(1))
    assert seen == [Ping(2), Ping(2)]
    assert result == Ping(2)


async def test_listener_return_values_are_ignored():
    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: "ignored")
        assert await bus.emit(Ping(1)) == Ping(1)


async def test_thread_listener_runs_in_a_worker_thread():
    threads = []
    async with open_bus() as bus:
        bus.listener(Ping, thread=True)(lambda event: threads.append(threading.get_ident()))
        await bus.emit(Ping())
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


# -- failures ----------------------------------------------------------------------


async def test_one_failure_is_a_listener_error_group_of_one():
    async with open_bus() as bus:

        @bus.listener(Ping, owner="audit")
        async def bad_listener(event):
            raise ValueError("nope")

        bus.listener(Ping)(lambda event: None)

        with pytest.raises(eventbus.ListenerError) as excinfo:
            await bus.emit(Ping())

    group = excinfo.value
    assert isinstance(group, ExceptionGroup)
    assert isinstance(group, eventbus.EventBusError)
    assert len(group.exceptions) == 1
    (error,) = group.exceptions
    assert type(error) is ValueError
    assert str(error) == "nope"
    notes = getattr(error, "__notes__", [])
    assert any("bad_listener" in note and "audit" in note for note in notes), notes


async def test_except_star_catches_a_single_listener_failure():
    caught = []
    async with open_bus() as bus:

        @bus.listener(Ping)
        def sync_bad_listener(event):
            raise KeyError("missing")

        try:
            await bus.emit(Ping())
        except* KeyError as group:
            caught.append(group)

    assert len(caught) == 1
    assert [type(e) for e in caught[0].exceptions] == [KeyError]


async def test_several_failures_are_all_collected():
    async with open_bus() as bus:

        @bus.listener(Ping)
        async def fails_value(event):
            raise ValueError("v")

        @bus.listener(Ping)
        def fails_key(event):
            raise KeyError("k")

        @bus.listener(Ping)
        async def fails_runtime(event):
            await trio.lowlevel.checkpoint()
            raise RuntimeError("r")

        with pytest.raises(eventbus.ListenerError) as excinfo:
            await bus.emit(Ping())

        group = excinfo.value
        assert sorted(type(e).__name__ for e in group.exceptions) == [
            "KeyError",
            "RuntimeError",
            "ValueError",
        ]
        for error, name in [
            (group.subgroup(ValueError).exceptions[0], "fails_value"),
            (group.subgroup(KeyError).exceptions[0], "fails_key"),
            (group.subgroup(RuntimeError).exceptions[0], "fails_runtime"),
        ]:
            assert any(name in note for note in getattr(error, "__notes__", [])), error
        for handler in (fails_value, fails_key, fails_runtime):
            assert stats_for(bus, handler).failures == 1


async def test_except_star_splits_several_failures():
    values, keys = [], []
    async with open_bus() as bus:

        @bus.listener(Ping)
        def fails_value(event):
            raise ValueError("v")

        @bus.listener(Ping)
        def fails_key(event):
            raise KeyError("k")

        try:
            await bus.emit(Ping())
        except* ValueError as group:
            values.extend(group.exceptions)
        except* KeyError as group:
            keys.extend(group.exceptions)
    assert len(values) == 1
    assert len(keys) == 1


async def test_other_listeners_run_to_completion_after_a_failure(autojump_clock):
    finished = []
    async with open_bus() as bus:

        @bus.listener(Ping)
        async def fails_fast(event):
            raise ValueError("early")

        @bus.listener(Ping)
        async def slow(event):
            await trio.sleep(5)
            finished.append("slow")

        @bus.listener(Ping)
        async def slower(event):
            await trio.sleep(10)
            finished.append("slower")

        start = trio.current_time()
        with pytest.raises(eventbus.ListenerError) as excinfo:
            await bus.emit(Ping())
        # the error is raised only once all listeners are done
        assert trio.current_time() - start == pytest.approx(10)

    assert sorted(finished) == ["slow", "slower"]
    assert len(excinfo.value.exceptions) == 1


async def test_a_failing_listener_keeps_getting_later_events():
    seen = []
    async with open_bus() as bus:

        @bus.listener(Ping)
        def odd_fails(event):
            seen.append(event.n)
            if event.n % 2:
                raise ValueError(event.n)

        for n in range(4):
            try:
                await bus.emit(Ping(n))
            except* ValueError:
                pass
        assert stats_for(bus, odd_fails).failures == 2
        assert stats_for(bus, odd_fails).calls == 4
    assert seen == [0, 1, 2, 3]


async def test_listener_failures_do_not_disturb_pipes_or_hooks():
    hooked = []
    async with open_bus() as bus:
        bus.pipe(Ping)(lambda event: attrs.evolve(event, n=event.n + 1))
        bus.hook(Ping)(hooked.append)

        @bus.listener(Ping)
        def fails(event):
            raise ValueError("x")

        with pytest.raises(eventbus.ListenerError):
            await bus.emit(Ping(1))
        await trio.testing.wait_all_tasks_blocked()
    assert hooked == [Ping(2)]
