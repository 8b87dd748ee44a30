"""``eventbus demo``, run for real: every part of the tour, in a few seconds, exit 0."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from clisupport import ANSI, project_fixture, run_cli, shop_site_fixture  # noqa: F401 - fixtures

if TYPE_CHECKING:
    from pathlib import Path

# Lines the demo must print, one per part of the tour.
DEMO_LINES = (
    "trio-eventbus demo",
    # a pipe chain, in order (check_stock has order=-10)
    "pipe check_stock",
    "pipe apply_price",
    # a rejected event
    "Rejected: only 0 kettle in stock",
    "apply_price never saw order 2",
    # listener fan-out
    "listener send_email",
    "listener reserve_stock",
    "listener update_dashboard",
    "the listeners overlapped",
    # a hook behind a bounded queue
    "hook record_view",
    "all 5 views stored, in emit order",
    # a scope
    "name='request-1'",
    "(scope request-1) inside request-1",
    "(root) on the root",
    "its subscriptions are gone",
    # a timeout
    "ListenerError with 1 failure(s)",
    "HandlerTimeout (also a TimeoutError)",
    # the stats, and a clean close
    "bus.stats()",
    "nothing is left running",
)


@pytest.mark.parametrize("no_color", [None, "1"], ids=["piped", "NO_COLOR"])
def test_demo_runs_the_whole_tour_in_a_few_seconds(tmp_path: Path, no_color: str | None) -> None:
    started = time.monotonic()
    result = run_cli("demo", cwd=tmp_path, NO_COLOR=no_color)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    missing = [line for line in DEMO_LINES if line not in result.stdout]
    assert not missing, f"missing from the demo output: {missing}\n{result.stdout}"
    # stdout is a pipe here, so never colour, whatever NO_COLOR says.
    assert not ANSI.search(result.stdout)
    assert took < 10, f"the demo took {took:.1f}s"


def test_demo_pipes_run_in_chain_order(tmp_path: Path) -> None:
    out = run_cli("demo", cwd=tmp_path).stdout
    assert out.index("pipe check_stock") < out.index("pipe apply_price")


def test_demo_scoped_listener_does_not_see_root_emits(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(scope request-1) inside request-1" in result.stdout
    assert "(scope request-1) on the root" not in result.stdout
    assert "(scope request-1) after the scope" not in result.stdout


def test_demo_ignores_installed_plugins_and_the_config(project: Path, shop_site: Path) -> None:
    # A broken plugin and a config in the working directory change nothing.
    result = run_cli("demo", cwd=project, site=shop_site)
    assert result.returncode == 0, result.stderr
    assert "legacy" not in result.stdout + result.stderr


def test_demo_color_always_colours(tmp_path: Path) -> None:
    result = run_cli("demo", "--color=always", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ANSI.search(result.stdout)
