import pytest
import trio
from greeter import Greet, Greeted, GreeterOptions, GreeterPlugin

import eventbus
from eventbus.testing import plugin_harness


async def test_tidies_the_name_and_replies(autojump_clock):
    async with plugin_harness(GreeterPlugin, {"greeting": "Hi"}) as h:
        # emit returns the event as the plugin's pipes left it...
        assert await h.emit(Greet("  Ada ")) == Greet("Ada")
        # ...and h.emitted is what the plugin emitted (not the harness's own emits).
        assert h.emitted == [Greeted("Ada", "Hi, Ada!")]


async def test_rejects_blank_names(autojump_clock):
    async with plugin_harness(GreeterPlugin(GreeterOptions())) as h:
        with pytest.raises(eventbus.Rejected, match="nobody to greet"):
            await h.emit(Greet("   "))
        assert h.emitted == []


async def test_signs_the_guest_book(autojump_clock):
    async with plugin_harness(GreeterPlugin) as h:
        await h.emit(Greet("Ada"))
        assert h.plugin.guest_book == []  # the hook runs in the background
        await trio.sleep(1)  # on the mock clock: no real time passes
        assert h.plugin.guest_book == ["Ada"]
