"""bus.stats() records and instruments.

DESIGN sections 10 and 15.
"""

import contextlib
import logging

import attrs
import pytest
import trio
import trio.testing
from recorder import Recorder

import eventbus


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Ping(eventbus.Event):
    n: int = 0


STATS_FIELDS = {
    "scope",
    "owner",
    "handler",
    "kind",
    "event_type",
    "calls",
    "rejected",
    "failures",
    "timeouts",
    "drops",
    "lost",
    "seconds",
    "queued",
}


def by_handler(bus):
    return {r.handler: r for r in bus.stats()}


# -- stats ---------------------------------------------------------------------------------


async def test_stats_records_have_the_documented_fields():
    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: None)
        (record,) = bus.stats()
    assert isinstance(record, eventbus.SubscriptionStats)
    assert attrs.has(type(record))
    assert {field.name for field in attrs.fields(type(record))} == STATS_FIELDS
    with pytest.raises(AttributeError):
        record.calls = 5


async def test_stats_without_subscriptions_is_empty():
    async with open_bus() as bus:
        assert bus.stats() == ()


async def test_one_record_per_subscription_with_its_description():
    async def audit_pipe(event):
        return event

    def count_listener(event):
        pass

    async def mail_hook(event):
        pass

    async with open_bus() as bus:
        bus.pipe(Ping, owner="audit")(audit_pipe)
        bus.listener(eventbus.Event)(count_listener)
        bus.hook(Ping, owner="mailer")(mail_hook)
        async with bus.stream(Ping):
            records = bus.stats()
            assert len(records) == 4
            stream = [r for r in records if r.kind == "stream"]
            assert len(stream) == 1
            assert stream[0].event_type is Ping
        records = by_handler(bus)

    assert set(records) == {
        audit_pipe.__qualname__,
        count_listener.__qualname__,
        mail_hook.__qualname__,
    }
    pipe = records[audit_pipe.__qualname__]
    assert (pipe.kind, pipe.event_type, pipe.owner, pipe.scope) == ("pipe", Ping, "audit", None)
    listener = records[count_listener.__qualname__]
    assert (listener.kind, listener.event_type, listener.owner) == (
        "listener",
        eventbus.Event,
        None,
    )
    hook = records[mail_hook.__qualname__]
    assert (hook.kind, hook.owner) == ("hook", "mailer")
    for record in records.values():
        assert (record.calls, record.rejected, record.failures, record.timeouts) == (0, 0, 0, 0)
        assert (record.drops, record.lost, record.queued) == (0, 0, 0)
        assert record.seconds == 0


async def test_the_same_handler_subscribed_twice_has_two_records():
    def twice(event):
        pass

    async with open_bus() as bus:
        bus.listener(Ping)(twice)
        bus.listener(Ping, order=1)(twice)
        await bus.emit(Ping())
        records = [r for r in bus.stats() if r.handler == twice.__qualname__]
    assert [r.calls for r in records] == [1, 1]


async def test_stats_count_calls_failures_rejections_and_time(autojump_clock):
    async with open_bus() as bus:

        @bus.pipe(Ping)
        async def gate(event):
            await trio.sleep(1)
            if event.n < 0:
                raise eventbus.Rejected("negative")
            if event.n == 13:
                raise ValueError("unlucky")
            return event

        @bus.listener(Ping)
        async def listen(event):
            await trio.sleep(2)

        for n in (1, 2, -1, 13, 3):
            with contextlib.suppress(eventbus.Rejected, ValueError):
                await bus.emit(Ping(n))

        records = by_handler(bus)

    pipe = records[gate.__qualname__]
    assert (pipe.calls, pipe.rejected, pipe.failures, pipe.timeouts) == (5, 1, 1, 0)
    listener = records[listen.__qualname__]
    assert (listener.calls, listener.failures) == (3, 0)
    assert isinstance(pipe.seconds, float)
    assert pipe.seconds >= 0
    assert listener.seconds >= 0


