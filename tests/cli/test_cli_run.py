"""``eventbus run``: start, ``ready``, a signal, the plugins stopped in reverse, exit status.

The command runs in a subprocess against the installed shop distributions;
the tests read its log lines (stderr) as they come and send real signals.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import shop
from clisupport import (  # noqa: F401 - fixtures
    ANSI,
    Server,
    empty_site_fixture,
    messages,
    project_fixture,
    shop_site_fixture,
)
from distinfo import write_dist

if TYPE_CHECKING:
    from pathlib import Path

START_ORDER = ["audit", "fraud", "inventory", "mailer", "pricing"]

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGTERM") or not hasattr(signal, "SIGKILL"), reason="POSIX signals"
)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Kills whatever a failed test left running."""
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


def serve(servers: list[Server], project: Path, site: Path, *args: str) -> Server:
    server = Server(*args, cwd=project, site=site)
    servers.append(server)
    return server


def write_config(project: Path, top: str = "", *, audit: str = "") -> None:
    """The docs' clean config, with ``top`` keys first and ``audit`` options added."""
    (project / "eventbus.toml").write_text(
        top + shop.CLEAN_CONFIG.replace('table = "orders"\n', f'table = "orders"\n{audit}')
    )


def indexes(lines: list[str], texts: list[str]) -> list[int]:
    found = []
    for text in texts:
        matching = [i for i, line in enumerate(lines) if text in line]
        assert len(matching) == 1, (text, "\n".join(lines))
        found.append(matching[0])
    return found


def test_sigint_stops_the_plugins_in_reverse_and_exits_0(
    servers: list[Server], project: Path, shop_site: Path
) -> None:
    write_config(project)
    server = serve(servers, project, shop_site)
    ready = server.wait_for("ready")
    assert ready.endswith(
        "eventbus.cli: ready: 5 plugins running (audit, fraud, inventory, mailer, pricing); "
        "press Ctrl-C or send SIGTERM to stop"
    )
    server.send(signal.SIGINT)
    assert server.finish() == 0
    lines = messages(server.lines)
    assert lines[0] == "eventbus.cli: config: eventbus.toml"
    starting = indexes(lines, [f"starting plugin {name!r}" for name in START_ORDER])
    started = indexes(lines, [f"plugin {name!r} started" for name in START_ORDER])
    assert starting == sorted(starting)
    assert all(a < b for a, b in zip(starting, started, strict=True))
    # Each lifespan runs between its plugin's starting and started lines.
    (opened,) = indexes(lines, ["price list loaded"])
    assert starting[-1] < opened < started[-1]
    (signalled,) = indexes(lines, ["SIGINT received: stopping the plugins"])
    assert signalled > lines.index(messages([ready])[0])
    stopping = indexes(lines, [f"stopping plugin {name!r}" for name in reversed(START_ORDER)])
    stopped = indexes(lines, [f"plugin {name!r} stopped" for name in reversed(START_ORDER)])
    assert signalled < stopping[0]
    assert stopping == sorted(stopping)
    assert all(a < b for a, b in zip(stopping, stopped, strict=True))
    (closed,) = indexes(lines, ["price list closed"])
    assert stopping[0] < closed < stopped[0]
    assert lines[-1] == "eventbus.cli: stopped"
    assert not any(ANSI.search(line) for line in server.lines)  # stderr is a pipe
    assert server.stdout == ""


def test_sigterm_waits_for_a_slow_lifespan_to_stop_then_exits_0(
    servers: list[Server], project: Path, shop_site: Path
) -> None:
    write_config(project, audit="stop_delay = 1.0\n")
    server = serve(servers, project, shop_site)
    server.wait_for("ready")
    sent = time.monotonic()
    server.send(signal.SIGTERM)
    server.wait_for("flushing the audit table (1s)")
    assert server.finish() == 0
    took = time.monotonic() - sent
    lines = messages(server.lines)
    assert "SIGTERM received: stopping the plugins" in "\n".join(lines)
    flushing, closed, stopped, done = indexes(
        lines,
        [
            "flushing the audit table",
            "audit table 'orders' closed",
            "plugin 'audit' stopped",
            "eventbus.cli: stopped",
        ],
    )
    assert flushing < closed < stopped < done
    assert took >= 1.0


