"""plugin_harness: one plugin, its lifespan and requirements, on a private bus."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import trio

import eventbus
from eventbus.testing import PluginHarness, plugin_harness

REPO = Path(__file__).resolve().parents[2]


@attrs.frozen
class Order(eventbus.Event):
    id: int
    total: int = 0


@attrs.frozen
class Audited(eventbus.Event):
    id: int
    by: str


@attrs.frozen
class Started(eventbus.Event):
    name: str


@attrs.frozen
class ShopOptions:
    tax: int = 0
    label: str = "shop"


class ShopPlugin(eventbus.Plugin):
    name = "shop"
    Options = ShopOptions

    def __init__(self, options: ShopOptions) -> None:
        super().__init__(options)
        self.options: ShopOptions = options
        self.events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        self.bus = bus
        self.events.append("start")
        await bus.emit(Started("shop"))
        yield
        self.events.append("stop")
        await bus.emit(Started("shop stopping"))

    @eventbus.pipe(Order)
    async def add_tax(self, event: Order) -> Order:
        if event.id < 0:
            # A pipe that emits while the harness's event goes through it.
            await self.bus.emit(Audited(event.id, "rejected"))
            raise eventbus.Rejected("negative id")
        return attrs.evolve(event, total=event.total + self.options.tax)

    @eventbus.listener(Order)
    async def audit(self, event: Order) -> None:
        await self.bus.emit(Audited(event.id, self.options.label))

    @eventbus.hook(Order)
    async def later(self, event: Order) -> None:
        await trio.sleep(1)
        self.bus.emit_soon(Audited(event.id, "hook"))


async def test_emit_returns_the_piped_event_and_emitted_is_the_plugins_own(
    autojump_clock: object,
) -> None:
    async with plugin_harness(ShopPlugin, {"tax": 5}) as h:
        assert isinstance(h, PluginHarness)
        assert await h.emit(Order(1, total=10)) == Order(1, total=15)
        # The harness's own emit is not in h.emitted; what the plugin emitted is.
        assert h.emitted == [Started("shop"), Audited(1, "shop")]
        with pytest.raises(eventbus.Rejected):
            await h.emit(Order(-2))
        assert h.emitted[-1] == Audited(-2, "rejected")
        h.emitted.clear()
    # Hooks drained and the lifespan stopped on exit: all of it recorded.
    assert h.emitted == [Audited(1, "hook"), Started("shop stopping")]
    assert h.plugin.events == ["start", "stop"]


async def test_the_plugin_is_reachable(autojump_clock: object) -> None:
    async with plugin_harness(ShopPlugin, ShopOptions(label="x")) as h:
        assert isinstance(h.plugin, ShopPlugin)
        assert h.plugin.options == ShopOptions(label="x")
        assert h.name == "shop"
        assert h.info.state == "running"
        names = [getattr(s.handler, "__name__", None) for s in h.subscriptions]
        assert names == ["add_tax", "audit", "later"]
        assert all(s.owner == "shop" for s in h.subscriptions)
        assert "shop" in repr(h)
        # The bus is an ordinary bus.
        seen: list[object] = []
        h.bus.subscribe(Audited, seen.append)
        await h.emit(Order(3))
        assert seen == [Audited(3, "x")]
        await trio.sleep(2)  # the hook, on the mock clock
        assert seen[-1] == Audited(3, "hook")


async def test_an_instance_is_run_as_given(autojump_clock: object) -> None:
    plugin = ShopPlugin(ShopOptions(tax=1))
    async with plugin_harness(plugin) as h:
        assert h.plugin is plugin
        assert (await h.emit(Order(1))).total == 1
    async with plugin_harness(plugin) as h:  # twice in a row
        assert plugin.events == ["start", "stop", "start"]


async def test_options_come_from_config_too() -> None:
    config = {"pipe_timeout": 3, "plugins": {"shop": {"tax": 7}}}
    async with plugin_harness(ShopPlugin, config=config) as h:
        assert h.plugin.options.tax == 7
        assert h.bus.settings.pipe_timeout == 3
    async with plugin_harness(ShopPlugin, {"label": "y"}, config=config) as h:
        assert h.plugin.options == ShopOptions(tax=7, label="y")
    bus_config = eventbus.BusConfig(listener_timeout=4)
    async with plugin_harness(ShopPlugin, config=bus_config) as h:
        assert h.bus.settings.listener_timeout == 4


async def test_config_from_a_toml_file(tmp_path: Path) -> None:
    file = tmp_path / "eventbus.toml"
    file.write_text("hook_timeout = 9\n[plugins.shop]\ntax = 2\n", encoding="utf-8")
    async with plugin_harness(ShopPlugin, config=file) as h:
        assert h.bus.settings.hook_timeout == 9
        assert h.plugin.options.tax == 2


async def test_a_config_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(eventbus.ConfigError, match="cannot read"):
        async with plugin_harness(ShopPlugin, config=tmp_path / "missing.toml"):
            pass  # pragma: no cover
    (tmp_path / "pyproject.toml").write_text(
        "[tool.eventbus]\npipe_timeout = 2\n", encoding="utf-8"
    )
    async with plugin_harness(ShopPlugin, config=str(tmp_path / "pyproject.toml")) as h:
        assert h.bus.settings.pipe_timeout == 2


async def test_the_working_directory_config_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "eventbus.toml").write_text("pipe_timeout = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    async with plugin_harness(ShopPlugin) as h:
        assert h.bus.settings.pipe_timeout is None


async def test_bad_options_fail_as_the_bus_reports_them() -> None:
    with pytest.raises(eventbus.PluginError) as info:
        async with plugin_harness(ShopPlugin, {"tax": "lots"}):
            pass  # pragma: no cover
    assert info.value.phase == "config"
    assert "plugins.shop.tax" in str(info.value)


async def test_wrong_arguments() -> None:
    with pytest.raises(TypeError, match="an instance has its options already"):
        async with plugin_harness(ShopPlugin(ShopOptions()), ShopOptions()):  # type: ignore[call-overload]
            pass  # pragma: no cover
    with pytest.raises(TypeError, match=r"takes an eventbus.Plugin, got <class 'int'>"):
        async with plugin_harness(int):  # type: ignore[type-var]
            pass  # pragma: no cover
    with pytest.raises(TypeError, match=r"config=\.\.\.\) takes a mapping"):
        async with plugin_harness(ShopPlugin, config=42):
            pass  # pragma: no cover


class Quiet(eventbus.Plugin):
    """No handlers: the harness cannot find an instance the bus made."""


async def test_a_plugin_without_handlers() -> None:
    async with plugin_harness(Quiet) as h:
        assert h.info.subscriptions == ()
        with pytest.raises(AttributeError, match=r"Pass an instance instead"):
            h.plugin  # noqa: B018 - the property under test
    async with plugin_harness(Quiet()) as h:
        assert isinstance(h.plugin, Quiet)


class Storage(eventbus.Plugin):
    name = "storage"

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        self.rows: list[int] = []
        yield


class NeedsStorage(eventbus.Plugin):
    name = "needs-storage"
    requires = ("storage",)

    @eventbus.listener(Order)
    def save(self, event: Order) -> None:
        pass


async def test_requirements_given_as_instances() -> None:
    storage = Storage()
    async with plugin_harness(NeedsStorage, requires=[storage]) as h:
        assert [p.name for p in h.bus.plugins] == [
            "eventbus.testing.harness",
            "storage",
            "needs-storage",
        ]
        assert storage.rows == []


async def test_a_missing_requirement_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTBUS_DISABLE_PLUGIN_AUTOLOAD", "1")
    with pytest.raises(eventbus.PluginError) as info:
        async with plugin_harness(NeedsStorage):
            pass  # pragma: no cover
    assert "requires 'storage'" in str(info.value)
    assert "plugin_harness(..., requires=[StoragePlugin(...)])" in info.value.__notes__[-1]


DISCOVERED = """
    import asyncio
    import trio
    from eventbus.testing import plugin_harness
    from ebfake_app import Order, NeedsStorage

    async def main():
        async with plugin_harness(NeedsStorage) as h:
            print([(p.name, p.distribution, p.state) for p in h.bus.plugins])
            await h.emit(Order(1))

    trio.run(main)
