"""emit / emit_soon: return value, MRO dispatch, wire names, checkpoints, closed bus.

DESIGN sections 1, 2 and 3.
"""

import logging

import attrs
import pytest
import trio
import trio.testing

import eventbus


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Base(eventbus.Event):
    n: int = 0


@attrs.frozen
class Child(Base):
    pass


@attrs.frozen
class GrandChild(Child):
    pass


@attrs.frozen
class Other(eventbus.Event):
    n: int = 0


class PlainEvent:
    """An event that is not an attrs class and does not inherit from Event."""

    def __init__(self, n: int) -> None:
        self.n = n


@attrs.frozen
class Stamped(eventbus.Event):
    stamps: tuple[str, ...] = ()


# -- return value ------------------------------------------------------------


async def test_emit_without_subscribers_returns_the_event_itself():
    async with open_bus() as bus:
        event = Base(1)
        assert await bus.emit(event) is event


async def test_emit_returns_the_event_as_the_pipes_left_it():
    seen_by_listener = []

    async with open_bus() as bus:

        @bus.pipe(Stamped, order=1)
        async def second(event):
            return attrs.evolve(event, stamps=(*event.stamps, "second"))

        @bus.pipe(Stamped, order=0)
        def first(event):
            return attrs.evolve(event, stamps=(*event.stamps, "first"))

        @bus.listener(Stamped)
        async def listen(event):
            seen_by_listener.append(event)

        result = await bus.emit(Stamped())

    assert result == Stamped(stamps=("first", "second"))
    assert seen_by_listener == [result]


async def test_emit_returns_a_subclass_instance_a_pipe_returned():
    async with open_bus() as bus:

        @bus.pipe(Base)
        async def upgrade(event):
            return Child(event.n + 1)

        result = await bus.emit(Base(1))

    assert type(result) is Child
    assert result.n == 2


async def test_decorators_return_the_handler():
    async def handler(event):
        return event

    async with open_bus() as bus:
        assert bus.pipe(Base)(handler) is handler
        assert bus.listener(Base)(handler) is handler
        assert bus.hook(Base)(handler) is handler


async def test_subscribe_returns_a_subscription_describing_it():
    async def handler(event):
        pass

    async with open_bus() as bus:
        sub = bus.subscribe(Base, handler, kind="listener", order=3, owner="audit")
        assert isinstance(sub, eventbus.Subscription)
        assert sub.event_type is Base
        assert sub.handler is handler
        assert sub.kind == "listener"
        assert sub.order == 3
        assert sub.owner == "audit"
        assert sub.active
        sub.cancel()
        assert not sub.active


async def test_subscription_as_context_manager_cancels_on_exit():
    seen = []
    async with open_bus() as bus:
        with bus.subscribe(Base, seen.append, kind="listener") as sub:
            await bus.emit(Base(1))
            assert sub.active
        assert not sub.active
        await bus.emit(Base(2))
    assert seen == [Base(1)]


async def test_subscription_cancel_is_idempotent():
    async with open_bus() as bus:
        sub = bus.subscribe(Base, lambda event: None, kind="listener")
        sub.cancel()
        sub.cancel()
        assert not sub.active
        assert bus.stats() == ()


# -- MRO dispatch ------------------------------------------------------------


async def test_subscribing_to_a_base_class_receives_subclasses():
    seen = []
    async with open_bus() as bus:
        bus.listener(Base)(seen.append)
        await bus.emit(Base(1))
        await bus.emit(Child(2))
        await bus.emit(GrandChild(3))
        await bus.emit(Other(4))
    assert seen == [Base(1), Child(2), GrandChild(3)]


async def test_subscribing_to_a_subclass_does_not_receive_the_base():
    seen = []
    async with open_bus() as bus:
        bus.listener(Child)(seen.append)
        await bus.emit(Base(1))
        await bus.emit(Child(2))
    assert seen == [Child(2)]


async def test_subscribing_to_event_receives_every_event_subclass():
    seen = []
    async with open_bus() as bus:
        bus.listener(eventbus.Event)(seen.append)
        await bus.emit(Base(1))
        await bus.emit(Other(2))
    assert seen == [Base(1), Other(2)]


async def test_subscribing_to_object_receives_everything():
    seen = []
    plain = PlainEvent(7)
    async with open_bus() as bus:
        bus.listener(object)(seen.append)
        await bus.emit(Base(1))
        await bus.emit(plain)
    assert seen == [Base(1), plain]


async def test_any_class_instance_is_an_event():
    seen = []
    plain = PlainEvent(7)
    async with open_bus() as bus:
        bus.listener(PlainEvent)(seen.append)
        assert await bus.emit(plain) is plain
    assert seen == [plain]