def test_a_second_signal_while_stopping_exits_at_once(
    servers: list[Server], project: Path, shop_site: Path
) -> None:
    write_config(project, audit="stop_delay = 60.0\n")
    server = serve(servers, project, shop_site)
    server.wait_for("ready")
    server.send(signal.SIGINT)
    server.wait_for("flushing the audit table (60s)")
    sent = time.monotonic()
    server.send(signal.SIGTERM)
    assert server.finish(timeout=30) == 128 + signal.SIGTERM
    assert time.monotonic() - sent < 20
    lines = messages(server.lines)
    assert lines[-1] == (
        "eventbus.cli: SIGTERM received again: exiting now, without waiting for the plugins to stop"
    )
    assert not any("plugin 'audit' stopped" in line for line in lines)


def test_a_lifespan_past_its_stop_timeout_fails_the_run(
    servers: list[Server], project: Path, shop_site: Path
) -> None:
    write_config(project, "stop_timeout = 0.5\n", audit="stop_delay = 30.0\n")
    server = serve(servers, project, shop_site)
    server.wait_for("ready")
    server.send(signal.SIGTERM)
    assert server.finish() == 1
    text = "\n".join(messages(server.lines))
    assert "plugin 'audit' (from shop-audit 1.0.0) failed to stop" in text
    assert "stop_timeout=0.5s" in text
    # The others stopped all the same, before it.
    assert "plugin 'pricing' stopped" in text
    assert "plugin 'fraud' stopped" in text
    assert messages(server.lines)[-1] == "eventbus.cli: stopped, with errors"


def test_a_plugin_that_fails_to_start_fails_the_run(
    servers: list[Server], project: Path, shop_site: Path
) -> None:
    # The docs' eventbus.toml enables legacy, which cannot be imported (strict by default).
    server = serve(servers, project, shop_site)
    assert server.finish() == 1
    text = "\n".join(messages(server.lines))
    assert "plugin 'legacy' (from shop-legacy 0.1.0) failed to load" in text
    assert "ready" not in text
    assert messages(server.lines)[-1] == "eventbus.cli: stopped, with errors"


def test_an_invalid_config_fails_the_run(
    servers: list[Server], project: Path, shop_site: Path
) -> None:
    (project / "eventbus.toml").write_text("stop_timeout = 'later'\n")
    server = serve(servers, project, shop_site)
    assert server.finish() == 1
    text = "\n".join(messages(server.lines))
    assert "invalid configuration in" in text
    assert "stop_timeout: expected a number of seconds" in text


SLOW_START = """
import contextlib
import logging

import trio

import eventbus

log = logging.getLogger("eventbus.plugin.slow")


class Slow(eventbus.Plugin):
    @contextlib.asynccontextmanager
    async def lifespan(self, bus):
        log.info("warming up")
        await trio.sleep(60)
        yield
"""

FAST = """
import contextlib
import logging

import eventbus

log = logging.getLogger("eventbus.plugin.fast")


class Fast(eventbus.Plugin):
    @contextlib.asynccontextmanager
    async def lifespan(self, bus):
        yield
        log.info("fast cleaned up")
"""


def test_a_signal_during_the_start_stops_what_started(
    servers: list[Server], tmp_path: Path, empty_site: Path
) -> None:
    write_dist(
        empty_site, "run-fast", entry_points={"fast": "run_fast:Fast"}, modules={"run_fast": FAST}
    )
    write_dist(
        empty_site,
        "run-slow",
        entry_points={"slow": "run_slow:Slow"},
        modules={"run_slow": SLOW_START},
    )
    server = serve(servers, tmp_path, empty_site)
    server.wait_for("warming up")
    server.send(signal.SIGINT)
    assert server.finish() == 0
    lines = messages(server.lines)
    text = "\n".join(lines)
    assert "SIGINT received while starting: stopping what has started" in text
    assert "fast cleaned up" in text
    assert "ready" not in text
    assert lines[-1] == "eventbus.cli: stopped"
