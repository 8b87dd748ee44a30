"""The plugin lifecycle through open_bus (DESIGN sections 6, 9 and 15).

Installed plugins are real dist-infos on ``sys.path`` (see ``distinfo.py``);
plugins given in code are instances. Timeouts run on ``autojump_clock``.
"""

from __future__ import annotations

import contextlib
import logging

import attrs
import pytest
import trio
import trio.testing
from distinfo import site_fixture, write_dist  # noqa: F401 - the `site` fixture

import eventbus
from eventbus import ConfigError, PluginError
from eventbus._config import BusConfig
from eventbus._lifecycle import PluginInfo, add_plugin, plan_plugins
from eventbus._plugins import Plugin, hook, listener, pipe


@attrs.frozen
class Placed(eventbus.Event):
    trail: tuple[str, ...] = ()


@attrs.frozen
class Shipped(eventbus.Event):
    id: int = 0


def recording(name: str, journal: list[str], *, requires: tuple[str, ...] = ()) -> Plugin:
    """A plugin instance whose lifespan and pipe write to ``journal``."""

    class Recorder(Plugin):
        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            journal.append(f"start {self.name}")
            try:
                yield
            finally:
                journal.append(f"stop {self.name}")

        @pipe(Placed)
        def stamp(self, event):
            return attrs.evolve(event, trail=(*event.trail, self.name))

    Recorder.name = name
    Recorder.requires = requires
    Recorder.__qualname__ = f"Recorder_{name}"
    return Recorder()


def open_bus(**kwargs):
    kwargs.setdefault("discover", False)
    kwargs.setdefault("config", {})
    return eventbus.open_bus(**kwargs)


# --- start, stop, order ------------------------------------------------------------------


async def test_plugins_start_in_requires_order_and_stop_in_reverse():
    journal: list[str] = []
    plugins = [
        recording("audit", journal, requires=("storage",)),
        recording("storage", journal),
        recording("metrics", journal, requires=("audit", "storage")),
    ]
    async with open_bus(plugins=plugins) as bus:
        assert journal == ["start storage", "start audit", "start metrics"]
        assert [p.name for p in bus.plugins] == ["storage", "audit", "metrics"]
        assert all(p.state == "running" for p in bus.plugins)
        # Equal order: pipes run by plugin rank, which is the start order.
        placed = await bus.emit(Placed())
        assert placed.trail == ("storage", "audit", "metrics")
    assert journal[3:] == ["stop metrics", "stop audit", "stop storage"]
    assert all(p.state == "stopped" for p in bus.plugins)


async def test_unrelated_plugins_keep_the_given_order():
    journal: list[str] = []
    async with open_bus(plugins=[recording(n, journal) for n in "cab"]):
        pass
    assert journal == ["start c", "start a", "start b", "stop b", "stop a", "stop c"]


async def test_handlers_are_subscribed_with_the_plugin_as_owner():
    seen = []

    class Shop(Plugin):
        name = "shop"

        @pipe(Placed, order=-1)
        async def stamp(self, event):
            return attrs.evolve(event, trail=(*event.trail, "shop"))

        @listener(Placed)
        def on_placed(self, event):
            seen.append(("listener", event.trail))

        @hook(Shipped, capacity=4)
        async def on_shipped(self, event):
            seen.append(("hook", event.id))

    async with open_bus(plugins=[Shop()]) as bus:
        await bus.emit(Placed())
        await bus.emit(Shipped(7))
        (info,) = bus.plugins
        assert [(s.kind, s.event_type, s.owner) for s in info.subscriptions] == [
            ("pipe", Placed, "shop"),
            ("listener", Placed, "shop"),
            ("hook", Shipped, "shop"),
        ]
        assert info.subscriptions[2].capacity == 4
        assert {s.owner for s in bus.stats()} == {"shop"}
        assert {s.handler for s in bus.stats()} == {
            "test_handlers_are_subscribed_with_the_plugin_as_owner.<locals>.Shop.stamp",
            "test_handlers_are_subscribed_with_the_plugin_as_owner.<locals>.Shop.on_placed",
            "test_handlers_are_subscribed_with_the_plugin_as_owner.<locals>.Shop.on_shipped",
        }
    assert seen == [("listener", ("shop",)), ("hook", 7)]
    assert not any(s.active for s in info.subscriptions)


async def test_handlers_are_off_before_the_lifespan_exits_and_hooks_drained(autojump_clock):
    journal: list[str] = []

    class Slow(Plugin):
        name = "slow"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            self.open = True
            yield
            journal.append(f"exit, active={[s.active for s in bus.plugins[0].subscriptions]}")
            self.open = False

        @hook(Shipped)
        async def deliver(self, event):
            await trio.sleep(1)
            assert self.open, "the hook ran after the lifespan exited"
            journal.append(f"delivered {event.id}")

    async with open_bus(plugins=[Slow()]) as bus:
        for i in range(3):
            await bus.emit(Shipped(i))
    assert journal == ["delivered 0", "delivered 1", "delivered 2", "exit, active=[False]"]


