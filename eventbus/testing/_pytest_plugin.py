"""The pytest plugin of ``eventbus.testing``: the ``bus`` and ``recorder`` fixtures.

Registered through the ``pytest11`` entry point ``eventbus`` (installed with
trio-eventbus), so every pytest run in an environment that has
trio-eventbus sees it. It is inert unless a test asks for its fixtures: it
defines no hooks and imports neither hypothesis nor anything else heavy.

The fixtures are trio fixtures (pytest-trio): use them from ``async def``
tests run by pytest-trio (``trio_mode = true`` in the pytest configuration,
or ``@pytest.mark.trio`` on the test).

Time: ask for pytest-trio's ``autojump_clock`` fixture as well, and the
test runs on ``trio.testing.MockClock(autojump_threshold=0)``: whenever
every task is waiting, the clock jumps to the next deadline, so handler
timeouts, ``emit(timeout=...)``, ``wait_for(timeout=...)`` and sleeps in
handlers take no real time and always happen in the same order::

    async def test_slow_pipe_times_out(bus, autojump_clock):
        bus.pipe(Job, timeout=2)(slow_pipe)
        with pytest.raises(eventbus.HandlerTimeout):
            await bus.emit(Job())  # 2 s on the mock clock, instant in reality

To configure the ``bus`` fixture, override ``eventbus_config`` in a
``conftest.py`` (or a test module)::

    @pytest.fixture
    def eventbus_config():
        return {"listener_timeout": 5}
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import eventbus

from ._recorder import Recorder

__all__ = ["bus", "eventbus_config", "recorder"]


@pytest.fixture
def eventbus_config() -> Any:
    """The configuration the ``bus`` fixture opens with (default: ``{}``).

    Return a mapping or an ``eventbus.BusConfig``; the working directory's
    ``eventbus.toml`` is not read, and autoload stays off whatever it says.
    """
    return {}


@pytest.fixture
async def bus(eventbus_config: Any) -> AsyncIterator[eventbus.Bus]:
    """An open ``eventbus.Bus`` with plugin autoload off, closed after the test.

    It runs on the test's own trio run. Add plugins in the test with
    ``eventbus.testing.plugin_harness``; ask for ``autojump_clock`` too to put
    timeouts on a mock clock.
    """
    async with eventbus.open_bus(eventbus_config, discover=False) as opened:
        yield opened


@pytest.fixture
async def recorder(bus: eventbus.Bus) -> AsyncIterator[Recorder]:
    """A ``Recorder`` on the ``bus`` fixture: ``recorder.subscribe(T)``, then assert.

    ``recorder.events`` lists what it saw, in order; ``recorder.of(T)``
    filters by type; ``recorder.assert_seen(*events)`` and
    ``recorder.assert_seen_in_order(*events)`` explain what is missing.
    """
    seen = Recorder(bus)
    try:
        yield seen
    finally:
        seen.stop()
