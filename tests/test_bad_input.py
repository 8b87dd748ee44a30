"""Bad input: a clear error at the call site, nothing half-registered.

DESIGN sections 2, 3 and 8 (messages name the problem).
"""

import math

import attrs
import pytest
import trio

import eventbus


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Ping(eventbus.Event):
    n: int = 0


async def handler(event):
    return event


def sync_handler(event):
    return event


async def agen_handler(event):
    yield event


def snapshot(bus):
    return bus.stats()


async def assert_nothing_registered(bus, before):
    assert bus.stats() == before
    # and an emit reaches nothing new
    assert await bus.emit(Ping(1)) == Ping(1)


# -- emitting -----------------------------------------------------------------------------


async def test_emitting_a_class_instead_of_an_instance():
    async with open_bus() as bus:
        with pytest.raises(TypeError) as excinfo:
            await bus.emit(Ping)
        assert "Ping" in str(excinfo.value)
        with pytest.raises(TypeError) as excinfo:
            bus.emit_soon(Ping)
        assert "Ping" in str(excinfo.value)


async def test_emit_with_a_bad_timeout():
    async with open_bus() as bus:
        with pytest.raises(ValueError, match="timeout") as excinfo:
            await bus.emit(Ping(), timeout=-1)
        assert "-1" in str(excinfo.value)
        with pytest.raises(ValueError, match=r"(?i)nan"):
            await bus.emit(Ping(), timeout=math.nan)


# -- subscribing ---------------------------------------------------------------------------


KINDS = ["pipe", "listener", "hook"]


@pytest.mark.parametrize("kind", KINDS)
async def test_subscribing_a_non_callable(kind):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(TypeError, match="callable") as excinfo:
            bus.subscribe(Ping, 42, kind=kind)
        assert "42" in str(excinfo.value)
        with pytest.raises(TypeError, match="callable"):
            getattr(bus, kind)(Ping)("not a function")
        await assert_nothing_registered(bus, before)


@pytest.mark.parametrize("kind", KINDS)
async def test_subscribing_an_async_generator_function(kind):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(TypeError, match=r"(?i)generator") as excinfo:
            bus.subscribe(Ping, agen_handler, kind=kind)
        assert "agen_handler" in str(excinfo.value)
        with pytest.raises(TypeError, match=r"(?i)generator"):
            getattr(bus, kind)(Ping)(agen_handler)
        await assert_nothing_registered(bus, before)


class Unprintable:
    """An object whose repr fails: a half-built plugin, a proxy."""

    def __repr__(self):
        raise RuntimeError("no repr yet")

    def on_ping(self, event):
        return event

    async def broken(self, event):
        yield event


async def test_a_bound_method_of_an_object_without_a_repr_subscribes():
    owner = Unprintable()
    async with open_bus() as bus:
        bus.pipe(Ping)(owner.on_ping)
        assert await bus.emit(Ping(1)) == Ping(1)
        # and a mistake is still named, by the method's qualified name
        with pytest.raises(TypeError, match=r"Unprintable\.broken"):
            bus.pipe(Ping)(owner.broken)


@pytest.mark.parametrize("event_type", ["Ping", Ping(), 3, None])
async def test_subscribing_to_something_that_is_not_a_class(event_type):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(TypeError):
            bus.subscribe(event_type, handler, kind="listener")
        with pytest.raises(TypeError):
            bus.listener(event_type)(handler)
        await assert_nothing_registered(bus, before)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("timeout", [-1, -0.5, math.nan, -math.inf])
async def test_negative_or_nan_subscription_timeouts(kind, timeout):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="timeout") as excinfo:
            bus.subscribe(Ping, handler, kind=kind, timeout=timeout)
        assert str(timeout) in str(excinfo.value) or repr(timeout) in str(excinfo.value)
        with pytest.raises(ValueError, match="timeout"):
            getattr(bus, kind)(Ping, timeout=timeout)(handler)
        await assert_nothing_registered(bus, before)


@pytest.mark.parametrize("capacity", [0, -1])
async def test_hook_capacity_must_be_positive(capacity):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="capacity") as excinfo:
            bus.subscribe(Ping, handler, kind="hook", capacity=capacity)
        assert str(capacity) in str(excinfo.value)
        with pytest.raises(ValueError, match="capacity"):
            bus.hook(Ping, capacity=capacity)(handler)
        await assert_nothing_registered(bus, before)


@pytest.mark.parametrize("concurrency", [0, -2])
async def test_hook_concurrency_must_be_positive(concurrency):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="concurrency"):
            bus.hook(Ping, concurrency=concurrency)(handler)
        await assert_nothing_registered(bus, before)