async def test_the_info_records():
    plugin = recording("audit", [])
    async with open_bus(plugins=[plugin]) as bus:
        (info,) = bus.plugins
        assert isinstance(info, PluginInfo)
        assert info.name == "audit"
        assert info.distribution is None
        assert info.version is None
        assert info.source == f"{__name__}:Recorder_audit"
        assert info.state == "running"
        assert info.error is None
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            info.state = "stopped"  # type: ignore[misc]
    assert bus.plugins[0].state == "stopped"


async def test_a_plugin_class_is_instantiated_with_its_config_options():
    @attrs.frozen
    class ConfiguredOptions:
        retries: int = 3

    class Configured(Plugin):
        name = "configured"
        Options = ConfiguredOptions

    async with open_bus(
        plugins=[Configured], config={"plugins": {"configured": {"retries": 5}}}
    ) as bus:
        assert bus.plugins[0].state == "running"
    with pytest.raises(PluginError) as info:
        async with open_bus(
            plugins=[Configured], config={"plugins": {"configured": {"retries": "x"}}}
        ):
            pass  # pragma: no cover
    assert info.value.phase == "config"
    assert "plugins.configured.retries: expected int, got 'x'" in str(info.value)
    assert isinstance(info.value.__cause__, ConfigError)


async def test_a_lifespan_may_run_a_nursery(autojump_clock):
    ticks = []

    class Service(Plugin):
        name = "service"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self.tick)
                yield
                nursery.cancel_scope.cancel()

        async def tick(self):
            while True:
                ticks.append(1)
                await trio.sleep(1)

    async with open_bus(plugins=[Service()]):
        await trio.sleep(3.5)
    assert len(ticks) == 4


async def test_the_lifespan_sees_the_bus_and_may_emit(autojump_clock):
    got = []

    class Greeter(Plugin):
        name = "greeter"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            self.bus = bus
            yield
            await bus.emit(Shipped(99))  # still allowed: the bus is not closed yet

    async with open_bus(plugins=[Greeter()]) as bus:
        bus.listener(Shipped)(got.append)
    assert got == [Shipped(99)]


async def test_requires_satisfied_across_add_plugin_in_a_scope():
    journal: list[str] = []
    async with open_bus(plugins=[recording("storage", journal)]) as bus:
        async with bus.scope("request") as scope:
            info = await add_plugin(scope, recording("audit", journal, requires=("storage",)))
            assert info.state == "running"
            assert [p.name for p in scope.plugins] == ["audit"]
            assert (await scope.emit(Placed())).trail == ("storage", "audit")
            assert (await bus.emit(Placed())).trail == ("storage",)
            with pytest.raises(PluginError, match="already running"):
                await add_plugin(scope, recording("storage", journal))
            with pytest.raises(PluginError, match="requires 'nope'") as err:
                await add_plugin(scope, recording("x", journal, requires=("nope",)))
            assert err.value.phase == "order"
            await add_plugin(bus, recording("late", journal))
            assert [p.name for p in bus.plugins] == ["storage", "late"]
        assert "stop audit" in journal
        assert "stop late" not in journal
    assert journal[-2:] == ["stop late", "stop storage"]


needs_close_callbacks = pytest.mark.skipif(
    not hasattr(eventbus.Bus, "add_plugin"),
    reason="needs the core's Bus.add_plugin and close callbacks (Bus._closers)",
)


@needs_close_callbacks
async def test_a_scope_plugin_stops_in_order_when_the_scope_closes(autojump_clock):
    journal: list[str] = []

    class Scoped(Plugin):
        name = "scoped"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            yield
            active = [s.active for s in bus.plugins[0].subscriptions]
            journal.append(f"exit, active={active}")

        @hook(Shipped)
        async def deliver(self, event):
            await trio.sleep(1)
            journal.append(f"delivered {event.id}")

    async with open_bus() as bus:
        async with bus.scope("request") as scope:
            info = await scope.add_plugin(Scoped())
            assert info.state == "running"
            for i in range(2):
                await scope.emit(Shipped(i))
        assert journal == ["delivered 0", "delivered 1", "exit, active=[False]"]
        assert scope.plugins[0].state == "stopped"
        assert bus.plugins == ()


@needs_close_callbacks
async def test_a_scope_plugin_clean_up_survives_outside_cancellation(autojump_clock):
    journal: list[str] = []

    class Careful(Plugin):
        name = "careful"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            yield
            await trio.sleep(1)
            journal.append("cleaned up")

    async with open_bus() as bus:
        with trio.move_on_after(5):
            async with bus.scope("request") as scope:
                await scope.add_plugin(Careful())
                await trio.sleep_forever()
    assert journal == ["cleaned up"]


