"""The fast paths of emit: every shape of chain, on the emits that are timed
for the stats and on those that are not, in both checkpoint modes.

The first emit of an event type is one of the timed ones (one in
``SAMPLE_EVERY``), so each test here emits more than that to reach the flat
loops too. DESIGN sections 2, 3 and 10.
"""

import contextlib
import time

import attrs
import pytest
import trio
import trio.testing

import eventbus
from eventbus import _dispatch

EMITS = 3 * _dispatch.SAMPLE_EVERY + 5

MODES = ("full", "cancel")


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Tick(eventbus.Event):
    n: int = 0


@attrs.frozen
class Tock(Tick):
    pass


@attrs.frozen
class Other(eventbus.Event):
    pass


def passing(kind):
    """A pipe of `kind` ("async", "sync", "thread" or "limited") that returns its event."""
    if kind in ("async", "limited"):

        async def passes(event):
            return event

    else:

        def passes(event):
            return event

    return passes


def subscribe(bus, kind, handler, **options):
    if kind == "thread":
        options["thread"] = True
    if kind == "limited":
        options["timeout"] = 10
    return bus.subscribe(Tick, handler, kind="pipe", **options)


CHAINS = {
    "async": ("async", "async", "async"),
    "sync": ("sync", "sync", "sync"),
    "mixed": ("async", "sync", "async"),
    "guarded": ("limited", "sync", "thread"),
}


def full_checkpoint(mode):
    """``assert_checkpoints()`` in the full mode (a schedule point too)."""
    return trio.testing.assert_checkpoints() if mode == "full" else contextlib.nullcontext()