async def test_unknown_overflow():
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="overflow") as excinfo:
            bus.hook(Ping, overflow="block")(handler)
        message = str(excinfo.value)
        assert "block" in message
        assert "wait" in message
        assert "drop" in message
        with pytest.raises(ValueError, match="overflow"):
            bus.subscribe(Ping, handler, kind="hook", overflow="newest")
        await assert_nothing_registered(bus, before)


async def test_unknown_kind():
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="kind") as excinfo:
            bus.subscribe(Ping, handler, kind="sink")
        message = str(excinfo.value)
        assert "sink" in message
        for kind in KINDS:
            assert kind in message
        await assert_nothing_registered(bus, before)


@pytest.mark.parametrize(
    "options",
    [{"capacity": 10}, {"concurrency": 2}, {"overflow": "drop"}],
    ids=["capacity", "concurrency", "overflow"],
)
@pytest.mark.parametrize("kind", ["pipe", "listener"])
async def test_hook_options_on_other_kinds(kind, options):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises((TypeError, ValueError)) as excinfo:
            bus.subscribe(Ping, handler, kind=kind, **options)
        message = str(excinfo.value)
        assert next(iter(options)) in message
        assert kind in message
        await assert_nothing_registered(bus, before)


async def test_thread_with_an_async_handler():
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises((TypeError, ValueError), match="thread"):
            bus.pipe(Ping, thread=True)(handler)
        await assert_nothing_registered(bus, before)


async def test_order_must_be_an_int():
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(TypeError, match="order"):
            bus.pipe(Ping, order="first")(sync_handler)
        await assert_nothing_registered(bus, before)


async def test_unknown_option():
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(TypeError):
            bus.subscribe(Ping, handler, kind="listener", priority=3)
        await assert_nothing_registered(bus, before)


# -- streams, wait_for, scopes, open_bus ---------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -3])
async def test_stream_capacity_must_be_positive(capacity):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="capacity"):
            async with bus.stream(Ping, capacity=capacity):
                pass  # pragma: no cover
        await assert_nothing_registered(bus, before)


async def test_stream_unknown_overflow():
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="overflow"):
            async with bus.stream(Ping, overflow="sometimes"):
                pass  # pragma: no cover
        await assert_nothing_registered(bus, before)


@pytest.mark.parametrize("timeout", [-1, math.nan])
async def test_wait_for_bad_timeout(timeout):
    async with open_bus() as bus:
        before = snapshot(bus)
        with pytest.raises(ValueError, match="timeout"):
            await bus.wait_for(Ping, timeout=timeout)
        await assert_nothing_registered(bus, before)


@pytest.mark.parametrize("timeout", [-1, math.nan])
async def test_scope_bad_timeout(timeout):
    async with open_bus() as bus:
        with pytest.raises(ValueError, match="timeout"):
            async with bus.scope("s", timeout=timeout):
                pass  # pragma: no cover
        assert await bus.emit(Ping(1)) == Ping(1)


@pytest.mark.parametrize(
    "keyword",
    [
        "pipe_timeout",
        "listener_timeout",
        "hook_timeout",
        "start_timeout",
        "stop_timeout",
        "drain_timeout",
    ],
)
@pytest.mark.parametrize("value", [-1, math.nan])
async def test_open_bus_bad_timeouts(keyword, value):
    with pytest.raises(ValueError, match=keyword):
        async with open_bus(**{keyword: value}):
            pass  # pragma: no cover


async def test_open_bus_bad_hook_capacity():
    with pytest.raises(ValueError, match="hook_capacity"):
        async with open_bus(hook_capacity=0):
            pass  # pragma: no cover


async def test_open_bus_unknown_checkpoint_mode():
    with pytest.raises(ValueError, match="checkpoint") as excinfo:
        async with open_bus(checkpoint="sometimes"):
            pass  # pragma: no cover
    message = str(excinfo.value)
    assert "sometimes" in message
    assert "full" in message
    assert "cancel" in message


async def test_the_bus_still_works_after_bad_input():
    seen = []
    async with open_bus() as bus:
        bus.listener(Ping)(seen.append)
        for bad in (
            lambda: bus.subscribe(Ping, 42, kind="listener"),
            lambda: bus.hook(Ping, capacity=0)(handler),
            lambda: bus.subscribe(Ping, handler, kind="sink"),
        ):
            with pytest.raises((TypeError, ValueError)):
                bad()
        await bus.emit(Ping(1))
        await trio.lowlevel.checkpoint()
    assert seen == [Ping(1)]
