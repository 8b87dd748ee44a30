"""Instruments on the instrumented fast path: one instrument is called
directly, several in turn; a raising one is removed wherever it raises, and
the bus goes back to its fast path once none is left. DESIGN section 10.
"""

import logging

import attrs
import pytest
import trio
import trio.testing
from recorder import Recorder

import eventbus

EMITS = 20

METHODS = (
    "emit_started",
    "emit_finished",
    "handler_started",
    "handler_finished",
    "handler_failed",
    "hook_dropped",
)

MODES = ("full", "cancel")


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Tick(eventbus.Event):
    n: int = 0


def bump(event):
    return attrs.evolve(event, n=event.n + 1)


async def abump(event):
    return attrs.evolve(event, n=event.n + 1)


def expected_chain(bus, n, handlers):
    calls = [("emit_started", bus, Tick(n))]
    for i, handler in enumerate(handlers):
        calls.append(("handler_started", handler, Tick(n + i)))
        calls.append(("handler_finished", handler, Tick(n + i)))
    calls.append(("emit_finished", bus, Tick(n), None))
    return calls


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("count", [1, 3])
async def test_every_instrument_sees_every_emit_of_a_chain_in_order(mode, count):
    recorders = [Recorder() for _ in range(count)]
    async with open_bus(checkpoint=mode) as bus:
        handlers = [bus.pipe(Tick)(bump), bus.pipe(Tick)(abump)]
        for recorder in recorders:
            bus.add_instrument(recorder)
        for n in range(EMITS):
            assert await bus.emit(Tick(n)) == Tick(n + 2)
        records = {r.handler: r for r in bus.stats()}
    expected = [call for n in range(EMITS) for call in expected_chain(bus, n, handlers)]
    for recorder in recorders:
        assert recorder.calls == expected
    # every call was timed while instruments were added
    assert [records[h.__qualname__].calls for h in handlers] == [EMITS, EMITS]


@pytest.mark.parametrize("mode", MODES)
async def test_instruments_see_a_failing_pipe_and_the_emit_error(mode):
    recorder = Recorder()

    def fails(event):
        raise ValueError("pipe broke")

    async with open_bus(checkpoint=mode) as bus:
        bus.pipe(Tick)(bump)
        bus.pipe(Tick)(fails)
        bus.add_instrument(recorder)
        for n in range(EMITS):
            with pytest.raises(ValueError, match="pipe broke") as excinfo:
                await bus.emit(Tick(n))
            *_, failed, finished = recorder.calls
            assert failed == ("handler_failed", fails, Tick(n + 1), excinfo.value)
            assert finished == ("emit_finished", bus, Tick(n), excinfo.value)
        (_, failing) = bus.stats()
    assert (failing.calls, failing.failures) == (EMITS, EMITS)


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("method", METHODS[:4])
async def test_an_instrument_that_raises_anywhere_is_removed_and_logged(method, count, caplog):
    caplog.set_level(logging.ERROR, logger="eventbus")
    good = [Recorder() for _ in range(count - 1)]

    class Broken(Recorder):
        raised = 0

    def raises(self, *args):
        Broken.raised += 1
        raise RuntimeError(f"broke in {method}")

    setattr(Broken, method, raises)
    async with open_bus() as bus:
        handler = bus.pipe(Tick)(bump)
        broken = Broken()
        bus.add_instrument(broken)
        for recorder in good:
            bus.add_instrument(recorder)
        for n in range(EMITS):
            assert await bus.emit(Tick(n)) == Tick(n + 1)
    assert Broken.raised == 1
    assert f"broke in {method}" in caplog.text
    assert "Broken" in caplog.text
    for recorder in good:
        assert recorder.calls == [
            call for n in range(EMITS) for call in expected_chain(bus, n, [handler])
        ]


async def test_the_bus_takes_its_fast_path_again_when_the_last_instrument_is_gone():
    class Broken:
        def handler_finished(self, subscription, event, seconds):
            raise RuntimeError("broke")

    recorder = Recorder()
    async with open_bus() as bus, bus.scope("s") as scope:
        bus.pipe(Tick)(bump)
        assert [bus._fast, scope._fast] == [True, True]
        bus.add_instrument(recorder)
        scope.add_instrument(Broken())
        assert [bus._fast, scope._fast] == [False, False]
        await scope.emit(Tick())
        assert not bus._fast
        bus.remove_instrument(recorder)
        assert [bus._fast, scope._fast] == [True, True]
        bus.add_instrument(Broken())
        assert not bus._fast
        await bus.emit(Tick())
        assert [bus._fast, scope._fast] == [True, True]
        with pytest.raises(ValueError, match="was not added"):
            bus.remove_instrument(recorder)


async def test_removing_an_instrument_during_an_emit_takes_effect_at_once():
    recorder = Recorder()
    async with open_bus() as bus:

        @bus.pipe(Tick)
        def removes(event):
            if event.n == 0:
                bus.remove_instrument(recorder)
            return event

        later = bus.pipe(Tick)(bump)
        bus.add_instrument(recorder)
        await bus.emit(Tick(0))
        await bus.emit(Tick(1))
    assert recorder.calls == [
        ("emit_started", bus, Tick()),
        ("handler_started", removes, Tick()),
    ]
    assert later is bump


async def test_an_instrument_that_removes_itself_and_raises_is_still_logged(caplog):
    caplog.set_level(logging.ERROR, logger="eventbus")

    class Quitter:
        def handler_started(self, subscription, event):
            subscription.bus.remove_instrument(self)
            raise RuntimeError("quitting")

    async with open_bus() as bus:
        bus.pipe(Tick)(bump)
        bus.add_instrument(Quitter())
        assert await bus.emit(Tick()) == Tick(1)
        assert bus._fast
    assert "quitting" in caplog.text


async def test_an_instrumented_emit_is_one_checkpoint_and_a_cancellation_point():
    async with open_bus() as bus:
        bus.pipe(Tick)(bump)
        bus.add_instrument(Recorder())
        for n in range(EMITS):
            with trio.testing.assert_checkpoints():
                await bus.emit(Tick(n))
        with trio.CancelScope() as scope:
            scope.cancel()
            await bus.emit(Tick())
        assert scope.cancelled_caught


async def test_instruments_see_listeners_and_hooks_through_the_fan_out():
    recorder = Recorder()
    second = Recorder()
    async with open_bus() as bus:
        listener = bus.listener(Tick)(lambda event: None)
        hook = bus.hook(Tick)(lambda event: None)
        bus.add_instrument(recorder)
        bus.add_instrument(second)
        await bus.emit(Tick())
        await trio.testing.wait_all_tasks_blocked()
    for rec in (recorder, second):
        started = {c[1] for c in rec.calls if c[0] == "handler_started"}
        finished = {c[1] for c in rec.calls if c[0] == "handler_finished"}
        assert started == finished == {listener, hook}
