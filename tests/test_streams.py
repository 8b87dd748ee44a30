"""bus.stream() and bus.wait_for().

DESIGN sections 3 and 15.
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
class Tick(eventbus.Event):
    n: int = 0


@attrs.frozen
class SubTick(Tick):
    pass


@attrs.frozen
class Other(eventbus.Event):
    n: int = 0


# -- stream -----------------------------------------------------------------------------


async def test_stream_yields_events_in_fifo_order():
    received = []
    async with open_bus() as bus, bus.stream(Tick) as events:
        for n in range(5):
            await bus.emit(Tick(n))
        await bus.emit(Other(99))
        async for event in events:
            received.append(event.n)
            if len(received) == 5:
                break
    assert received == [0, 1, 2, 3, 4]


async def test_stream_consumer_in_another_task_sees_events_after_the_pipes():
    received = []
    async with open_bus() as bus:
        bus.pipe(Tick)(lambda event: attrs.evolve(event, n=event.n + 100))
        ready = trio.Event()

        async def consumer():
            async with bus.stream(Tick) as events:
                ready.set()
                async for event in events:
                    received.append(event)
                    if len(received) == 3:
                        return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consumer)
            await ready.wait()
            await bus.emit(Tick(1))
            await bus.emit(SubTick(2))
            await bus.emit(Tick(3))
    assert received == [Tick(101), SubTick(102), Tick(103)]


async def test_stream_is_removed_when_the_block_exits(autojump_clock):
    async with open_bus() as bus:
        before = bus.stats()
        async with bus.stream(Tick) as events:
            records = [r for r in bus.stats() if r.kind == "stream"]
            assert len(records) == 1
            assert records[0].event_type is Tick
            assert records[0].queued == 0
            await bus.emit(Tick(1))
            assert [r.queued for r in bus.stats() if r.kind == "stream"] == [1]
            async for event in events:
                assert event == Tick(1)
                break
        assert bus.stats() == before
        # nothing is queued for the departed stream: many emits never block
        with trio.move_on_after(5) as cancel_scope:
            for n in range(5000):
                await bus.emit(Tick(n))
        assert not cancel_scope.cancelled_caught


async def test_stream_with_capacity_and_wait_overflow_applies_backpressure(autojump_clock):
    emitted, received = [], []
    async with open_bus() as bus, bus.stream(Tick, capacity=2) as events:

        async def emitter():
            for n in range(5):
                await bus.emit(Tick(n))
                emitted.append(n)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(emitter)
            await trio.testing.wait_all_tasks_blocked()
            assert emitted == [0, 1]
            async for event in events:
                received.append(event.n)
                if len(received) == 5:
                    break
    assert emitted == received == [0, 1, 2, 3, 4]


async def test_stream_with_drop_overflow_never_blocks_the_emitter(autojump_clock):
    received = []
    async with open_bus() as bus, bus.stream(Tick, capacity=2, overflow="drop") as events:
        with trio.fail_after(60):
            for n in range(6):
                await bus.emit(Tick(n))
        (record,) = [r for r in bus.stats() if r.kind == "stream"]
        assert record.drops == 4
        assert record.queued == 2
        async for event in events:
            received.append(event.n)
            if len(received) == 2:
                break
    assert received == [0, 1]


async def test_stream_capacity_defaults_to_hook_capacity(autojump_clock):
    emitted = []
    async with open_bus(hook_capacity=3) as bus, bus.stream(Tick):

        async def emitter():
            for n in range(10):
                await bus.emit(Tick(n))
                emitted.append(n)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(emitter)
            await trio.testing.wait_all_tasks_blocked()
            assert emitted == [0, 1, 2]
            nursery.cancel_scope.cancel()


async def test_an_emitter_waiting_on_a_stream_carries_on_when_it_closes(autojump_clock):
    emitted = []
    async with open_bus() as bus, trio.open_nursery() as nursery, bus.stream(Tick, capacity=1):

        async def emitter():
            for n in range(3):
                await bus.emit(Tick(n))
                emitted.append(n)

        nursery.start_soon(emitter)
        await trio.testing.wait_all_tasks_blocked()
        assert emitted == [0]
    assert emitted == [0, 1, 2]


async def test_streams_on_a_scope_are_encapsulated():
    async with open_bus() as bus, bus.scope("s") as scope, scope.stream(Tick) as events:
        await bus.emit(Tick(1))
        await scope.emit(Tick(2))
        async for event in events:
            assert event == Tick(2)
            break


# -- wait_for ---------------------------------------------------------------------------


async def test_wait_for_returns_the_next_event_after_the_pipes():
    results = []
    async with open_bus() as bus:
        bus.pipe(Tick)(lambda event: attrs.evolve(event, n=event.n * 2))

        async def waiter():
            results.append(await bus.wait_for(Tick))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            await bus.emit(Other(1))
            await bus.emit(Tick(21))
            await bus.emit(Tick(22))
    assert results == [Tick(42)]


async def test_wait_for_with_where():
    results = []
    async with open_bus() as bus:

        async def waiter():
            results.append(await bus.wait_for(Tick, where=lambda event: event.n > 2))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            for n in range(6):
                await bus.emit(Tick(n))
    assert results == [Tick(3)]


async def test_wait_for_matches_subclasses():
    results = []
    async with open_bus() as bus:

        async def waiter():
            results.append(await bus.wait_for(Tick))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            await bus.emit(SubTick(5))
    assert results == [SubTick(5)]


async def test_wait_for_timeout_raises_wait_timeout(autojump_clock):
    async with open_bus() as bus:
        before = bus.stats()
        start = trio.current_time()
        with pytest.raises(eventbus.WaitTimeout) as excinfo:
            await bus.wait_for(Tick, where=lambda event: event.n == 7, timeout=2.5)
        assert trio.current_time() - start == pytest.approx(2.5)
        assert bus.stats() == before
    error = excinfo.value
    assert isinstance(error, eventbus.EventBusError)
    assert isinstance(error, TimeoutError)
    assert "Tick" in str(error)
    assert "2.5" in str(error)


async def test_wait_for_leaves_nothing_subscribed():
    async with open_bus() as bus:
        before = bus.stats()

        async def waiter():
            await bus.wait_for(Tick)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            await bus.emit(Tick())
        assert bus.stats() == before


async def test_wait_for_succeeds_before_its_timeout(autojump_clock):
    results = []
    async with open_bus() as bus:

        async def waiter():
            results.append(await bus.wait_for(Tick, timeout=10))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.sleep(3)
            await bus.emit(Tick(3))
    assert results == [Tick(3)]
