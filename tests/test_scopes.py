"""Scoped sub-buses: encapsulation, merged order, cleanup, cancellation, timeouts.

DESIGN sections 5, 7 and 15.
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
    trail: tuple[str, ...] = ()


def stamp(name):
    def pipe(event):
        return attrs.evolve(event, trail=(*event.trail, name))

    pipe.__name__ = pipe.__qualname__ = f"stamp_{name}"
    return pipe


def handlers_in(bus):
    return sorted(r.handler for r in bus.stats())


# -- encapsulation ------------------------------------------------------------------


async def test_scope_is_a_bus_with_a_name_and_a_parent():
    async with open_bus() as bus, bus.scope("request-42") as scope:
        assert isinstance(scope, eventbus.Bus)
        assert scope.name == "request-42"
        assert scope.parent is bus
        assert not scope.closed
        async with scope.scope("inner") as inner:
            assert inner.parent is scope
            assert inner.name == "inner"


async def test_encapsulation_both_ways():
    root_seen, scope_seen = [], []
    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: root_seen.append(event.n))
        async with bus.scope("s") as scope:
            scope.listener(Ping)(lambda event: scope_seen.append(event.n))
            await scope.emit(Ping(1))  # runs the scope's and the root's
            await bus.emit(Ping(2))  # does not reach the scope's
    assert root_seen == [1, 2]
    assert scope_seen == [1]


async def test_sibling_scopes_do_not_see_each_other():
    seen = []
    async with open_bus() as bus, bus.scope("a") as a, bus.scope("b") as b:
        a.listener(Ping)(lambda event: seen.append(("a", event.n)))
        b.listener(Ping)(lambda event: seen.append(("b", event.n)))
        await a.emit(Ping(1))
        await b.emit(Ping(2))
    assert seen == [("a", 1), ("b", 2)]


async def test_descendants_see_every_ancestor():
    seen = []
    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: seen.append("root"))
        async with bus.scope("child") as child:
            child.listener(Ping)(lambda event: seen.append("child"))
            async with child.scope("grandchild") as grandchild:
                grandchild.listener(Ping)(lambda event: seen.append("grandchild"))
                await grandchild.emit(Ping())
                assert sorted(seen) == ["child", "grandchild", "root"]
                seen.clear()
                await child.emit(Ping())
                assert sorted(seen) == ["child", "root"]


async def test_every_kind_is_encapsulated():
    seen = []
    async with open_bus() as bus, bus.scope("s") as scope:
        scope.pipe(Ping)(stamp("scope_pipe"))
        scope.hook(Ping)(lambda event: seen.append("scope_hook"))
        assert (await bus.emit(Ping())).trail == ()
        await trio.testing.wait_all_tasks_blocked()
        assert seen == []
        assert (await scope.emit(Ping())).trail == ("scope_pipe",)
        await trio.testing.wait_all_tasks_blocked()
        assert seen == ["scope_hook"]


# -- merged order ----------------------------------------------------------------------


async def test_ancestors_run_first_on_equal_order():
    async with open_bus() as bus, bus.scope("s") as scope:
        scope.pipe(Ping)(stamp("scope"))  # registered first
        bus.pipe(Ping)(stamp("root"))
        async with scope.scope("inner") as inner:
            inner.pipe(Ping)(stamp("inner"))
            scope.pipe(Ping)(stamp("scope_late"))
            bus.pipe(Ping)(stamp("root_late"))
            result = await inner.emit(Ping())
    assert result.trail == ("root", "root_late", "scope", "scope_late", "inner")


async def test_order_beats_depth_in_the_merged_chain():
    async with open_bus() as bus, bus.scope("s") as scope:
        bus.pipe(Ping, order=5)(stamp("root5"))
        scope.pipe(Ping, order=-1)(stamp("scope-1"))
        bus.pipe(Ping, order=0)(stamp("root0"))
        scope.pipe(Ping, order=9)(stamp("scope9"))
        assert (await scope.emit(Ping())).trail == ("scope-1", "root0", "root5", "scope9")
        assert (await bus.emit(Ping())).trail == ("root0", "root5")


async def test_before_after_work_across_scopes():
    async with open_bus() as bus, bus.scope("s") as scope:
        bus.pipe(Ping, owner="storage", order=0)(stamp("storage"))
        scope.pipe(Ping, owner="audit", order=10, before=("storage",))(stamp("audit"))
        assert (await scope.emit(Ping())).trail == ("audit", "storage")


# -- cleanup ---------------------------------------------------------------------------


async def test_scope_exit_removes_its_subscriptions_and_keeps_the_parents():
    root_seen = []
    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: root_seen.append(event.n))
        before = handlers_in(bus)
        async with bus.scope("s") as scope:
            scope.listener(Ping)(lambda event: None)
            scope.pipe(Ping)(stamp("scope"))
            scope.hook(Ping)(lambda event: None)
            assert len(bus.stats()) == len(before) + 3
        assert scope.closed
        assert handlers_in(bus) == before
        assert not bus.closed
        await bus.emit(Ping(1))
        with pytest.raises(eventbus.BusClosed):
            await scope.emit(Ping(2))
        with pytest.raises(eventbus.BusClosed):
            scope.emit_soon(Ping(3))
    assert root_seen == [1]


async def test_scope_exit_drains_its_hook_queues(autojump_clock):
    seen = []
    async with open_bus() as bus:
        async with bus.scope("s") as scope:

            @scope.hook(Ping)
            async def slow_hook(event):
                await trio.sleep(1)
                seen.append(event.n)

            for n in range(3):
                await scope.emit(Ping(n))
            start = trio.current_time()
        assert seen == [0, 1, 2]
        assert trio.current_time() - start == pytest.approx(3)


async def test_scope_exit_drains_emit_soon_work(autojump_clock):
    seen = []
    async with open_bus() as bus:
        async with bus.scope("s") as scope:

            @scope.listener(Ping)
            async def slow_listener(event):
                await trio.sleep(1)
                seen.append(event.n)

            scope.emit_soon(Ping(1))
        assert seen == [1]


async def test_scope_exit_with_hooks_past_drain_timeout_is_bounded(autojump_clock):
    cancelled = []
    async with open_bus(drain_timeout=3) as bus:
        async with bus.scope("s") as scope:

            @scope.hook(Ping)
            async def endless_hook(event):
                try:
                    await trio.sleep_forever()
                finally:
                    cancelled.append(event.n)

            await scope.emit(Ping(1))
            await scope.emit(Ping(2))
            start = trio.current_time()
        assert trio.current_time() - start == pytest.approx(3)
        assert cancelled == [1]
        # the parent is unaffected
        assert await bus.emit(Ping(3)) == Ping(3)


# -- cancellation -----------------------------------------------------------------------


async def test_scope_cancel_from_outside_cancels_its_work(autojump_clock):
    hook_started, hook_cancelled = trio.Event(), trio.Event()
    root_seen = []
    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: root_seen.append(event.n))

        async def run_scope(task_status=trio.TASK_STATUS_IGNORED):
            async with bus.scope("job") as scope:

                @scope.hook(Ping)
                async def endless_hook(event):
                    hook_started.set()
                    try:
                        await trio.sleep_forever()
                    finally:
                        hook_cancelled.set()

                task_status.started(scope)
                await scope.emit(Ping(1))
                await hook_cancelled.wait()

        async with trio.open_nursery() as nursery:
            scope = await nursery.start(run_scope)
            await hook_started.wait()
            with trio.fail_after(1):  # a cancel, not a drain
                scope.cancel()
                await hook_cancelled.wait()

        assert await bus.emit(Ping(2)) == Ping(2)
    assert root_seen == [1, 2]


async def test_cancelling_a_parent_scope_cancels_its_child_scopes(autojump_clock):
    hook_started, hook_cancelled = trio.Event(), trio.Event()
    async with open_bus() as bus:

        async def run_scopes(task_status=trio.TASK_STATUS_IGNORED):
            async with bus.scope("parent") as parent, parent.scope("child") as child:

                @child.hook(Ping)
                async def endless_hook(event):
                    hook_started.set()
                    try:
                        await trio.sleep_forever()
                    finally:
                        hook_cancelled.set()

                task_status.started(parent)
                await child.emit(Ping(1))
                await hook_cancelled.wait()

        async with trio.open_nursery() as nursery:
            parent = await nursery.start(run_scopes)
            await hook_started.wait()
            with trio.fail_after(1):
                parent.cancel()
                await hook_cancelled.wait()
        assert await bus.emit(Ping(2)) == Ping(2)


async def test_outer_cancellation_cancels_a_scope_promptly(autojump_clock):
    hook_started = trio.Event()
    cancelled = []
    async with open_bus() as bus:
        with trio.CancelScope() as cancel_scope:
            async with bus.scope("s") as scope:

                @scope.hook(Ping)
                async def endless_hook(event):
                    hook_started.set()
                    try:
                        await trio.sleep_forever()
                    finally:
                        cancelled.append(event.n)

                await scope.emit(Ping(1))
                await hook_started.wait()
                start = trio.current_time()
                cancel_scope.cancel()
                await trio.sleep_forever()
        assert cancel_scope.cancelled_caught
        # cancelled, not drained for drain_timeout
        assert trio.current_time() - start < 1
        assert cancelled == [1]
        assert scope.closed
        assert await bus.emit(Ping(2)) == Ping(2)


async def test_emit_on_a_closing_scope_from_another_task_gets_bus_closed(autojump_clock):
    started = trio.Event()
    outcomes, cancelled = [], []
    async with open_bus() as bus:

        async def emitter(scope):
            try:
                await scope.emit(Ping(1))
            except eventbus.BusClosed as exc:
                outcomes.append(exc)
            else:  # pragma: no cover
                outcomes.append("returned normally")

        with trio.fail_after(60):
            async with trio.open_nursery() as nursery, bus.scope("s") as scope:

                @scope.listener(Ping)
                async def stuck_listener(event):
                    started.set()
                    try:
                        await trio.sleep_forever()
                    finally:
                        cancelled.append(event.n)

                nursery.start_soon(emitter, scope)
                await started.wait()
                # the scope is closed; the emitter task finishes
    assert len(outcomes) == 1
    assert isinstance(outcomes[0], eventbus.BusClosed)
    assert cancelled == [1]


async def test_emit_on_a_closing_scope_cancels_ancestor_handlers_too(autojump_clock):
    started = trio.Event()
    outcomes, cancelled = [], []
    async with open_bus() as bus:

        @bus.pipe(Ping)
        async def stuck_root_pipe(event):
            started.set()
            try:
                await trio.sleep_forever()
            finally:
                cancelled.append(event.n)

        async def emitter(scope):
            with pytest.raises(eventbus.BusClosed):
                await scope.emit(Ping(1))
            outcomes.append("BusClosed")

        with trio.fail_after(60):
            async with trio.open_nursery() as nursery, bus.scope("s") as scope:
                nursery.start_soon(emitter, scope)
                await started.wait()
    assert outcomes == ["BusClosed"]
    assert cancelled == [1]


async def test_waiter_on_a_full_hook_queue_carries_on_when_the_subscription_goes_away(
    autojump_clock,
):
    gate = trio.Event()
    root_seen, emitted = [], []
    async with open_bus() as bus:
        bus.listener(Ping)(lambda event: root_seen.append(event.n))
        async with bus.scope("s") as scope:

            async def gated_hook(event):
                await gate.wait()

            hook_sub = scope.subscribe(Ping, gated_hook, kind="hook", capacity=1)

            async def emitter():
                for n in range(4):
                    await scope.emit(Ping(n))
                    emitted.append(n)

            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(emitter)
                    await trio.testing.wait_all_tasks_blocked()
                    assert len(emitted) < 4  # blocked on the full queue
                    hook_sub.cancel()
                # the emitter carried on without an error
            assert emitted == [0, 1, 2, 3]
            assert root_seen == [0, 1, 2, 3]
            gate.set()


# -- timeouts ------------------------------------------------------------------------------


async def test_scope_timeout_is_the_default_handler_timeout_inside_it(autojump_clock):
    async with open_bus() as bus, bus.scope("s", timeout=1) as scope:

        @scope.listener(Ping)
        async def slow_listener(event):
            await trio.sleep(5)

        start = trio.current_time()
        with pytest.raises(eventbus.ListenerError) as excinfo:
            await scope.emit(Ping())
        assert trio.current_time() - start == pytest.approx(1)
        assert [type(e) for e in excinfo.value.exceptions] == [eventbus.HandlerTimeout]


async def test_scope_timeout_applies_to_ancestor_handlers_run_by_its_emits(autojump_clock):
    async with open_bus() as bus:

        @bus.pipe(Ping)
        async def slow_root_pipe(event):
            await trio.sleep(5)
            return event

        async with bus.scope("s", timeout=1) as scope:
            start = trio.current_time()
            with pytest.raises(eventbus.HandlerTimeout):
                await scope.emit(Ping())
            assert trio.current_time() - start == pytest.approx(1)

            # the same handler run by an emit on the root has no limit
            start = trio.current_time()
            assert await bus.emit(Ping(1)) == Ping(1)
            assert trio.current_time() - start == pytest.approx(5)


async def test_scope_timeout_applies_inside_child_scopes(autojump_clock):
    async with (
        open_bus() as bus,
        bus.scope("outer", timeout=1) as outer,
        outer.scope("inner") as inner,
    ):

        @inner.pipe(Ping)
        async def slow_pipe(event):
            await trio.sleep(5)
            return event

        with pytest.raises(eventbus.HandlerTimeout):
            await inner.emit(Ping())


async def test_a_subscription_timeout_wins_over_the_scope_default(autojump_clock):
    async with open_bus() as bus, bus.scope("s", timeout=1) as scope:

        @scope.pipe(Ping, timeout=10)
        async def patient_pipe(event):
            await trio.sleep(5)
            return event

        assert await scope.emit(Ping(1)) == Ping(1)


async def test_a_closed_scope_refuses_subscriptions_streams_and_child_scopes():
    async with open_bus() as bus:
        async with bus.scope("s") as scope:
            pass
        with pytest.raises(eventbus.BusClosed):
            scope.listener(Ping)(lambda event: None)
        with pytest.raises(eventbus.BusClosed):
            scope.subscribe(Ping, lambda event: None, kind="hook")
        with pytest.raises(eventbus.BusClosed):
            await scope.wait_for(Ping, timeout=1)
        with pytest.raises(eventbus.BusClosed):
            async with scope.stream(Ping):
                pass  # pragma: no cover
        with pytest.raises(eventbus.BusClosed):
            async with scope.scope("child"):
                pass  # pragma: no cover
        assert bus.stats() == ()


async def test_an_emit_after_the_scope_block_exited_is_refused_while_it_drains(autojump_clock):
    # "A scope lives for its async with block. On exit its subscriptions go
    # away, its hook queues drain": the drain is for what was queued before
    hooked, listened, outcomes = [], [], []
    block_exited = trio.Event()
    async with open_bus() as bus, trio.open_nursery() as nursery:

        async def late_emitter(scope):
            await block_exited.wait()
            await trio.sleep(0.5)  # the scope is draining its hook queue now
            try:
                await scope.emit(Ping(100))
            except eventbus.BusClosed:
                outcomes.append("BusClosed")
            else:
                outcomes.append("accepted")

        async with bus.scope("s") as scope:

            @scope.hook(Ping)
            async def slow_hook(event):
                await trio.sleep(1)
                hooked.append(event.n)

            scope.listener(Ping)(lambda event: listened.append(event.n))
            nursery.start_soon(late_emitter, scope)
            for n in range(3):
                await scope.emit(Ping(n))
            block_exited.set()
    assert hooked == [0, 1, 2]
    assert listened == [0, 1, 2]
    assert outcomes == ["BusClosed"]