"""


def test_requirements_are_discovered_through_entry_points(tmp_path: Path) -> None:
    # A real dist-info, as pip writes it: the bus and the harness read it through
    # importlib-metadata. The unrelated "noisy" plugin must not be loaded.
    site = tmp_path / "site"
    info = site / "fake_storage-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-storage\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[eventbus.plugins]\n"
        "storage = ebfake_storage:Storage\n"
        "disk = ebfake_storage:Disk\n"
        "noisy = ebfake_storage:Noisy\n",
        encoding="utf-8",
    )
    (site / "ebfake_storage.py").write_text(
        textwrap.dedent(
            """
            import eventbus

            class Disk(eventbus.Plugin):
                pass

            class Storage(eventbus.Plugin):
                requires = ("disk",)

            class Noisy(eventbus.Plugin):
                def __init__(self):
                    raise RuntimeError("loaded although nobody asked for it")
            """
        ),
        encoding="utf-8",
    )
    (site / "ebfake_app.py").write_text(
        textwrap.dedent(
            """
            import attrs, eventbus

            @attrs.frozen
            class Order(eventbus.Event):
                id: int

            class NeedsStorage(eventbus.Plugin):
                name = "needs-storage"
                requires = ("storage",)

                @eventbus.listener(Order)
                def save(self, event):
                    pass
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "EVENTBUS_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DISCOVERED)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Started in requires order; "noisy" is listed as disabled, never loaded.
    assert result.stdout.strip() == str(
        [
            ("eventbus.testing.harness", None, "running"),
            ("disk", "fake-storage", "running"),
            ("storage", "fake-storage", "running"),
            ("needs-storage", None, "running"),
            ("noisy", "fake-storage", "disabled"),
        ]
    )
