"""The pytest plugin, loaded through its pytest11 entry point in a pytester run.

pytester runs pytest in process on a temporary directory: the plugin comes
from the installed ``eventbus`` entry point, as in a plugin author's project.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import attrs
import pytest

import eventbus
from eventbus.testing import Recorder

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A plugin author's project: trio_mode on, as pytest-trio recommends."""
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(
        shop_events="""
        import attrs
        import eventbus

        @attrs.frozen
        class Placed(eventbus.Event):
            id: int
            total: int = 0

        @attrs.frozen
        class Shipped(eventbus.Event):
            id: int
        """
    )
    return pytester


def test_the_fixtures_come_from_the_entry_point(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_eb_fixtures="""
        import trio
        import eventbus
        import eventbus.testing._pytest_plugin
        from shop_events import Placed, Shipped

        def test_registered_under_its_entry_point_name(request):
            plugin = request.config.pluginmanager.get_plugin("eventbus")
            assert plugin is eventbus.testing._pytest_plugin

        async def test_bus_and_recorder(bus, recorder):
            assert isinstance(bus, eventbus.Bus)
            assert bus.plugins == ()  # autoload off
            recorder.subscribe(Placed, Shipped)
            bus.pipe(Placed)(lambda e: Placed(e.id, total=10))
            await bus.emit(Placed(1))
            await bus.emit(Shipped(1))
            assert recorder.events == [Placed(1, total=10), Shipped(1)]
            assert recorder.of(Shipped) == [Shipped(1)]
            recorder.assert_seen(Shipped(1), Placed(1, total=10))
            recorder.assert_seen_in_order(Placed, Shipped(1))

        async def test_timeouts_on_the_autojump_clock(bus, autojump_clock):
            async def slow(event):
                await trio.sleep(60)
            bus.listener(Placed, timeout=5)(slow)
            start = trio.current_time()
            try:
                await bus.emit(Placed(1))
            except eventbus.ListenerError as group:
                assert isinstance(group.exceptions[0], eventbus.HandlerTimeout)
            assert trio.current_time() - start == 5
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_eventbus_config_configures_the_bus_fixture(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import pytest

        @pytest.fixture
        def eventbus_config():
            return {"listener_timeout": 5, "autoload": True}
        """
    )
    project.makepyfile(
        test_eb_config="""
        async def test_configured(bus):
            assert bus.settings.listener_timeout == 5
            assert bus.plugins == ()  # autoload stays off whatever the config says
        """
    )
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_failed_assertion_shows_a_readable_diff(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_eb_fails="""
        from shop_events import Placed, Shipped

        async def test_missing(bus, recorder):
            recorder.subscribe(Placed)
            await bus.emit(Placed(1, total=10))
            await bus.emit(Placed(2))
            recorder.assert_seen_in_order(Placed(2), Placed(1, total=5), Shipped(1))
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    # pytest-trio reports a trio test's failure inside an exception group.
    expected = """
    | AssertionError: recorder.assert_seen_in_order: 2 of 3 expected events were not seen in this order
    | expected:
    |   [1] Placed(id=2, total=0)
    |   MISSING Placed(id=1, total=5) (after [1])
    |       nearest: [0] Placed(id=1, total=10)
    |         total: expected 5, seen 10
    |   MISSING Shipped(id=1) (after [1])
    |       (the recorder does not record Shipped: subscribe to it)
    | seen (2 events; recording Placed):
    |   [0] Placed(id=1, total=10)
    |   [1] Placed(id=2, total=0)
    """
    assert textwrap.indent(textwrap.dedent(expected), "    ") in result.stdout.str()


def test_the_plugin_is_inert_until_used() -> None:
    # Loading it defines no hooks and imports neither hypothesis nor the checks.
    code = textwrap.dedent(
        """
        import sys
        import eventbus.testing._pytest_plugin as plugin
        hooks = [name for name in vars(plugin) if name.startswith("pytest_")]
        heavy = [m for m in ("hypothesis", "eventbus.testing._check") if m in sys.modules]
        print(hooks, heavy)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[] []"


# -- the Recorder itself, on a bus of our own ----------------------------------------------


@attrs.frozen
class Base(eventbus.Event):
    n: int


@attrs.frozen
class Child(Base):
    extra: str = ""


@attrs.frozen
class Sibling(Base):
    pass


async def test_recorder_records_each_event_once() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        recorder = Recorder(bus)
        recorder.subscribe(Child)
        recorder.subscribe(Base, Child)  # Base covers Child: still one subscription
        await bus.emit(Child(1))
        await bus.emit(Base(2))
        assert recorder.events == [Child(1), Base(2)]
        assert len(recorder) == 2
        assert list(recorder) == recorder.events
        assert recorder.of(Child) == [Child(1)]
        assert "Base: 2 events" in repr(recorder)
        recorder.clear()
        recorder.stop()
        await bus.emit(Base(3))
        assert recorder.events == []
        with pytest.raises(TypeError, match="takes event classes"):
            recorder.subscribe(Base(1))  # type: ignore[arg-type]


async def test_recorder_assert_seen_matches_each_event_once() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        recorder = Recorder(bus)
        with pytest.raises(AssertionError) as info:
            recorder.assert_seen(Base(1))
        assert str(info.value).endswith(
            "seen (0 events; recording no type):\n"
            "  nothing: call recorder.subscribe(EventType) first"
        )
        recorder.subscribe(Base)
        await bus.emit(Base(1))
        await bus.emit(Child(2))
        recorder.assert_seen(Child, Base(1))
        recorder.assert_seen_in_order(Base(1), Base)
        with pytest.raises(AssertionError) as info:
            recorder.assert_seen(Base(1), Base(1))
        assert str(info.value).splitlines()[:5] == [
            "recorder.assert_seen: 1 of 2 expected events was not seen",
            "expected:",
            "  [0] Base(n=1)",
            "  MISSING Base(n=1)",
            "      nearest: [0] Base(n=1)",
        ]
        with pytest.raises(AssertionError, match=r"MISSING any Child \(after \[1\]\)"):
            recorder.assert_seen_in_order(Child, Child)
        with pytest.raises(AssertionError, match=r"\(no Sibling was seen\)"):
            recorder.assert_seen(Sibling(9))
