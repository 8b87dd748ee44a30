import pytest
import trio
from greeter import Greet, Greeted, GreeterOptions, GreeterPlugin

import eventbus
from eventbus.testing import Recorder, plugin_harness


async def greet_all(bus: eventbus.Bus, names: list[str]) -> None:
    """Application code under test: it emits."""
    for name in names:
        await bus.emit(Greet(name))


async def test_greet_all(bus, recorder):
    recorder.subscribe(Greet)
    await greet_all(bus, ["Ada", "Grace"])
    assert recorder.events == [Greet("Ada"), Greet("Grace")]
    recorder.assert_seen_in_order(Greet("Ada"), Greet("Grace"))


async def test_a_slow_listener_times_out(bus, autojump_clock):
    async def slow(event: Greet) -> None:
        await trio.sleep(60)

    bus.listener(Greet, timeout=5)(slow)
    with pytest.RaisesGroup(eventbus.HandlerTimeout):  # a ListenerError of one
        await bus.emit(Greet("Ada"))  # 5 s on the mock clock, instant in reality
    assert trio.current_time() == 5


async def test_a_plugin_on_the_bus_fixture(bus, recorder, autojump_clock):
    recorder.subscribe(Greeted)
    await bus.add_plugin(GreeterPlugin(GreeterOptions(greeting="Hey")))
    await bus.emit(Greet("Grace"))
    recorder.assert_seen(Greeted("Grace", "Hey, Grace!"))


async def test_a_recorder_on_a_harness(autojump_clock):
    async with plugin_harness(GreeterPlugin) as h:
        recorder = Recorder(h.bus)
        recorder.subscribe(Greeted)
        await h.emit(Greet("Ada"))
        recorder.assert_seen(Greeted("Ada", "Hello, Ada!"))
