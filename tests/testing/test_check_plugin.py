"""check_plugin catches a deliberately broken plugin for every clause, and passes a good one.

Each broken plugin breaks exactly one clause; the test asserts the whole
report: the clause, the plugin, the handler, the problem and the shrunk
event. Examples are few (``FEW``): these plugins break on every event, or
on simple ones that hypothesis tries first.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import attrs
import pytest
import trio
from hypothesis import strategies as st

import eventbus
from eventbus.testing import CLAUSES, check_plugin

FEW = 10


@attrs.frozen
class Ping(eventbus.Event):
    n: int
    tags: list[str] = attrs.Factory(list)


@attrs.frozen
class Pong(eventbus.Event):
    n: int


@attrs.frozen
class LoudPing(Ping):
    volume: int = 11


def report(plugin: object, **kwargs: object) -> str:
    with pytest.raises(AssertionError) as info:
        check_plugin(plugin, max_examples=FEW, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def header(clause: str, cls: type) -> str:
    return (
        f"check_plugin({cls.__qualname__}): the clause {clause!r} is broken: {CLAUSES[clause]}\n"
        f"  plugin:  {cls.name or cls.__name__!r} ({__name__}:{cls.__qualname__})\n"  # type: ignore[attr-defined]
    )


# -- a good plugin ---------------------------------------------------------------------


class GoodPlugin(eventbus.Plugin):
    """Everything a plugin may rightly do, each in one handler."""

    name = "good"

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        self.bus = bus
        self.lock = trio.Lock()
        self.send, self.receive = trio.open_memory_channel[object](1000)
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            yield
            nursery.cancel_scope.cancel()

    @eventbus.pipe(Ping, timeout=2)
    async def stamp(self, event: Ping) -> Ping:
        if event.n < 0:
            raise eventbus.Rejected("negative")
        await trio.sleep(0.5)
        return attrs.evolve(event, n=event.n + 1)

    @eventbus.pipe(Ping)
    def louder(self, event: Ping) -> Ping:
        return LoudPing(event.n, event.tags) if event.n > 100 else event

    @eventbus.pipe(Ping, thread=True, timeout=1)
    def in_a_thread(self, event: Ping) -> Ping:
        return event

    @eventbus.listener(Ping, timeout=1)
    async def shielded_write(self, event: Ping) -> None:
        with trio.CancelScope(shield=True):
            await trio.sleep(0.5)

    @eventbus.listener(Ping)
    async def children(self, event: Ping) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.sleep, 1)
            await trio.sleep(0.5)

    @eventbus.listener(Ping)
    async def own_deadline(self, event: Ping) -> None:
        with trio.move_on_after(0.5):
            await trio.sleep(1)
        await trio.sleep(0.1)

    @eventbus.hook(Ping)
    async def cleans_up(self, event: Ping) -> None:
        try:
            await trio.sleep(1)
        except trio.Cancelled:
            with trio.CancelScope(shield=True):
                await trio.sleep(0.1)
            raise

    @eventbus.hook(Ping)
    async def queue_last(self, event: Ping) -> None:
        await self.send.send(event)  # its last checkpoint cannot be cancelled after the send

    @eventbus.listener(Ping)
    async def emits(self, event: Ping) -> None:
        await self.bus.emit(Pong(event.n))
        self.bus.emit_soon(Pong(-event.n))

    @eventbus.hook(Ping)
    async def hands_off(self, event: Ping) -> None:
        # Work handed to the plugin's own nursery on every call, not only when cancelled.
        self.nursery.start_soon(trio.sleep, 5)
        await trio.lowlevel.checkpoint()

    @eventbus.listener(Ping)
    async def locked(self, event: Ping) -> None:
        async with self.lock:
            await trio.sleep(0.2)

    @eventbus.listener(Pong)
    def plain(self, event: Pong) -> None:
        pass


def test_a_good_plugin_passes() -> None:
    check_plugin(GoodPlugin, max_examples=5)


def test_an_instance_is_checked_too() -> None:
    check_plugin(GoodPlugin(), max_examples=3)


# -- pipe result -----------------------------------------------------------------------------


class ReturnsNone(eventbus.Plugin):
    @eventbus.pipe(Ping)
    async def stamp(self, event: Ping) -> Ping:
        if event.n > 10:
            return None  # type: ignore[return-value]  # the bug under test
        return event


class ReturnsAnotherType(eventbus.Plugin):
    name = "wrong-type"

    @eventbus.pipe(Ping)
    def convert(self, event: Ping) -> Ping:
        return Pong(event.n)  # type: ignore[return-value]  # the bug under test


class RaisesInsteadOfRejecting(eventbus.Plugin):
    @eventbus.pipe(Ping)
    def check(self, event: Ping) -> Ping:
        if event.n < 0:
            raise ValueError("negative")
        return event


def test_pipe_returning_none() -> None:
    assert report(ReturnsNone) == header("pipe result", ReturnsNone) + (
        "  handler: pipe 'ReturnsNone.stamp' on Ping\n"
        "  problem: it returned None, not a Ping (the type of the event it was given, or a "
        "subclass); return the event, e.g. attrs.evolve(event, ...), or raise "
        "eventbus.Rejected(reason)\n"
        "  event:   Ping(n=11, tags=[]) (shrunk by hypothesis)"
    )


def test_pipe_returning_another_type() -> None:
    message = report(ReturnsAnotherType)
    assert message.startswith(header("pipe result", ReturnsAnotherType))
    assert "  handler: pipe 'ReturnsAnotherType.convert' on Ping\n" in message
    assert "  problem: it returned Pong(n=0), not a Ping" in message
    assert message.endswith("  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)")


def test_pipe_raising_instead_of_rejecting() -> None:
    with pytest.raises(AssertionError) as info:
        check_plugin(RaisesInsteadOfRejecting, max_examples=FEW)
    assert str(info.value) == header("pipe result", RaisesInsteadOfRejecting) + (
        "  handler: pipe 'RaisesInsteadOfRejecting.check' on Ping\n"
        "  problem: it raised ValueError: negative; a pipe returns the event to pass on, or "
        "raises eventbus.Rejected(reason) to stop the chain on purpose: anything else reaches "
        "the emitter as a failure\n"
        "  event:   Ping(n=-1, tags=[]) (shrunk by hypothesis)"
    )
    # The pipe's own exception, with its traceback, is the cause.
    assert isinstance(info.value.__cause__, ValueError)


# -- timeout -------------------------------------------------------------------------------------


class ShieldsPastItsTimeout(eventbus.Plugin):
    @eventbus.listener(Ping, timeout=1)
    async def slow(self, event: Ping) -> None:
        with trio.CancelScope(shield=True):
            await trio.sleep(5)


class HangsWithoutTimeout(eventbus.Plugin):
    @eventbus.hook(Ping)
    async def wait(self, event: Ping) -> None:
        await trio.sleep_forever()


class NeverEnds(eventbus.Plugin):
    @eventbus.listener(Ping, timeout=1)
    async def wait(self, event: Ping) -> None:
        with trio.CancelScope(shield=True):
            await trio.sleep_forever()


def test_handler_running_past_its_timeout() -> None:
    assert report(ShieldsPastItsTimeout) == header("timeout", ShieldsPastItsTimeout) + (
        "  handler: listener 'ShieldsPastItsTimeout.slow' on Ping, timeout 1 s\n"
        "  problem: it ran for 5 s of mock time, past its timeout of 1 s: it shields its work "
        "from cancellation or swallows trio.Cancelled\n"
        "  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)"
    )


def test_bus_default_timeouts_apply() -> None:
    message = report(ShieldsPastItsTimeout, config={"listener_timeout": 3})
    # Its own timeout= wins over the bus default (DESIGN section 7).
    assert "past its timeout of 1 s" in message
    check_plugin(HangsWithoutTimeout, max_examples=2, config={"hook_timeout": 1})


def test_handler_hanging_without_timeout() -> None:
    assert report(HangsWithoutTimeout) == header("timeout", HangsWithoutTimeout) + (
        "  handler: hook 'HangsWithoutTimeout.wait' on Ping\n"
        "  problem: it had not finished after 86400 s of mock time (a day) and has no "
        "timeout, so nothing would ever stop it; give it timeout= or make it end\n"
        "  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)"
    )


def test_handler_that_never_ends_is_abandoned() -> None:
    message = report(NeverEnds, hang_timeout=0.2)
    assert message.startswith(header("timeout", NeverEnds))
    assert "  handler: listener 'NeverEnds.wait' on Ping, timeout 1 s\n" in message
    assert (
        "  problem: called (not cancelled): it did not end within 0.2 s of real time (the clock is a "
        "MockClock, so no sleep explains it): it shields a wait that never ends or swallows "
        "every trio.Cancelled. check_plugin gave up on it; its thread is left running\n"
    ) in message
    assert message.endswith(" (the first that failed)")


# -- cancellation -------------------------------------------------------------------------------


class SwallowsCancelled(eventbus.Plugin):
    @eventbus.listener(Ping)
    async def work(self, event: Ping) -> None:
        await trio.sleep(1)
        try:  # noqa: SIM105 - spelled out: the bug under test
            await trio.sleep(1)
        except trio.Cancelled:
            pass  # only the second checkpoint swallows


class ReplacesCancelled(eventbus.Plugin):
    @eventbus.hook(Ping)
    async def work(self, event: Ping) -> None:
        try:
            await trio.sleep(1)
        except BaseException:
            raise RuntimeError("clean-up failed") from None


class LeavesATask(eventbus.Plugin):
    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            yield
            nursery.cancel_scope.cancel()

    @eventbus.listener(Ping)
    async def work(self, event: Ping) -> None:
        try:
            await trio.sleep(1)
        except trio.Cancelled:
            self.nursery.start_soon(trio.sleep, 10, name="finish-later")
            raise


def test_handler_swallowing_cancelled_at_a_later_checkpoint() -> None:
    assert report(SwallowsCancelled) == header("cancellation", SwallowsCancelled) + (
        "  handler: listener 'SwallowsCancelled.work' on Ping\n"
        "  problem: cancelled at its checkpoint 2 of 2, it returned "
        "normally although trio delivered trio.Cancelled to it: it swallowed the cancellation "
        "(an except clause catching trio.Cancelled or BaseException without re-raising, or a "
        "return or break in a finally block)\n"
        "  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)"
    )


def test_handler_replacing_cancelled() -> None:
    assert report(ReplacesCancelled) == header("cancellation", ReplacesCancelled) + (
        "  handler: hook 'ReplacesCancelled.work' on Ping\n"
        "  problem: cancelled before its first checkpoint, it raised RuntimeError: clean-up "
        "failed instead of letting trio.Cancelled propagate\n"
        "  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)"
    )


def test_handler_leaving_a_task() -> None:
    assert report(LeavesATask) == header("cancellation", LeavesATask) + (
        "  handler: listener 'LeavesATask.work' on Ping\n"
        "  problem: cancelled before its first checkpoint, it left 1 task ('finish-later') "
        "running; start tasks in a nursery the handler opens, so that they end (or are "
        "cancelled) with it\n"
        "  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)"
    )


# -- lifespan -------------------------------------------------------------------------------------


class Port:
    taken = False


class StartsOnlyOnce(eventbus.Plugin):
    name = "once"

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        if Port.taken:
            raise OSError("address already in use")
        Port.taken = True  # the bug under test: never released
        yield


class FailsToStop(eventbus.Plugin):
    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        yield
        raise RuntimeError("flush failed")


class OutlivesItsLifespan(eventbus.Plugin):
    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        trio.lowlevel.spawn_system_task(trio.sleep_forever, name="watchdog")
        yield


class SlowToStart(eventbus.Plugin):
    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        await trio.sleep(60)  # past start_timeout (30 s), instantly on the mock clock
        yield


def test_lifespan_that_starts_only_once() -> None:
    Port.taken = False
    assert report(StartsOnlyOnce) == header("lifespan", StartsOnlyOnce) + (
        "  problem: the second time, the bus reported: plugin 'once' failed to start: "
        "entering its lifespan raised OSError: address already in use"
    )


def test_lifespan_failing_to_stop() -> None:
    message = report(FailsToStop)
    assert message == header("lifespan", FailsToStop) + (
        "  problem: the first time, the bus reported: plugin 'FailsToStop' failed to stop: "
        "exiting its lifespan raised RuntimeError: flush failed"
    )


def test_lifespan_leaving_a_task() -> None:
    assert report(OutlivesItsLifespan) == header("lifespan", OutlivesItsLifespan) + (
        "  problem: after the first stop, it left 1 task ('watchdog') running; start tasks in "
        "a nursery that the lifespan opens, so that they end when it exits"
    )


def test_lifespan_past_start_timeout() -> None:
    message = report(SlowToStart)
    assert message.startswith(header("lifespan", SlowToStart))
    assert "did not finish starting within start_timeout=30s" in message


# -- mutation -------------------------------------------------------------------------------------


class AppendsToTheEvent(eventbus.Plugin):
    @eventbus.listener(Ping)
    def note(self, event: Ping) -> None:
        event.tags.append("seen")


class AssignsToTheEvent(eventbus.Plugin):
    @eventbus.hook(Ping)
    async def note(self, event: Ping) -> None:
        event.n = 0  # type: ignore[misc]  # the bug under test


def test_listener_mutating_the_event() -> None:
    assert report(AppendsToTheEvent) == header("mutation", AppendsToTheEvent) + (
        "  handler: listener 'AppendsToTheEvent.note' on Ping\n"
        "  problem: it changed the event it was given, which every other handler shares: "
        "after the call it was Ping(n=0, tags=['seen']); make a new one with "
        "attrs.evolve(event, ...)\n"
        "  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)"
    )


def test_hook_assigning_to_a_frozen_event() -> None:
    assert report(AssignsToTheEvent) == header("mutation", AssignsToTheEvent) + (
        "  handler: hook 'AssignsToTheEvent.note' on Ping\n"
        "  problem: it tried to change the event (FrozenInstanceError: can't set attribute); "
        "events are values: make a new one with attrs.evolve(event, ...)\n"
        "  event:   Ping(n=0, tags=[]) (shrunk by hypothesis)"
    )


# -- arguments ------------------------------------------------------------------------------------


@attrs.frozen
class LimitOptions:
    limit: int = 10


class UsesOptions(eventbus.Plugin):
    Options = LimitOptions

    def __init__(self, options: LimitOptions) -> None:
        super().__init__(options)
        self.limit = options.limit

    @eventbus.pipe(Ping)
    def cap(self, event: Ping) -> Ping:
        if event.n > self.limit:
            raise eventbus.Rejected("too big")
        return event


class SubscribesToObject(eventbus.Plugin):
    @eventbus.listener(object)
    def everything(self, event: object) -> None:
        pass


def test_options_and_events_strategies() -> None:
    check_plugin(UsesOptions, {"limit": 5}, max_examples=FEW)
    check_plugin(UsesOptions, LimitOptions(limit=0), max_examples=FEW)
    check_plugin(ReturnsNone, max_examples=FEW, events={Ping: st.builds(Ping, st.integers(0, 10))})
    check_plugin(ReturnsNone, max_examples=FEW, events=st.builds(Ping, st.integers(0, 10)))


def test_a_type_events_cannot_build_needs_a_strategy() -> None:
    with pytest.raises(TypeError) as info:
        check_plugin(SubscribesToObject, max_examples=FEW)
    assert "events() builds attrs classes" in str(info.value)
    assert (
        "check_plugin: the listener 'SubscribesToObject.everything' on object subscribes to "
        "object; give check_plugin(..., events={object: <a strategy>})"
    ) in info.value.__notes__
    check_plugin(
        SubscribesToObject, max_examples=FEW, events={object: st.builds(Pong, st.integers())}
    )


def test_bad_options_are_not_a_contract_failure() -> None:
    with pytest.raises(eventbus.PluginError) as info:
        check_plugin(UsesOptions, {"limit": "x"}, max_examples=FEW)
    assert info.value.phase == "config"