@needs_close_callbacks
async def test_a_scope_plugin_stop_failure_is_raised_when_the_scope_closes():
    journal: list[str] = []
    with pytest.raises(PluginError) as info:
        async with open_bus() as bus, bus.scope("request") as scope:
            await scope.add_plugin(failing("bad", journal, on="exit"))
    assert (info.value.phase, info.value.plugin) == ("stop", "bad")
    assert journal == ["start bad", "stopping bad"]


async def test_add_plugin_on_a_closed_scope():
    async with open_bus() as bus:
        async with bus.scope("s") as scope:
            pass
        with pytest.raises(eventbus.BusClosed):
            await add_plugin(scope, recording("x", []))


# --- order failures ------------------------------------------------------------------------


async def test_missing_requirement():
    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=[recording("audit", [], requires=("storage",))]):
            pass  # pragma: no cover
    err = info.value
    assert err.phase == "order"
    assert err.plugin == "audit"
    assert "requires 'storage', which is not installed" in str(err)


async def test_requires_cycle_names_every_plugin():
    plugins = [
        recording("a", [], requires=("b",)),
        recording("b", [], requires=("c",)),
        recording("c", [], requires=("a",)),
        recording("d", [], requires=("a",)),
        recording("free", []),
    ]
    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=plugins):
            pass  # pragma: no cover
    message = str(info.value)
    assert info.value.phase == "order"
    assert "a -> b -> c -> a" in message
    for name in "'a'", "'b'", "'c'", "'d'":
        assert name in message


async def test_order_failures_when_not_strict(caplog):
    journal: list[str] = []
    plugins = [
        recording("a", journal, requires=("b",)),
        recording("b", journal, requires=("a",)),
        recording("c", journal, requires=("missing",)),
        recording("d", journal, requires=("c",)),
        recording("ok", journal),
    ]
    async with open_bus(plugins=plugins, strict=False) as bus:
        states = {p.name: (p.state, p.error and p.error.phase) for p in bus.plugins}
        assert states == {
            "ok": ("running", None),
            "a": ("failed", "order"),
            "b": ("failed", "order"),
            "c": ("failed", "order"),
            "d": ("failed", "order"),
        }
        assert "which failed" in str(bus.plugins[-1].error) or "which failed" in str(
            next(p.error for p in bus.plugins if p.name == "d")
        )
    assert journal == ["start ok", "stop ok"]
    assert "strict=False" in caplog.text


# --- failure modes -------------------------------------------------------------------------


class Boom(Exception):
    pass


def failing(name: str, journal: list[str], *, on: str, hang: bool = False) -> Plugin:
    """A plugin whose lifespan fails (or hangs) on entry or on exit."""

    class Failing(Plugin):
        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            journal.append(f"start {name}")
            if on == "enter":
                if hang:
                    await trio.sleep_forever()
                raise Boom(f"{name} cannot start")
            yield
            journal.append(f"stopping {name}")
            if hang:
                await trio.sleep_forever()
            raise Boom(f"{name} cannot stop")

    Failing.name = name
    return Failing()


async def test_lifespan_entry_failure_stops_the_started_ones():
    journal: list[str] = []
    plugins = [
        recording("first", journal),
        failing("bad", journal, on="enter"),
        recording("never", journal),
    ]
    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=plugins):
            pass  # pragma: no cover
    err = info.value
    assert (err.phase, err.plugin) == ("start", "bad")
    assert "entering its lifespan raised Boom: bad cannot start" in str(err)
    assert isinstance(err.__cause__, Boom)
    assert journal == ["start first", "start bad", "stop first"]


async def test_lifespan_entry_failure_not_strict():
    journal: list[str] = []
    plugins = [
        recording("first", journal),
        failing("bad", journal, on="enter"),
        recording("next", journal),
    ]
    async with open_bus(plugins=plugins, strict=False) as bus:
        assert [(p.name, p.state) for p in bus.plugins] == [
            ("first", "running"),
            ("bad", "failed"),
            ("next", "running"),
        ]
        assert bus.plugins[1].error.phase == "start"
    assert journal == ["start first", "start bad", "start next", "stop next", "stop first"]


async def test_lifespan_hangs_past_start_timeout(autojump_clock):
    journal: list[str] = []
    plugins = [recording("first", journal), failing("stuck", journal, on="enter", hang=True)]
    start = trio.current_time()
    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=plugins, start_timeout=5):
            pass  # pragma: no cover
    assert trio.current_time() - start == pytest.approx(5)
    err = info.value
    assert (err.phase, err.plugin) == ("start", "stuck")
    assert "did not finish starting within start_timeout=5s" in str(err)
    assert journal == ["start first", "start stuck", "stop first"]


async def test_start_timeout_from_the_config(autojump_clock):
    plugins = [failing("stuck", [], on="enter", hang=True)]
    start = trio.current_time()
    with pytest.raises(PluginError, match="start_timeout=2s"):
        async with open_bus(plugins=plugins, config={"start_timeout": 2}):
            pass  # pragma: no cover
    assert trio.current_time() - start == pytest.approx(2)