def calls(bus):
    return [(r.calls, r.rejected, r.failures) for r in bus.stats() if r.kind == "pipe"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chain", CHAINS)
async def test_pipe_counts_are_exact_on_every_kind_of_chain(mode, chain):
    async def gate(event):
        if event.n % 7 == 0:
            raise eventbus.Rejected("sevens")
        if event.n % 11 == 0:
            raise ValueError("elevens")
        return attrs.evolve(event, n=event.n + 1000)

    def gate_sync(event):
        if event.n % 7 == 0:
            raise eventbus.Rejected("sevens")
        if event.n % 11 == 0:
            raise ValueError("elevens")
        return attrs.evolve(event, n=event.n + 1000)

    kinds = CHAINS[chain]
    async with open_bus(checkpoint=mode) as bus:
        subscribe(bus, kinds[0], passing(kinds[0]))
        subscribe(bus, kinds[1], gate if kinds[1] in ("async", "limited") else gate_sync)
        subscribe(bus, kinds[2], passing(kinds[2]))
        outcomes = {"ok": 0, "rejected": 0, "failed": 0}
        for n in range(1, EMITS + 1):
            try:
                result = await bus.emit(Tick(n))
            except eventbus.Rejected:
                outcomes["rejected"] += 1
            except ValueError:
                outcomes["failed"] += 1
            else:
                assert result == Tick(n + 1000)
                outcomes["ok"] += 1
            if n == EMITS // 2:
                # stats() in the middle folds the counts so far; counting goes on
                assert calls(bus)[0] == (n, 0, 0)
        assert calls(bus) == [
            (EMITS, 0, 0),
            (EMITS, outcomes["rejected"], outcomes["failed"]),
            (outcomes["ok"], 0, 0),
        ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chain", ["async", "sync"])
async def test_a_bad_return_is_a_pipe_error_on_every_emit(mode, chain):
    async def bad_async(event):
        return None if event.n % 2 else Other()

    def bad_sync(event):
        return None if event.n % 2 else Other()

    async with open_bus(checkpoint=mode) as bus:
        subscribe(bus, chain, passing(chain))
        subscribe(bus, chain, bad_async if chain == "async" else bad_sync)
        for n in range(EMITS):
            with pytest.raises(eventbus.PipeError):
                await bus.emit(Tick(n))
        assert calls(bus) == [(EMITS, 0, 0), (EMITS, 0, EMITS)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chain", ["async", "sync"])
async def test_a_pipe_may_return_a_subclass_or_the_same_event(mode, chain):
    async def to_tock(event):
        return Tock(event.n)

    def to_tock_sync(event):
        return Tock(event.n)

    async with open_bus(checkpoint=mode) as bus:
        subscribe(bus, chain, to_tock if chain == "async" else to_tock_sync)
        subscribe(bus, chain, passing(chain))
        for n in range(EMITS):
            assert await bus.emit(Tick(n)) == Tock(n)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chain", CHAINS)
async def test_every_emit_is_a_cancellation_point_and_runs_no_handler_when_cancelled(mode, chain):
    ran = []

    async def records(event):
        ran.append(event)
        return event

    def records_sync(event):
        ran.append(event)
        return event

    async with open_bus(checkpoint=mode) as bus:
        for kind in CHAINS[chain]:
            subscribe(bus, kind, records if kind in ("async", "limited") else records_sync)
        for n in range(EMITS):
            # in the cancel mode an emit is only a cancellation point: below
            with full_checkpoint(mode):
                await bus.emit(Tick(n))
            with trio.CancelScope() as scope:
                scope.cancel()
                await bus.emit(Tick(-1))
            assert scope.cancelled_caught
        assert Tick(-1) not in ran
        assert len(ran) == 3 * EMITS
        # a cancelled emit called no pipe, and is not counted as a call
        assert calls(bus) == [(EMITS, 0, 0)] * 3


async def test_the_cancel_mode_never_schedules_with_plain_pipes():
    ran = []

    async def other_task():
        ran.append("other task")

    async with open_bus(checkpoint="cancel") as bus, trio.open_nursery() as nursery:
        bus.pipe(Tick)(passing("sync"))
        nursery.start_soon(other_task)
        for n in range(EMITS):
            await bus.emit(Tick(n))
        assert ran == []
    assert ran == ["other task"]


async def test_the_full_mode_schedules_on_every_emit_with_plain_pipes():
    ran = []

    async def counter():
        while True:
            ran.append(None)
            await trio.lowlevel.checkpoint()

    async with open_bus() as bus, trio.open_nursery() as nursery:
        bus.pipe(Tick)(passing("sync"))
        nursery.start_soon(counter)
        await trio.lowlevel.checkpoint()
        before = len(ran)
        for n in range(EMITS):
            await bus.emit(Tick(n))
        # trio may run a batch in either order: about one step per emit
        assert len(ran) - before >= EMITS - 1
        nursery.cancel_scope.cancel()


def test_the_fast_cancellation_test_is_in_use_with_this_trio():
    # If trio changes checkpoint_if_cancelled, emits fall back to awaiting it
    # (correct, but slower): this test says when that happened.
    assert _dispatch._cancel_pending is _dispatch._cancel_due


@pytest.mark.parametrize("fast_test", [True, False])
@pytest.mark.parametrize("mode", MODES)
async def test_emits_on_a_scope_from_its_own_task_are_cancellation_points(
    mode, fast_test, monkeypatch
):
    if not fast_test:
        # what runs when trio's checkpoint_if_cancelled is not the one we know
        monkeypatch.setattr(_dispatch, "_cancel_pending", _dispatch._always)
    async with open_bus(checkpoint=mode) as bus, bus.scope("s") as scope:
        bus.pipe(Tick)(passing("sync"))
        scope.pipe(Tick)(passing("async"))
        for node in (bus, scope):
            for n in range(EMITS):
                with full_checkpoint(mode):
                    assert await node.emit(Tick(n)) == Tick(n)
                with full_checkpoint(mode):
                    assert await node.emit(Other()) == Other()
                with trio.CancelScope() as cancel_scope:
                    cancel_scope.cancel()
                    await node.emit(Tick(-1) if n % 2 else Other())
                assert cancel_scope.cancelled_caught
        assert calls(bus) == [(2 * EMITS, 0, 0), (EMITS, 0, 0)]


@pytest.mark.parametrize("mode", MODES)
async def test_pipe_seconds_are_scaled_from_the_timed_emits(mode):
    def slow(event):
        time.sleep(0.002)
        return event

    async with open_bus(checkpoint=mode) as bus:
        bus.pipe(Tick)(slow)
        for n in range(EMITS):
            await bus.emit(Tick(n))
        (record,) = bus.stats()
    assert record.calls == EMITS
    # every call sleeps 2 ms; the estimate is scaled from a few timed calls
    assert 0.002 * EMITS * 0.9 <= record.seconds < 60


async def test_a_stats_read_during_an_emit_keeps_the_counts_right():
    seen = []

    async with open_bus() as bus:

        @bus.pipe(Tick)
        def first(event):
            seen.append([r.calls for r in bus.stats()])
            if event.n == 3:
                raise ValueError("three")
            return event

        bus.pipe(Tick)(passing("sync"))
        for n in range(EMITS):
            with contextlib.suppress(ValueError):
                await bus.emit(Tick(n))
        assert calls(bus) == [(EMITS, 0, 1), (EMITS - 1, 0, 0)]
    # each read counts the emit in progress as having entered the chain
    assert [s[0] for s in seen] == list(range(1, EMITS + 1))


# -- the emit of a batch reader (Bus._emit_in_batch, used by the Redis bridge) --


async def test_an_emit_in_a_batch_skips_only_the_schedule_point():
    ran = []
    hooked = []

    async def other_task():
        ran.append("other task")

    async with open_bus() as bus, trio.open_nursery() as nursery:
        bus.pipe(Tick)(passing("sync"))
        bus.hook(Tick)(hooked.append)
        bus.listener(Tick)(lambda event: None)
        nursery.start_soon(other_task)
        for n in range(EMITS):
            assert await bus._emit_in_batch(Tick(n)) == Tick(n)
        # no schedule point: neither the other task nor the hook's worker ran
        assert ran == []
        assert hooked == []
        await trio.lowlevel.checkpoint()  # the batch's own schedule point
        await trio.testing.wait_all_tasks_blocked()
        assert ran == ["other task"]
        assert hooked == [Tick(n) for n in range(EMITS)]


async def test_an_emit_in_a_batch_is_cancellable_and_runs_no_handler_when_cancelled():
    ran = []
    async with open_bus() as bus:
        bus.pipe(Tick)(lambda event: ran.append(event) or event)
        with trio.CancelScope() as scope:
            scope.cancel()
            await bus._emit_in_batch(Tick(-1))
        assert scope.cancelled_caught
        assert ran == []


@pytest.mark.parametrize("mode", MODES)
async def test_pipe_counts_add_up_over_emits_in_and_out_of_batches(mode):
    def gate(event):
        if event.n % 5 == 0:
            raise eventbus.Rejected("fives")
        return event

    async with open_bus(checkpoint=mode) as bus:
        bus.pipe(Tick)(passing("sync"))
        bus.pipe(Tick)(gate)
        bus.pipe(Tick)(passing("sync"))
        rejected = 0
        for n in range(1, EMITS + 1):
            emit = bus._emit_in_batch if n % 3 else bus.emit
            try:
                await emit(Tick(n))
            except eventbus.Rejected:
                rejected += 1
            if n == EMITS // 2:
                assert calls(bus)[0] == (n, 0, 0)
        assert calls(bus) == [(EMITS, 0, 0), (EMITS, rejected, 0), (EMITS - rejected, 0, 0)]


async def test_an_emit_in_a_batch_with_an_instrument_is_a_plain_emit():
    seen = []

    class Recorder(eventbus.Instrument):
        def emit_finished(self, bus, event, error):
            seen.append(event)

    async with open_bus() as bus:
        bus.add_instrument(Recorder())
        bus.pipe(Tick)(passing("sync"))
        with trio.testing.assert_checkpoints():
            await bus._emit_in_batch(Tick(1))
        assert seen == [Tick(1)]