async def test_stats_cover_live_scopes_and_name_them():
    def root_listener(event):
        pass

    def scope_listener(event):
        pass

    def inner_listener(event):
        pass

    async with open_bus() as bus:
        bus.listener(Ping)(root_listener)
        async with bus.scope("request") as scope:
            scope.listener(Ping)(scope_listener)
            async with scope.scope("inner") as inner:
                inner.listener(Ping)(inner_listener)
                everything = {r.handler: r.scope for r in bus.stats()}
                assert everything == {
                    root_listener.__qualname__: None,
                    scope_listener.__qualname__: "request",
                    inner_listener.__qualname__: "inner",
                }
                # a scope covers its own subscriptions and its live scopes', not its parent's
                assert {r.handler for r in scope.stats()} == {
                    scope_listener.__qualname__,
                    inner_listener.__qualname__,
                }
                assert {r.handler for r in inner.stats()} == {inner_listener.__qualname__}
            assert {r.handler for r in bus.stats()} == {
                root_listener.__qualname__,
                scope_listener.__qualname__,
            }
        assert {r.handler for r in bus.stats()} == {root_listener.__qualname__}


async def test_stats_count_calls_of_ancestor_handlers_run_through_scopes():
    def root_pipe(event):
        return event

    async def root_async_pipe(event):
        return event

    def root_listener(event):
        pass

    def root_hook(event):
        pass

    handlers = (root_pipe, root_async_pipe, root_listener, root_hook)
    async with open_bus() as bus:
        bus.pipe(Ping)(root_pipe)
        bus.pipe(Ping)(root_async_pipe)
        bus.listener(Ping)(root_listener)
        bus.hook(Ping)(root_hook)
        async with bus.scope("s") as scope:
            scope.pipe(Ping)(lambda event: event)
            for expected in range(1, 21):
                await scope.emit(Ping())
                await trio.testing.wait_all_tasks_blocked()
                calls = by_handler(bus)
                assert [calls[h.__qualname__].calls for h in handlers] == [expected] * 4
                # the scope's stats do not cover the root's subscriptions
                assert len(scope.stats()) == 1
        await bus.emit(Ping())
        await trio.testing.wait_all_tasks_blocked()
        calls = by_handler(bus)
        assert [calls[h.__qualname__].calls for h in handlers] == [21] * 4


async def test_cancelled_subscription_leaves_stats():
    async with open_bus() as bus:
        sub = bus.subscribe(Ping, lambda event: None, kind="listener")
        assert len(bus.stats()) == 1
        sub.cancel()
        assert bus.stats() == ()


# -- instruments ---------------------------------------------------------------------------


async def test_instruments_see_emits_and_handlers():
    recorder = Recorder()
    async with open_bus() as bus:

        def pipe(event):
            return attrs.evolve(event, n=event.n + 1)

        def listener(event):
            pass

        def hook(event):
            pass

        bus.pipe(Ping)(pipe)
        bus.listener(Ping)(listener)
        bus.hook(Ping)(hook)
        bus.add_instrument(recorder)
        await bus.emit(Ping(1))
        await trio.testing.wait_all_tasks_blocked()

    emits = [call for call in recorder.calls if call[0].startswith("emit")]
    assert emits[0][:3] == ("emit_started", bus, Ping(1))
    assert emits[1][0] == "emit_finished"
    assert emits[1][1] is bus
    assert emits[1][3] is None
    assert len(emits) == 2
    started = {(call[1], call[2]) for call in recorder.calls if call[0] == "handler_started"}
    assert started == {(pipe, Ping(1)), (listener, Ping(2)), (hook, Ping(2))}
    finished = {(call[1], call[2]) for call in recorder.calls if call[0] == "handler_finished"}
    assert finished == started
    assert "handler_failed" not in recorder.names()
    # per handler, started comes before finished
    for handler in (pipe, listener, hook):
        order = [c[0] for c in recorder.calls if c[0].startswith("handler") and c[1] is handler]
        assert order == ["handler_started", "handler_finished"]