async def test_lifespan_exit_failure_is_raised_after_every_plugin_stopped():
    journal: list[str] = []
    plugins = [
        recording("first", journal),
        failing("bad", journal, on="exit"),
        recording("last", journal),
    ]
    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=plugins) as bus:
            pass
    err = info.value
    assert (err.phase, err.plugin) == ("stop", "bad")
    assert "exiting its lifespan raised Boom: bad cannot stop" in str(err)
    assert isinstance(err.__cause__, Boom)
    assert journal[-4:] == ["stop last", "stopping bad", "stop first"][:0] + journal[-4:]
    assert journal[3:] == ["stop last", "stopping bad", "stop first"]
    assert [(p.name, p.state) for p in bus.plugins] == [
        ("first", "stopped"),
        ("bad", "failed"),
        ("last", "stopped"),
    ]


async def test_lifespan_hangs_past_stop_timeout(autojump_clock):
    journal: list[str] = []
    plugins = [recording("first", journal), failing("stuck", journal, on="exit", hang=True)]
    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=plugins, stop_timeout=3):
            start = trio.current_time()
    assert trio.current_time() - start == pytest.approx(3)
    err = info.value
    assert (err.phase, err.plugin) == ("stop", "stuck")
    assert "did not exit within stop_timeout=3s" in str(err)
    assert journal[-2:] == ["stopping stuck", "stop first"]


async def test_every_stop_failure_is_reported_together():
    journal: list[str] = []
    plugins = [
        failing("one", journal, on="exit"),
        recording("ok", journal),
        failing("two", journal, on="exit"),
    ]
    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=plugins):
            pass
    err = info.value
    assert err.phase == "stop"
    assert "2 plugins failed to stop" in str(err)
    assert "'two'" in str(err)
    assert "'one'" in str(err)
    group = err.__cause__
    assert isinstance(group, ExceptionGroup)
    assert [e.plugin for e in group.exceptions] == ["two", "one"]
    assert all(isinstance(e.__cause__, Boom) for e in group.exceptions)
    assert journal[3:] == ["stopping two", "stop ok", "stopping one"]


async def test_stop_failures_are_logged_not_raised_when_not_strict(caplog):
    async with open_bus(plugins=[failing("bad", [], on="exit")], strict=False) as bus:
        pass
    assert bus.plugins[0].state == "failed"
    assert bus.plugins[0].error.phase == "stop"
    assert "bad cannot stop" in caplog.text


async def test_the_blocks_own_error_wins_over_stop_failures():
    with pytest.raises(KeyError) as info:
        async with open_bus(plugins=[failing("bad", [], on="exit")]):
            raise KeyError("mine")
    assert any("while stopping the plugins" in note for note in info.value.__notes__)


async def test_stop_is_shielded_from_outside_cancellation(autojump_clock):
    journal: list[str] = []

    class Careful(Plugin):
        name = "careful"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            yield
            await trio.sleep(1)  # clean-up that must not be cut short
            journal.append("cleaned up")

    with trio.move_on_after(10) as scope:
        async with open_bus(plugins=[Careful()]):
            await trio.sleep_forever()
    assert scope.cancelled_caught
    assert journal == ["cleaned up"]


async def test_a_start_cancelled_from_outside_stops_what_started(autojump_clock):
    # A lifespan still entering when the start is cancelled (Ctrl-C during
    # `eventbus run`): the plugins that had started are stopped, in reverse,
    # and open_bus returns instead of waiting for their shielded lifespans.
    journal: list[str] = []

    class Slow(Plugin):
        name = "slow"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            journal.append("slow entering")
            await trio.sleep(60)
            yield  # pragma: no cover - cancelled before

    with trio.move_on_after(1) as scope:
        async with open_bus(plugins=[recording("a", journal), recording("b", journal), Slow()]):
            pass  # pragma: no cover - the start never completes
    assert scope.cancelled_caught
    assert journal == ["start a", "start b", "slow entering", "stop b", "stop a"]
    assert trio.current_time() < 2


async def test_bus_cancel_still_exits_lifespans(autojump_clock):
    journal: list[str] = []
    async with open_bus(plugins=[recording("p", journal)]) as bus:
        bus.cancel()
        await trio.sleep(1)
    assert journal == ["start p", "stop p"]


async def test_a_crash_in_a_lifespan_nursery_fails_the_plugin(caplog, autojump_clock):
    class Crashy(Plugin):
        name = "crashy"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self.crash)
                yield

        async def crash(self):
            await trio.sleep(1)
            raise Boom("background task died")

        @listener(Shipped)
        def on_shipped(self, event):
            pass

    async with open_bus(plugins=[Crashy()]) as bus:
        await trio.sleep(2)
        (info,) = bus.plugins
        assert info.state == "failed"
        assert info.error.phase == "stop"
        assert "background task died" in str(info.error)
        assert not any(s.active for s in info.subscriptions)
        await bus.emit(Shipped())  # the bus goes on
    assert "background task died" in caplog.text


