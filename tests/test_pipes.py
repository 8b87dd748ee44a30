"""The pipe chain: order, Rejected, PipeError, handler errors, sync/async/thread pipes.

DESIGN sections 2, 4, 8 and 15.
"""

import threading

import attrs
import pytest
import trio.testing

import eventbus


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Order(eventbus.Event):
    trail: tuple[str, ...] = ()


@attrs.frozen
class PriorityOrder(Order):
    pass


class NotAnOrder:
    def __repr__(self) -> str:
        return "NotAnOrder()"


def stamp(name):
    """A sync pipe that appends `name` to the trail."""

    def pipe(event):
        return attrs.evolve(event, trail=(*event.trail, name))

    pipe.__name__ = pipe.__qualname__ = f"stamp_{name}"
    return pipe


def astamp(name):
    """An async pipe that appends `name` to the trail."""

    async def pipe(event):
        await trio.lowlevel.checkpoint()
        return attrs.evolve(event, trail=(*event.trail, name))

    pipe.__name__ = pipe.__qualname__ = f"astamp_{name}"
    return pipe


def stats_for(bus, handler):
    records = [r for r in bus.stats() if r.handler == handler.__qualname__]
    assert len(records) == 1, bus.stats()
    return records[0]


# -- chain order ---------------------------------------------------------------


async def test_pipes_run_in_registration_order_on_equal_order():
    async with open_bus() as bus:
        for name in "abcde":
            bus.pipe(Order)(stamp(name))
        assert (await bus.emit(Order())).trail == tuple("abcde")


async def test_lower_order_runs_first():
    async with open_bus() as bus:
        bus.pipe(Order, order=10)(stamp("ten"))
        bus.pipe(Order, order=-5)(stamp("minus_five"))
        bus.pipe(Order)(stamp("zero"))
        bus.pipe(Order, order=-5)(stamp("minus_five_again"))
        result = await bus.emit(Order())
    assert result.trail == ("minus_five", "minus_five_again", "zero", "ten")


async def test_each_pipe_receives_what_the_previous_returned():
    received = []

    async with open_bus() as bus:

        @bus.pipe(Order, order=0)
        def first(event):
            received.append(("first", event))
            return PriorityOrder(trail=("first",))

        @bus.pipe(Order, order=1)
        async def second(event):
            received.append(("second", event))
            return attrs.evolve(event, trail=(*event.trail, "second"))

        result = await bus.emit(Order())

    assert received == [("first", Order()), ("second", PriorityOrder(trail=("first",)))]
    assert result == PriorityOrder(trail=("first", "second"))


async def test_sync_and_async_pipes_mix_in_one_chain():
    async with open_bus() as bus:
        bus.pipe(Order)(stamp("s1"))
        bus.pipe(Order)(astamp("a1"))
        bus.pipe(Order)(stamp("s2"))
        bus.pipe(Order)(astamp("a2"))
        assert (await bus.emit(Order())).trail == ("s1", "a1", "s2", "a2")


async def test_subscribe_kind_pipe_is_a_pipe():
    async with open_bus() as bus:
        sub = bus.subscribe(Order, stamp("direct"), kind="pipe")
        assert sub.kind == "pipe"
        assert (await bus.emit(Order())).trail == ("direct",)
        sub.cancel()
        assert (await bus.emit(Order())).trail == ()


async def test_thread_pipe_runs_in_a_worker_thread():
    threads = []
    async with open_bus() as bus:

        @bus.pipe(Order, thread=True)
        def in_thread(event):
            threads.append(threading.get_ident())
            return attrs.evolve(event, trail=(*event.trail, "thread"))

        bus.pipe(Order, order=1)(stamp("after"))
        result = await bus.emit(Order())

    assert result.trail == ("thread", "after")
    assert threads
    assert threads[0] != threading.get_ident()


async def test_sync_pipe_without_thread_runs_inline():
    threads = []
    async with open_bus() as bus:

        @bus.pipe(Order)
        def inline(event):
            threads.append(threading.get_ident())
            return event

        await bus.emit(Order())
    assert threads == [threading.get_ident()]


async def test_pipe_stats_count_calls():
    async with open_bus() as bus:
        pipe = stamp("counted")
        bus.pipe(Order)(pipe)
        for _ in range(3):
            await bus.emit(Order())
        record = stats_for(bus, pipe)
        assert record.kind == "pipe"
        assert record.calls == 3
        assert record.failures == 0
        assert record.rejected == 0


# -- Rejected ---------------------------------------------------------------------


async def test_rejected_reaches_the_emitter_with_its_reason():
    later, listened, hooked = [], [], []
    async with open_bus() as bus:
        bus.pipe(Order, order=0)(stamp("before"))

        @bus.pipe(Order, order=1)
        def gatekeeper(event):
            raise eventbus.Rejected("out of stock")

        @bus.pipe(Order, order=2)
        def after(event):
            later.append(event)
            return event

        bus.listener(Order)(listened.append)
        bus.hook(Order)(hooked.append)

        with pytest.raises(eventbus.Rejected) as excinfo:
            await bus.emit(Order())
        await trio.testing.wait_all_tasks_blocked()

        assert excinfo.value.reason == "out of stock"
        assert "out of stock" in str(excinfo.value)
        assert isinstance(excinfo.value, eventbus.EventBusError)
        assert later == listened == hooked == []

        record = stats_for(bus, gatekeeper)
        assert record.rejected == 1
        assert record.failures == 0