async def test_instruments_see_failures():
    recorder = Recorder()
    async with open_bus() as bus:
        bus.add_instrument(recorder)

        @bus.listener(Ping)
        def failing(event):
            raise ValueError("listener broke")

        with pytest.raises(eventbus.ListenerError) as excinfo:
            await bus.emit(Ping())

    failed = [call for call in recorder.calls if call[0] == "handler_failed"]
    assert len(failed) == 1
    _, handler, event, error = failed[0]
    assert handler is failing
    assert event == Ping()
    assert isinstance(error, ValueError)
    (finished,) = [call for call in recorder.calls if call[0] == "emit_finished"]
    assert finished[3] is excinfo.value


async def test_emit_finished_gets_the_pipe_error():
    recorder = Recorder()
    async with open_bus() as bus:
        bus.add_instrument(recorder)

        @bus.pipe(Ping)
        def broken(event):
            raise KeyError("pipe broke")

        with pytest.raises(KeyError) as excinfo:
            await bus.emit(Ping())
    (finished,) = [call for call in recorder.calls if call[0] == "emit_finished"]
    assert finished[3] is excinfo.value


async def test_an_instrument_may_define_any_subset():
    seen = []

    class OnlyStarts:
        def emit_started(self, bus, event):
            seen.append(event)

    async with open_bus() as bus:
        bus.add_instrument(OnlyStarts())
        bus.listener(Ping)(lambda event: None)
        await bus.emit(Ping(1))
    assert seen == [Ping(1)]


async def test_instrument_subclass_overriding_some_methods():
    finished = []

    class OnlyFinished(eventbus.Instrument):
        def emit_finished(self, bus, event, error):
            finished.append((event, error))

    async with open_bus() as bus:
        bus.add_instrument(OnlyFinished())
        bus.pipe(Ping)(lambda event: event)
        bus.listener(Ping)(lambda event: None)
        assert await bus.emit(Ping(1)) == Ping(1)
    assert len(finished) == 1
    assert finished[0][1] is None


async def test_remove_instrument_stops_the_calls():
    recorder = Recorder()
    async with open_bus() as bus:
        bus.add_instrument(recorder)
        await bus.emit(Ping(1))
        bus.remove_instrument(recorder)
        await bus.emit(Ping(2))
    assert [call[2] for call in recorder.calls if call[0] == "emit_started"] == [Ping(1)]


async def test_a_raising_instrument_is_removed_and_logged(caplog):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    good = Recorder()

    class Broken:
        calls = 0

        def emit_started(self, bus, event):
            Broken.calls += 1
            raise RuntimeError("instrument broke")

    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: None)
        bus.add_instrument(Broken())
        bus.add_instrument(good)
        assert await bus.emit(Ping(1)) == Ping(1)
        assert await bus.emit(Ping(2)) == Ping(2)

    assert Broken.calls == 1
    assert [call[2] for call in good.calls if call[0] == "emit_started"] == [Ping(1), Ping(2)]
    records = [
        r for r in caplog.records if r.name.startswith("eventbus") and r.levelno >= logging.WARNING
    ]
    assert records
    assert "instrument broke" in caplog.text
    assert "Broken" in caplog.text


async def test_a_raising_handler_instrument_is_removed():
    class BrokenHandlerInstrument:
        calls = 0

        def handler_started(self, subscription, event):
            BrokenHandlerInstrument.calls += 1
            raise RuntimeError("instrument broke")

    seen = []
    async with open_bus() as bus:
        bus.listener(Ping)(seen.append)
        bus.add_instrument(BrokenHandlerInstrument())
        await bus.emit(Ping(1))
        await bus.emit(Ping(2))
    assert BrokenHandlerInstrument.calls == 1
    assert seen == [Ping(1), Ping(2)]


async def test_instruments_on_the_root_see_emits_on_scopes():
    recorder = Recorder()
    async with open_bus() as bus:
        bus.add_instrument(recorder)
        async with bus.scope("s") as scope:
            await scope.emit(Ping(1))
    started = [call for call in recorder.calls if call[0] == "emit_started"]
    assert len(started) == 1
    assert started[0][1] is scope