async def test_nothing_keeps_running_after_a_failed_open(autojump_clock):
    plugins = [recording("a", []), failing("stuck", [], on="enter", hang=True)]
    with pytest.raises(PluginError):
        async with open_bus(plugins=plugins, start_timeout=1):
            pass  # pragma: no cover
    await trio.testing.wait_all_tasks_blocked()
    task = trio.lowlevel.current_task()
    assert [t.name for t in task.parent_nursery.child_tasks] == [task.name]


async def test_subscription_failure_rolls_the_plugin_back():
    journal: list[str] = []

    class Cyclic(Plugin):
        name = "cyclic"

        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            journal.append("enter")
            yield
            journal.append("exit")

        @pipe(Placed, before="other")
        def one(self, event):
            return event

    class Other(Plugin):
        name = "other"

        @pipe(Placed, before="cyclic")
        def two(self, event):
            return event

    with pytest.raises(PluginError) as info:
        async with open_bus(plugins=[Other(), Cyclic()]):
            pass  # pragma: no cover
    assert info.value.phase == "start"
    assert info.value.plugin == "cyclic"
    assert isinstance(info.value.__cause__, eventbus.OrderError)
    assert journal == ["enter", "exit"]


async def test_lifespan_that_is_not_a_context_manager():
    class Wrong(Plugin):
        name = "wrong"

        def lifespan(self, bus):  # type: ignore[override]
            return 42

    with pytest.raises(PluginError, match="not an async context manager"):
        async with open_bus(plugins=[Wrong()]):
            pass  # pragma: no cover


# --- bad arguments -------------------------------------------------------------------------


async def test_plugins_must_be_plugins():
    with pytest.raises(TypeError, match=r"takes eventbus\.Plugin instances"):
        async with open_bus(plugins=[object()]):
            pass  # pragma: no cover


async def test_two_instances_with_one_name():
    with pytest.raises(PluginError, match=r"another plugin .* has this name"):
        async with open_bus(plugins=[recording("x", []), recording("x", [])]):
            pass  # pragma: no cover


async def test_bad_config_is_a_config_error():
    with pytest.raises(ConfigError, match="pipe_timeot: unknown key; did you mean 'pipe_timeout'"):
        async with open_bus(config={"pipe_timeot": 1}):
            pass  # pragma: no cover


@pytest.mark.parametrize("flag", ["discover", "strict"])
async def test_bad_flags(flag):
    with pytest.raises(TypeError, match=f"open_bus\\({flag}=...\\) must be True, False or None"):
        async with open_bus(**{flag: "yes"}):
            pass  # pragma: no cover


async def test_keywords_win_over_the_config():
    config = BusConfig(
        pipe_timeout=1.0,
        listener_timeout=2.0,
        hook_timeout=3.0,
        drain_timeout=4.0,
        hook_capacity=5,
        checkpoint="cancel",
    )
    async with open_bus(config=config) as bus:
        assert bus.settings.pipe_timeout == 1.0
        assert bus.settings.listener_timeout == 2.0
        assert bus.settings.hook_timeout == 3.0
        assert bus.settings.drain_timeout == 4.0
        assert bus.settings.hook_capacity == 5
        assert bus.settings.checkpoint == "cancel"
    async with open_bus(
        config=config,
        pipe_timeout=10,
        listener_timeout=20,
        hook_timeout=30,
        drain_timeout=40,
        hook_capacity=50,
        checkpoint="full",
    ) as bus:
        assert (bus.settings.pipe_timeout, bus.settings.listener_timeout) == (10, 20)
        assert (bus.settings.hook_timeout, bus.settings.drain_timeout) == (30, 40)
        assert bus.settings.hook_capacity == 50
        assert bus.settings.checkpoint == "full"


async def test_strict_from_the_config_and_the_keyword():
    plugins = [failing("bad", [], on="enter")]
    async with open_bus(plugins=plugins, config={"strict": False}) as bus:
        assert bus.plugins[0].state == "failed"
    with pytest.raises(PluginError):
        async with open_bus(
            plugins=[failing("bad", [], on="enter")], config={"strict": False}, strict=True
        ):
            pass  # pragma: no cover