async def test_every_kind_dispatches_along_the_mro():
    pipe_seen, listener_seen, hook_seen = [], [], []
    async with open_bus() as bus:

        @bus.pipe(Base)
        def pipe(event):
            pipe_seen.append(event)
            return event

        bus.listener(Base)(listener_seen.append)
        bus.hook(Base)(hook_seen.append)
        await bus.emit(GrandChild(1))
        await trio.testing.wait_all_tasks_blocked()
    assert pipe_seen == listener_seen == hook_seen == [GrandChild(1)]


async def test_pipes_on_several_classes_of_the_mro_form_one_chain():
    async with open_bus() as bus:

        @bus.pipe(Base, order=2)
        def on_base(event):
            return attrs.evolve(event, n=event.n * 10 + 2)

        @bus.pipe(Child, order=1)
        def on_child(event):
            return attrs.evolve(event, n=event.n * 10 + 1)

        @bus.pipe(eventbus.Event, order=3)
        def on_event(event):
            return attrs.evolve(event, n=event.n * 10 + 3)

        assert await bus.emit(Child(0)) == Child(123)
        # a Base does not go through the Child pipe
        assert await bus.emit(Base(0)) == Base(23)


async def test_a_handler_subscribed_once_runs_once_per_emit():
    seen = []
    async with open_bus() as bus:
        bus.listener(Base)(seen.append)
        await bus.emit(GrandChild(1))
    assert seen == [GrandChild(1)]


# -- wire names ----------------------------------------------------------------


@attrs.frozen
class Named(eventbus.Event):
    __event_name__ = "shop.order_placed"


class Outer:
    @attrs.frozen
    class Inner(eventbus.Event):
        pass


def test_wire_name_uses_event_name_when_set():
    assert eventbus.wire_name(Named) == "shop.order_placed"


def test_wire_name_defaults_to_module_and_qualname():
    assert eventbus.wire_name(Base) == f"{Base.__module__}.Base"
    assert eventbus.wire_name(Outer.Inner) == f"{Outer.__module__}.Outer.Inner"
    assert eventbus.wire_name(PlainEvent) == f"{PlainEvent.__module__}.PlainEvent"


def test_wire_name_of_a_library_class():
    assert eventbus.wire_name(eventbus.Event) == "eventbus.Event"


# -- checkpoints -----------------------------------------------------------------


async def test_emit_without_subscribers_is_a_checkpoint():
    async with open_bus() as bus:
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(1))


async def test_emit_with_only_sync_handlers_is_a_checkpoint():
    async with open_bus() as bus:
        bus.pipe(Base)(lambda event: event)
        bus.listener(Base)(lambda event: None)
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(1))
        bus.hook(Base)(lambda event: None)
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(2))


async def test_emit_with_async_handlers_that_never_yield_is_a_checkpoint():
    async def pipe(event):
        return event

    async def listener(event):
        pass

    async def hook(event):
        pass

    async with open_bus() as bus:
        bus.listener(Base)(listener)
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(1))
        bus.pipe(Base)(pipe)
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(2))
    async with open_bus() as bus:
        bus.pipe(Base)(pipe)
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(3))
        bus.hook(Base)(hook)
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(4))


async def test_emit_with_subscribers_to_other_types_is_a_checkpoint():
    async with open_bus() as bus:
        bus.listener(Other)(lambda event: None)
        with trio.testing.assert_checkpoints():
            await bus.emit(Base(1))


async def test_emit_is_a_cancellation_point():
    async with open_bus() as bus:
        with trio.CancelScope() as cancel_scope:
            cancel_scope.cancel()
            await bus.emit(Base(1))
            pytest.fail("emit did not raise Cancelled")  # pragma: no cover
        assert cancel_scope.cancelled_caught


async def test_checkpoint_cancel_mode_is_a_cancellation_point():
    async with open_bus(checkpoint="cancel") as bus:
        with trio.CancelScope() as cancel_scope:
            cancel_scope.cancel()
            await bus.emit(Base(1))
            pytest.fail("emit did not raise Cancelled")  # pragma: no cover
        assert cancel_scope.cancelled_caught


async def test_checkpoint_cancel_mode_is_not_a_schedule_point():
    ran = []

    async def other_task():
        ran.append("other task")

    async with open_bus(checkpoint="cancel") as bus, trio.open_nursery() as nursery:
        nursery.start_soon(other_task)
        for n in range(10):
            await bus.emit(Base(n))
        # no emit let the other task run
        assert ran == []
    assert ran == ["other task"]


async def test_checkpoint_full_mode_is_a_schedule_point():
    ran = []

    async def other_task():
        ran.append("other task")

    async with open_bus(checkpoint="full") as bus, trio.open_nursery() as nursery:
        nursery.start_soon(other_task)
        # trio may run a batch in either order: two schedule points are enough
        await bus.emit(Base(1))
        await bus.emit(Base(2))
        assert ran == ["other task"]