async def test_rejected_from_an_async_pipe():
    async with open_bus() as bus:

        @bus.pipe(Order)
        async def refuse(event):
            await trio.lowlevel.checkpoint()
            raise eventbus.Rejected("closed for lunch")

        with pytest.raises(eventbus.Rejected) as excinfo:
            await bus.emit(Order())
        assert excinfo.value.reason == "closed for lunch"
        assert stats_for(bus, refuse).rejected == 1
        assert stats_for(bus, refuse).failures == 0


async def test_rejected_keeps_a_non_string_reason():
    reason = {"code": 409}
    async with open_bus() as bus:

        @bus.pipe(Order)
        def refuse(event):
            raise eventbus.Rejected(reason)

        with pytest.raises(eventbus.Rejected) as excinfo:
            await bus.emit(Order())
    assert excinfo.value.reason is reason


async def test_a_rejection_does_not_stop_later_emits():
    async with open_bus() as bus:

        @bus.pipe(Order)
        def refuse_first(event):
            if not event.trail:
                raise eventbus.Rejected("empty")
            return event

        with pytest.raises(eventbus.Rejected):
            await bus.emit(Order())
        assert await bus.emit(Order(trail=("x",))) == Order(trail=("x",))


# -- PipeError ----------------------------------------------------------------------


async def test_pipe_returning_none_is_a_pipe_error():
    ran_after = []
    async with open_bus() as bus:

        @bus.pipe(Order, order=0, owner="audit")
        def forgot_to_return(event):
            pass

        @bus.pipe(Order, order=1)
        def after(event):
            ran_after.append(event)
            return event

        bus.listener(Order)(ran_after.append)

        with pytest.raises(eventbus.PipeError) as excinfo:
            await bus.emit(Order())

    message = str(excinfo.value)
    assert "forgot_to_return" in message
    assert "None" in message
    assert "audit" in message
    assert isinstance(excinfo.value, eventbus.EventBusError)
    assert ran_after == []


async def test_async_pipe_returning_an_unrelated_type_is_a_pipe_error():
    async with open_bus() as bus:

        @bus.pipe(Order)
        async def returns_garbage(event):
            return NotAnOrder()

        with pytest.raises(eventbus.PipeError) as excinfo:
            await bus.emit(Order())

    message = str(excinfo.value)
    assert "returns_garbage" in message
    assert "NotAnOrder" in message


async def test_pipe_returning_the_base_type_for_a_subclass_event_is_a_pipe_error():
    # the allowed return types are the emitted type and its subclasses
    async with open_bus() as bus:

        @bus.pipe(Order)
        def downgrade(event):
            return eventbus.Event()

        with pytest.raises(eventbus.PipeError) as excinfo:
            await bus.emit(Order())
    assert "downgrade" in str(excinfo.value)


async def test_pipe_error_is_counted_as_a_failure():
    async with open_bus() as bus:

        @bus.pipe(Order)
        def returns_none(event):
            return None

        with pytest.raises(eventbus.PipeError):
            await bus.emit(Order())
        assert stats_for(bus, returns_none).failures == 1


# -- handler errors -----------------------------------------------------------------


async def test_pipe_error_reaches_the_emitter_with_its_type_and_a_note():
    ran_after = []
    async with open_bus() as bus:

        @bus.pipe(Order, order=0, owner="billing")
        def validate(event):
            raise ValueError("amount must be positive")

        @bus.pipe(Order, order=1)
        def after(event):
            ran_after.append(event)
            return event

        bus.listener(Order)(ran_after.append)

        with pytest.raises(ValueError, match="amount must be positive") as excinfo:
            await bus.emit(Order())

        error = excinfo.value
        assert type(error) is ValueError
        notes = getattr(error, "__notes__", [])
        assert any("validate" in note and "billing" in note for note in notes), notes
        assert error.__traceback__ is not None
        assert ran_after == []
        record = stats_for(bus, validate)
        assert record.failures == 1
        assert record.rejected == 0


async def test_async_pipe_error_keeps_its_type_and_gets_a_note():
    class CustomError(Exception):
        pass

    async with open_bus() as bus:

        @bus.pipe(Order)
        async def explode(event):
            await trio.lowlevel.checkpoint()
            raise CustomError("bad")

        with pytest.raises(CustomError) as excinfo:
            await bus.emit(Order())
    notes = getattr(excinfo.value, "__notes__", [])
    assert any("explode" in note for note in notes), notes


async def test_thread_pipe_error_keeps_its_type():
    async with open_bus() as bus:

        @bus.pipe(Order, thread=True)
        def explode_in_thread(event):
            raise LookupError("thread failure")

        with pytest.raises(LookupError, match="thread failure") as excinfo:
            await bus.emit(Order())
    notes = getattr(excinfo.value, "__notes__", [])
    assert any("explode_in_thread" in note for note in notes), notes


async def test_a_failing_pipe_does_not_break_the_bus():
    async with open_bus() as bus:
        calls = []

        @bus.pipe(Order)
        def flaky(event):
            calls.append(event)
            if len(calls) == 1:
                raise RuntimeError("first time only")
            return event

        with pytest.raises(RuntimeError):
            await bus.emit(Order())
        assert await bus.emit(Order(trail=("ok",))) == Order(trail=("ok",))