async def test_config_file_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "eventbus.toml").write_text("hook_capacity = 7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    async with eventbus.open_bus(discover=False) as bus:
        assert bus.settings.hook_capacity == 7


async def test_logging_names_the_plugin(caplog):
    caplog.set_level(logging.DEBUG, logger="eventbus")
    async with open_bus(plugins=[recording("audit", [])]):
        pass
    assert any(r.name == "eventbus.plugin.audit" for r in caplog.records)


# --- installed plugins (entry points) --------------------------------------------------------

AUDIT = """
import contextlib
import attrs
from eventbus._plugins import Plugin, pipe, listener

JOURNAL = []

@attrs.frozen
class Options:
    table: str
    retries: int = 3

class AuditPlugin(Plugin):
    Options = Options

    def __init__(self, options):
        self.options = options

    @contextlib.asynccontextmanager
    async def lifespan(self, bus):
        JOURNAL.append(("start", self.options))
        yield
        JOURNAL.append(("stop",))

    @listener(object)
    def seen(self, event):
        JOURNAL.append(("seen", type(event).__name__))

def factory():
    return Plain()

class Plain(Plugin):
    pass
"""


def install_audit(site, **extra):
    write_dist(
        site,
        "eventbus-audit",
        "1.2.0",
        entry_points={"audit": "ebfake_audit:AuditPlugin", **extra},
        modules={"ebfake_audit": AUDIT},
    )


async def test_an_installed_plugin_runs_with_its_options(site):
    install_audit(site)
    async with eventbus.open_bus({"plugins": {"audit": {"table": "events", "retries": 5}}}) as bus:
        (info,) = bus.plugins
        assert info.name == "audit"
        assert info.distribution == "eventbus-audit"
        assert info.version == "1.2.0"
        assert info.source == "eventbus.plugins:audit = ebfake_audit:AuditPlugin"
        assert info.state == "running"
        await bus.emit(Shipped())
    import ebfake_audit

    journal = ebfake_audit.JOURNAL
    options = ebfake_audit.Options(table="events", retries=5)
    assert journal == [("start", options), ("seen", "Shipped"), ("stop",)]


async def test_bad_options_of_an_installed_plugin(site):
    install_audit(site)
    with pytest.raises(PluginError) as info:
        async with eventbus.open_bus({"plugins": {"audit": {"retries": "x"}}}):
            pass  # pragma: no cover
    err = info.value
    assert (err.phase, err.plugin, err.distribution, err.version) == (
        "config",
        "audit",
        "eventbus-audit",
        "1.2.0",
    )
    assert "plugins.audit.table: required key missing" in str(err)
    assert "plugins.audit.retries: expected int, got 'x'" in str(err)
    assert isinstance(err.__cause__, ConfigError)


async def test_options_from_a_file_name_the_file(site, tmp_path):
    install_audit(site)
    path = tmp_path / "bus.toml"
    path.write_text("[plugins.audit]\ntable = 3\n", encoding="utf-8")
    with pytest.raises(
        PluginError, match=r"in .*bus.toml: plugins.audit.table: expected str, got 3"
    ):
        async with eventbus.open_bus(path):
            pass  # pragma: no cover


async def test_options_class_that_raises(site):
    write_dist(
        site,
        "eventbus-picky",
        entry_points={"picky": "ebfake_picky:Picky"},
        modules={
            "ebfake_picky": """
import attrs
from eventbus._plugins import Plugin

@attrs.frozen
class Options:
    level: int = 0
    def __attrs_post_init__(self):
        raise RuntimeError("options exploded")

class Picky(Plugin):
    Options = Options
"""
        },
    )
    with pytest.raises(PluginError) as info:
        async with eventbus.open_bus({}):
            pass  # pragma: no cover
    assert info.value.phase == "config"
    assert "options exploded" in str(info.value)


async def test_a_plugin_that_raises_on_import(site):
    install_audit(site)
    write_dist(
        site,
        "eventbus-broken",
        "0.1",
        entry_points={"broken": "ebfake_broken:Plugin"},
        modules={"ebfake_broken": "raise ImportError('missing native library')\n"},
    )
    with pytest.raises(PluginError) as info:
        async with eventbus.open_bus({"plugins": {"audit": {"table": "t"}}}):
            pass  # pragma: no cover
    err = info.value
    assert (err.phase, err.plugin, err.distribution, err.version) == (
        "load",
        "broken",
        "eventbus-broken",
        "0.1",
    )
    assert "eventbus.plugins:broken = ebfake_broken:Plugin" in str(err)
    assert isinstance(err.__cause__, ImportError)
    import ebfake_audit

    assert ebfake_audit.JOURNAL == []  # nothing started

    async with eventbus.open_bus({"plugins": {"audit": {"table": "t"}}}, strict=False) as bus:
        states = {p.name: p.state for p in bus.plugins}
        assert states == {"audit": "running", "broken": "failed"}
        broken = next(p for p in bus.plugins if p.name == "broken")
        assert broken.distribution == "eventbus-broken"
        assert broken.error.phase == "load"


async def test_disabled_plugins_are_not_imported(site):
    install_audit(site)
    write_dist(
        site,
        "eventbus-broken",
        entry_points={"broken": "ebfake_broken:Plugin"},
        modules={"ebfake_broken": "raise ImportError('never imported')\n"},
    )
    config = {"disable": ["broken"], "plugins": {"audit": {"table": "t"}}}
    async with eventbus.open_bus(config) as bus:
        assert {p.name: p.state for p in bus.plugins} == {"audit": "running", "broken": "disabled"}
    assert "ebfake_broken" not in __import__("sys").modules


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"enable": ["audit"]}, {"audit": "running", "other": "disabled"}),
        ({"enable": []}, {"audit": "disabled", "other": "disabled"}),
        ({"disable": ["audit"]}, {"audit": "disabled", "other": "running"}),
        ({"plugins": {"audit": {"enabled": False}}}, {"audit": "disabled", "other": "running"}),
        (
            {"enable": ["other"], "plugins": {"audit": {"enabled": True, "table": "t"}}},
            {"audit": "running", "other": "running"},
        ),
        (
            {"disable": ["audit"], "plugins": {"audit": {"enabled": True}}},
            {"audit": "disabled", "other": "running"},
        ),
    ],
)
async def test_enable_and_disable(site, config, expected):
    install_audit(site)
    write_dist(
        site,
        "eventbus-other",
        entry_points={"other": "ebfake_other:Other"},
        modules={
            "ebfake_other": "from eventbus._plugins import Plugin\nclass Other(Plugin): pass\n"
        },
    )
    config = {**config}
    config.setdefault("plugins", {}).setdefault("audit", {}).setdefault("table", "t")
    if config["plugins"]["audit"].get("enabled") is False or "audit" in config.get("disable", ()):
        pass
    async with eventbus.open_bus(config) as bus:
        assert {p.name: p.state for p in bus.plugins} == expected


