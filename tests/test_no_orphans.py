"""No orphan task: every task the bus spawns has exited once the bus is closed.

DESIGN sections 2, 3, 5 and 7; STYLE (no task outside a nursery the user can see).
"""

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


class TaskCounter(trio.abc.Instrument):
    def __init__(self):
        self.spawned = []
        self.exited = set()

    def task_spawned(self, task):
        self.spawned.append(task)

    def task_exited(self, task):
        self.exited.add(task)

    def mark(self):
        return len(self.spawned)

    def alive(self, since):
        return [task.name for task in self.spawned[since:] if task not in self.exited]


@pytest.fixture
async def counter():
    counter = TaskCounter()
    trio.lowlevel.add_instrument(counter)
    try:
        yield counter
    finally:
        trio.lowlevel.remove_instrument(counter)


async def test_listeners_leave_no_task(counter):
    start = counter.mark()
    async with open_bus() as bus:
        for _ in range(3):

            async def listener(event):
                await trio.lowlevel.checkpoint()

            bus.listener(Ping)(listener)
        mark = counter.mark()
        for n in range(5):
            await bus.emit(Ping(n))
        assert counter.alive(mark) == []
    assert counter.alive(start) == []


async def test_hooks_and_emit_soon_leave_no_task_after_close(counter, autojump_clock):
    start = counter.mark()
    async with open_bus() as bus:

        @bus.hook(Ping, concurrency=3)
        async def slow_hook(event):
            await trio.sleep(1)

        @bus.listener(Ping)
        async def listener(event):
            await trio.sleep(0.5)

        for n in range(5):
            await bus.emit(Ping(n))
            bus.emit_soon(Ping(n))
        async with bus.stream(Ping):
            await bus.emit(Ping(99))
    assert counter.alive(start) == []


async def test_hooks_cut_off_by_drain_timeout_leave_no_task(counter, autojump_clock):
    start = counter.mark()
    async with open_bus(drain_timeout=1) as bus:

        @bus.hook(Ping)
        async def endless_hook(event):
            await trio.sleep_forever()

        @bus.listener(Ping)
        async def endless_listener(event):
            await trio.sleep_forever()

        bus.emit_soon(Ping(1))
        await trio.testing.wait_all_tasks_blocked()
    assert counter.alive(start) == []


async def test_outer_cancel_mid_emit_leaves_no_task(counter, autojump_clock):
    start = counter.mark()
    async with open_bus() as bus:
        for _ in range(4):

            async def stuck_listener(event):
                await trio.sleep_forever()

            bus.listener(Ping)(stuck_listener)

        @bus.pipe(Ping)
        async def slow_pipe(event):
            await trio.sleep(1)
            return event

        mark = counter.mark()
        with trio.move_on_after(0.5):
            await bus.emit(Ping(1))  # cancelled in the pipe
        assert counter.alive(mark) == []

        mark = counter.mark()
        with trio.move_on_after(3) as cancel_scope:
            await bus.emit(Ping(2))  # cancelled in the listeners
        assert cancel_scope.cancelled_caught
        assert counter.alive(mark) == []
    assert counter.alive(start) == []


async def test_timeouts_leave_no_task(counter, autojump_clock):
    start = counter.mark()
    async with open_bus(listener_timeout=1) as bus:

        @bus.listener(Ping)
        async def stuck_listener(event):
            await trio.sleep_forever()

        mark = counter.mark()
        with pytest.raises(eventbus.ListenerError):
            await bus.emit(Ping())
        with pytest.raises(eventbus.EmitTimeout):
            await bus.emit(Ping(), timeout=0.5)
        with pytest.raises(eventbus.WaitTimeout):
            await bus.wait_for(Ping, timeout=1)
        assert counter.alive(mark) == []
    assert counter.alive(start) == []


async def test_scope_exit_leaves_no_task(counter, autojump_clock):
    start = counter.mark()
    async with open_bus() as bus:
        mark = counter.mark()
        async with bus.scope("s") as scope:

            @scope.hook(Ping, concurrency=2)
            async def slow_hook(event):
                await trio.sleep(1)

            @scope.listener(Ping)
            async def listener(event):
                await trio.sleep(1)

            for n in range(3):
                await scope.emit(Ping(n))
                scope.emit_soon(Ping(n))
            async with scope.scope("inner") as inner:
                inner.hook(Ping)(slow_hook)
                await inner.emit(Ping(9))
        assert counter.alive(mark) == []

        mark = counter.mark()
        with trio.CancelScope() as cancel_scope:
            async with bus.scope("cancelled") as scope:

                @scope.hook(Ping)
                async def endless_hook(event):
                    await trio.sleep_forever()

                await scope.emit(Ping())
                await trio.testing.wait_all_tasks_blocked()
                cancel_scope.cancel()
        assert counter.alive(mark) == []
    assert counter.alive(start) == []


async def test_emit_on_a_closing_scope_leaves_no_task(counter, autojump_clock):
    start = counter.mark()
    async with open_bus() as bus:

        async def emitter(scope):
            with pytest.raises(eventbus.BusClosed):
                await scope.emit(Ping())

        async with trio.open_nursery() as nursery, bus.scope("s") as scope:

            @scope.listener(Ping)
            async def stuck_listener(event):
                await trio.sleep_forever()

            nursery.start_soon(emitter, scope)
            await trio.testing.wait_all_tasks_blocked()
    assert counter.alive(start) == []