# -- closed bus ------------------------------------------------------------------


async def test_emit_on_a_closed_bus_raises_bus_closed():
    async with open_bus() as bus:
        assert not bus.closed
    assert bus.closed
    with pytest.raises(eventbus.BusClosed):
        await bus.emit(Base(1))


async def test_emit_soon_on_a_closed_bus_raises_bus_closed():
    async with open_bus() as bus:
        pass
    with pytest.raises(eventbus.BusClosed):
        bus.emit_soon(Base(1))


async def test_root_bus_has_no_name_and_no_parent():
    async with open_bus() as bus:
        assert bus.name is None
        assert bus.parent is None
        assert isinstance(bus, eventbus.Bus)


# -- emit_soon ---------------------------------------------------------------------


async def test_emit_soon_returns_at_once_and_runs_in_the_background():
    seen = []
    async with open_bus() as bus:

        @bus.pipe(Stamped)
        async def stamp(event):
            return attrs.evolve(event, stamps=("piped",))

        @bus.listener(Stamped)
        async def listen(event):
            seen.append(event)

        assert bus.emit_soon(Stamped()) is None
        assert seen == []
        await trio.testing.wait_all_tasks_blocked()
        assert seen == [Stamped(stamps=("piped",))]


async def test_emit_soon_work_finishes_before_the_bus_closes(autojump_clock):
    seen = []
    async with open_bus() as bus:

        @bus.listener(Base)
        async def slow(event):
            await trio.sleep(1)
            seen.append(event)

        bus.emit_soon(Base(1))
        bus.emit_soon(Base(2))
    assert sorted(event.n for event in seen) == [1, 2]


def _stats_for(bus, handler):
    records = [r for r in bus.stats() if r.handler == handler.__qualname__]
    assert len(records) == 1, bus.stats()
    return records[0]


async def test_emit_soon_failures_are_logged_and_counted_never_raised(caplog):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    async with open_bus() as bus:

        @bus.listener(Base)
        async def failing_listener(event):
            raise ValueError("listener exploded")

        bus.emit_soon(Base(1))
        await trio.testing.wait_all_tasks_blocked()
        assert _stats_for(bus, failing_listener).failures == 1
        # the bus keeps working
        bus.emit_soon(Base(2))
        await trio.testing.wait_all_tasks_blocked()
        assert _stats_for(bus, failing_listener).failures == 2

    records = [r for r in caplog.records if r.name.startswith("eventbus")]
    assert records, "emit_soon failure was not logged"
    assert any(r.levelno >= logging.WARNING for r in records)
    assert "failing_listener" in caplog.text
    assert "listener exploded" in caplog.text


async def test_emit_soon_pipe_failure_is_logged_and_counted(caplog):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    async with open_bus() as bus:

        @bus.pipe(Base)
        def broken_pipe(event):
            raise KeyError("pipe exploded")

        bus.emit_soon(Base(1))
        await trio.testing.wait_all_tasks_blocked()
        assert _stats_for(bus, broken_pipe).failures == 1
    assert "broken_pipe" in caplog.text


async def test_emit_soon_rejection_is_not_a_failure():
    async with open_bus() as bus:

        @bus.pipe(Base)
        def refuse(event):
            raise eventbus.Rejected("not today")

        bus.emit_soon(Base(1))
        await trio.testing.wait_all_tasks_blocked()
        record = _stats_for(bus, refuse)
        assert record.rejected == 1
        assert record.failures == 0


async def test_an_emit_after_the_bus_block_exited_is_refused_while_it_drains(autojump_clock):
    # shut-down is "handlers off, hook queues drained": an emit that starts
    # during the drain reaches no handler
    hooked, listened, outcomes = [], [], []
    block_exited = trio.Event()
    async with trio.open_nursery() as nursery:

        async def late_emitter(bus):
            await block_exited.wait()
            await trio.sleep(0.5)  # the bus is draining its hook queue now
            try:
                await bus.emit(Base(100))
            except eventbus.BusClosed:
                outcomes.append("BusClosed")
            else:
                outcomes.append("accepted")

        async with open_bus() as bus:

            @bus.hook(Base)
            async def slow_hook(event):
                await trio.sleep(1)
                hooked.append(event.n)

            bus.listener(Base)(lambda event: listened.append(event.n))
            nursery.start_soon(late_emitter, bus)
            for n in range(3):
                await bus.emit(Base(n))
            block_exited.set()
    assert hooked == [0, 1, 2]
    assert listened == [0, 1, 2]
    assert outcomes == ["BusClosed"]