async def test_autoload_controls(site, monkeypatch):
    install_audit(site)
    config = {"plugins": {"audit": {"table": "t"}}}
    async with eventbus.open_bus(config, discover=False) as bus:
        assert bus.plugins == ()
    async with eventbus.open_bus({**config, "autoload": False}) as bus:
        assert bus.plugins == ()
    async with eventbus.open_bus({**config, "autoload": False}, discover=True) as bus:
        assert [p.name for p in bus.plugins] == ["audit"]  # the keyword wins
    monkeypatch.setenv("EVENTBUS_DISABLE_PLUGIN_AUTOLOAD", "1")
    async with eventbus.open_bus(config, discover=True) as bus:
        assert bus.plugins == ()


async def test_a_factory_entry_point(site):
    install_audit(site, plain="ebfake_audit:factory")
    async with eventbus.open_bus({"enable": ["plain"]}) as bus:
        assert [(p.name, p.state) for p in bus.plugins] == [
            ("plain", "running"),
            ("audit", "disabled"),
        ]
    with pytest.raises(PluginError, match="is a factory, which takes no options"):
        async with eventbus.open_bus({"enable": ["plain"], "plugins": {"plain": {"x": 1}}}):
            pass  # pragma: no cover


async def test_an_entry_point_that_is_not_a_plugin(site):
    write_dist(
        site,
        "eventbus-odd",
        entry_points={
            "odd": "ebfake_odd:VALUE",
            "cls": "ebfake_odd:NotPlugin",
            "fn": "ebfake_odd:make",
        },
        modules={"ebfake_odd": "VALUE = 3\nclass NotPlugin: pass\ndef make(): return 'nope'\n"},
    )
    for name, match in [
        ("odd", "is 3; a plugin is an eventbus.Plugin subclass or a factory"),
        ("cls", "a plugin is an eventbus.Plugin subclass"),
        ("fn", "returned 'nope', not an eventbus.Plugin instance"),
    ]:
        with pytest.raises(PluginError, match=match) as info:
            async with eventbus.open_bus({"enable": [name]}):
                pass  # pragma: no cover
        assert info.value.phase == "load"


async def test_duplicate_entry_point_names(site):
    write_dist(site, "eventbus-audit", "1.0", entry_points={"audit": "ebfake_a:P"})
    write_dist(site, "acme-audit", "2.0", entry_points={"audit": "ebfake_b:P"})
    with pytest.raises(PluginError) as info:
        async with eventbus.open_bus({}):
            pass  # pragma: no cover
    assert "eventbus-audit 1.0" in str(info.value)
    assert "acme-audit 2.0" in str(info.value)
    async with eventbus.open_bus({"disable": ["audit"]}) as bus:
        assert bus.plugins == ()
    async with eventbus.open_bus({}, strict=False) as bus:
        assert [(p.name, p.state) for p in bus.plugins] == [("audit", "failed")]


async def test_an_instance_replaces_an_installed_plugin_of_the_same_name(site):
    install_audit(site)
    journal: list[str] = []
    async with eventbus.open_bus({}, plugins=[recording("audit", journal)]) as bus:
        (info,) = bus.plugins
        assert info.source.endswith(":Recorder_audit")
    assert journal == ["start audit", "stop audit"]


async def test_unknown_plugin_names_in_the_config(site):
    install_audit(site)
    with pytest.raises(
        PluginError, match=r"\[plugins.audti\] names it, .*did you mean 'audit'"
    ) as info:
        async with eventbus.open_bus({"plugins": {"audti": {"table": "t"}}}):
            pass  # pragma: no cover
    assert info.value.phase == "load"
    with pytest.raises(PluginError, match=r"the enable list names it"):
        async with eventbus.open_bus({"enable": ["nope"]}):
            pass  # pragma: no cover


async def test_a_plugin_by_import_path(site):
    (site / "ebfake_bridge.py").write_text(
        "import attrs\nfrom eventbus._plugins import Plugin\n"
        "@attrs.frozen\nclass Options:\n    url: str\n"
        "class Bridge(Plugin):\n    Options = Options\n",
        encoding="utf-8",
    )
    config = {"plugins": {"bridge": {"path": "ebfake_bridge:Bridge", "url": "redis://x"}}}
    async with eventbus.open_bus(config, discover=False) as bus:
        (info,) = bus.plugins
        assert (info.name, info.source, info.state) == ("bridge", "ebfake_bridge:Bridge", "running")
    bad = {"plugins": {"bridge": {"path": "ebfake_nowhere:Bridge"}}}
    with pytest.raises(PluginError, match="ModuleNotFoundError") as err:
        async with eventbus.open_bus(bad, discover=False):
            pass  # pragma: no cover
    assert (err.value.phase, err.value.plugin) == ("load", "bridge")


def test_plan_plugins_loads_and_orders_without_starting(site):
    install_audit(site)
    write_dist(
        site,
        "eventbus-broken",
        entry_points={"broken": "ebfake_broken:Plugin"},
        modules={"ebfake_broken": "raise ImportError('no')\n"},
    )
    infos = plan_plugins(BusConfig(plugins={}, disable=()), autoload=True)
    states = {i.name: (i.state, i.error and i.error.phase) for i in infos}
    # audit lacks its required option 'table': a config failure, not started.
    assert states == {"audit": ("failed", "config"), "broken": ("failed", "load")}
    import ebfake_audit

    assert ebfake_audit.JOURNAL == []


# -- emit_soon work at the end of the block ------------------------------------------------


def slow_listener(name: str, seen: list[str]) -> Plugin:
    """A plugin whose listener takes a while before it records the event."""

    class Slow(Plugin):
        @listener(Shipped)
        async def note(self, event):
            await trio.sleep(0.5)
            seen.append(f"{self.name} saw {event.id}")

    Slow.name = name
    Slow.__qualname__ = f"Slow_{name}"
    return Slow()


async def test_emit_soon_work_reaches_the_plugins_before_they_stop(autojump_clock):
    seen: list[str] = []
    async with open_bus(plugins=[slow_listener("audit", seen)]) as bus:
        bus.emit_soon(Shipped(id=1))
        bus.emit_soon(Shipped(id=2))
    # The two background emits run concurrently: either may finish first.
    assert sorted(seen) == ["audit saw 1", "audit saw 2"]
    assert bus.emit_soon_lost == 0
    assert [info.state for info in bus.plugins] == ["stopped"]


async def test_emit_soon_work_reaches_a_scopes_plugins_before_they_stop(autojump_clock):
    seen: list[str] = []
    async with open_bus() as bus:
        async with bus.scope("request") as scope:
            await add_plugin(scope, slow_listener("audit", seen))
            scope.emit_soon(Shipped(id=7))
        assert seen == ["audit saw 7"]


async def test_emit_soon_work_past_drain_timeout_is_lost_not_waited_for(autojump_clock):
    seen: list[str] = []
    async with open_bus(plugins=[slow_listener("audit", seen)], drain_timeout=0.1) as bus:
        bus.emit_soon(Shipped(id=1))
    assert seen == []
    assert bus.emit_soon_lost == 1
    assert trio.current_time() < 1


async def test_waiting_for_emit_soon_work_and_the_drain_share_drain_timeout(autojump_clock):
    seen: list[str] = []
    async with open_bus(plugins=[slow_listener("audit", seen)], drain_timeout=2) as bus:

        @bus.listener(Shipped)
        async def endless(event):
            await trio.sleep_forever()

        bus.emit_soon(Shipped(id=1))
        start = trio.current_time()
    assert trio.current_time() - start == pytest.approx(2)
    assert seen == ["audit saw 1"]
    assert bus.emit_soon_lost == 1


async def test_a_cancelled_block_does_not_wait_for_emit_soon_work(autojump_clock):
    seen: list[str] = []
    with trio.move_on_after(0.1):
        async with open_bus(plugins=[slow_listener("audit", seen)]) as bus:
            bus.emit_soon(Shipped(id=1))
            await trio.sleep_forever()
    assert seen == []
    assert bus.emit_soon_lost == 1
