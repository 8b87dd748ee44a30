"""``eventbus graph``: the order emit uses, in text, Mermaid and Graphviz dot.

The subprocess tests run the installed command against the shop fixture
distributions. The in-process tests prove the central promise, that the
graph is the order ``emit`` runs, for arbitrary plugins, orders and
before/after constraints (hypothesis), and for scopes.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pytest
import shop
import trio
from clisupport import (  # noqa: F401 - fixtures
    ANSI,
    empty_site_fixture,
    environment,
    project_fixture,
    run_cli,
    shop_site_fixture,
)
from hypothesis import event, given
from hypothesis import strategies as st
from mermaid_grammar import parse, unescape

import eventbus
from eventbus._cli_graph import graph_dot, graph_mermaid, graph_text
from eventbus._cli_inspect import EventGraph, graph_of
from eventbus._cli_text import Style
from eventbus._lifecycle import without_lifespans

if TYPE_CHECKING:
    from pathlib import Path

ORDER_PLACED_PIPES = [
    "Inventory.check_stock",  # order -10
    "Fraud.screen",  # order -20, but after="inventory"
    "Pricing.apply_price",  # order 0
    "Pricing.apply_discount",  # order 5, a plain function in a thread
]


def have_dot() -> bool:
    """Whether Graphviz's ``dot`` can check our output: skipped locally, required in CI."""
    if shutil.which("dot") is not None:
        return True
    if os.environ.get("CI"):
        pytest.fail("Graphviz `dot` is missing; .ci/run installs it (apt-get install graphviz)")
    return False


needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"),
    reason="Graphviz `dot` is not installed (.ci/run installs it)",
)


@pytest.fixture
def clean_project(project: Path) -> Path:
    (project / "eventbus.toml").write_text(shop.CLEAN_CONFIG, encoding="utf-8")
    return project


def graph(project: Path, site: Path, *args: str) -> str:
    result = run_cli("graph", *args, cwd=project, site=site)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def sections(text: str) -> dict[str, list[list[str]]]:
    """The text graph as {event title: [[section heading, handler, ...]]}."""
    found: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    heading = ""
    for line in text.splitlines()[1:]:
        if not line:
            continue
        if not line.startswith(" "):
            current = found.setdefault(line.split("  (")[0], [])
        elif not line.startswith("    "):
            heading = line.strip().split(",")[0]
        else:
            current.append([heading, *line.split()])
    return found


# --- text ------------------------------------------------------------------------------


def test_text_shows_the_pipe_chain_in_order_then_listeners_and_hooks(
    clean_project: Path, shop_site: Path
) -> None:
    out = graph(clean_project, shop_site)
    assert out.startswith("3 event types, 10 handlers (config eventbus.toml, autoload on)")
    placed = sections(out)["shop.OrderPlaced"]
    pipes = [row for row in placed if row[0] == "pipes"]
    assert [row[2] for row in pipes] == ORDER_PLACED_PIPES
    assert [row[1] for row in pipes] == ["1.", "2.", "3.", "4."]
    # owner, order, effective timeout (pipe_timeout = 2.0 applies when unset), mode
    assert pipes[0][3:9] == ["inventory", "order", "-10", "timeout", "0.5s", "async"]
    assert pipes[1][3:] == ["fraud", "order", "-20", "timeout", "2s", "async", "after", "inventory"]
    assert pipes[3][3:] == ["pricing", "order", "5", "timeout", "2s", "thread"]
    (listener,) = [row for row in placed if row[0] == "listeners"]
    assert listener[2:] == [
        "Mailer.send_confirmation",
        "mailer",
        "order",
        "0",
        "timeout",
        "5s",
        "async",
    ]
    (hook,) = [row for row in placed if row[0] == "hooks"]
    assert hook[2:4] == ["Mailer.archive", "mailer"]
    assert "via shop.ShopEvent;" in " ".join(hook)
    paid = sections(out)["shop.OrderPaid"]
    assert [row[2] for row in paid if row[0] == "hooks"] == ["Audit.record", "Mailer.archive"]
    assert "2 workers" in " ".join(paid[1])
    # A plain-function listener runs inline: no timeout can interrupt it.
    assert paid[0][2:] == ["Inventory.reserve", "inventory", "order", "0", "no", "timeout", "sync"]


def test_the_order_is_the_order_a_real_emit_runs(clean_project: Path, shop_site: Path) -> None:
    script = textwrap.dedent(
        """
        import trio, eventbus, shop_events

        async def main():
            async with eventbus.open_bus() as bus:  # eventbus.toml of the working directory
                await bus.emit(shop_events.OrderPlaced(order_id=1))
            print("\\n".join(shop_events.CALLS))

        trio.run(main)
        """
    )
    emitted = subprocess.run(
        [sys.executable, "-c", script],
        cwd=clean_project,
        env=environment(shop_site),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert emitted.returncode == 0, emitted.stderr
    shown = sections(graph(clean_project, shop_site))["shop.OrderPlaced"]
    assert [row[2] for row in shown if row[0] == "pipes"] == emitted.stdout.split()
    assert emitted.stdout.split() == ORDER_PLACED_PIPES


def test_event_selects_by_wire_name_or_glob(clean_project: Path, shop_site: Path) -> None:
    assert list(sections(graph(clean_project, shop_site, "--event", "shop.OrderPaid"))) == [
        "shop.OrderPaid"
    ]
    assert list(sections(graph(clean_project, shop_site, "--event", "shop.Order*"))) == [
        "shop.OrderPaid",
        "shop.OrderPlaced",
    ]
    both = graph(clean_project, shop_site, "--event", "shop.ShopEvent", "--event", "*Paid")
    assert list(sections(both)) == ["shop.OrderPaid", "shop.ShopEvent"]


def test_an_event_that_nothing_subscribes_to_is_a_usage_error(
    clean_project: Path, shop_site: Path
) -> None:
    result = run_cli("graph", "--event", "shop.Refund", cwd=clean_project, site=shop_site)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--event shop.Refund matches no subscribed event type" in result.stderr
    assert "known: shop.OrderPaid, shop.OrderPlaced, shop.ShopEvent" in result.stderr


def test_failed_and_disabled_plugins_are_not_in_the_graph(project: Path, shop_site: Path) -> None:
    out = graph(project, shop_site)  # legacy fails to import, metrics is disabled
    assert "Metrics" not in out
    assert "Legacy" not in out
    assert "Inventory.check_stock" in out


def test_nothing_subscribed(tmp_path: Path, empty_site: Path) -> None:
    out = graph(tmp_path, empty_site)
    assert out.startswith("0 event types, 0 handlers")
    assert "Nothing subscribes" in out


def test_an_invalid_config_exits_1(project: Path, shop_site: Path) -> None:
    (project / "eventbus.toml").write_text("listener_timeout = -1\n")
    result = run_cli("graph", cwd=project, site=shop_site)
    assert result.returncode == 1
    assert "listener_timeout: expected a finite number of seconds >= 0" in result.stderr


# --- mermaid -----------------------------------------------------------------------------


def test_mermaid_follows_the_flowchart_grammar_and_the_plan(
    clean_project: Path, shop_site: Path
) -> None:
    chart = parse(graph(clean_project, shop_site, "--format", "mermaid"))
    assert chart.direction == "LR"
    titles = dict(chart.subgraphs.values())
    assert sorted(titles) == ["shop.OrderPaid", "shop.OrderPlaced", "shop.ShopEvent"]
    placed = titles["shop.OrderPlaced"]
    labels = {node: unescape(chart.nodes[node][1]) for node in placed}
    shapes = {node: chart.nodes[node][0] for node in placed}
    pipes = [n for n in placed if shapes[n] == "square"]
    assert [labels[n].split("\n")[0] for n in pipes] == [
        f"pipe {i}: {name}" for i, name in enumerate(ORDER_PLACED_PIPES, 1)
    ]
    assert labels[pipes[0]].split("\n")[1] == "inventory, order -10, timeout 0.5s"
    # The chain: emit -> pipe 1 -> ... -> pipe 4 -> listener (solid) and hook (dotted).
    (start,) = [n for n in placed if shapes[n] == "circle"]
    edges = [(a, b, arrow) for a, b, arrow in chart.edges if a in placed]
    chain = [start, *pipes]
    assert [(a, b) for a, b, _ in edges[: len(pipes)]] == list(itertools.pairwise(chain))
    (listener,) = [n for n in placed if shapes[n] == "round"]
    (hook,) = [n for n in placed if shapes[n] == "lean_right"]
    assert (pipes[-1], listener, "-->") in edges
    assert (pipes[-1], hook, "-.->") in edges
    assert labels[hook].split("\n")[2] == "via shop.ShopEvent"


def test_mermaid_of_nothing_is_still_a_diagram(tmp_path: Path, empty_site: Path) -> None:
    chart = parse(graph(tmp_path, empty_site, "--format", "mermaid"))
    assert list(chart.nodes) == ["E0"]


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_machine_formats_are_never_coloured(clean_project: Path, shop_site: Path, fmt: str) -> None:
    out = graph(clean_project, shop_site, "--format", fmt, "--color=always")
    assert not ANSI.search(out)
    assert ANSI.search(graph(clean_project, shop_site, "--color=always"))


# --- dot ---------------------------------------------------------------------------------


def render_svg(source: str) -> ET.Element:
    result = subprocess.run(
        ["dot", "-Tsvg"], input=source, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # no warnings either
    return ET.fromstring(result.stdout)


SVG = "{http://www.w3.org/2000/svg}"


def svg_titles(svg: ET.Element, kind: str) -> list[str]:
    return [
        title.text or ""
        for group in svg.iter(f"{SVG}g")
        if group.get("class") == kind
        for title in group.findall(f"{SVG}title")
    ]


@needs_dot
def test_dot_is_accepted_by_graphviz(clean_project: Path, shop_site: Path) -> None:
    svg = render_svg(graph(clean_project, shop_site, "--format", "dot"))
    assert sorted(svg_titles(svg, "cluster")) == ["cluster_E1", "cluster_E2", "cluster_E3"]
    nodes = svg_titles(svg, "node")
    # OrderPaid: emit, 1 listener, 2 hooks; OrderPlaced: emit, 4 pipes, 1 listener, 1 hook;
    # ShopEvent: emit, 1 hook.
    assert len(nodes) == 4 + 7 + 2
    edges = svg_titles(svg, "edge")
    assert "E2S&#45;&gt;E2P1" in edges or "E2S->E2P1" in edges
    assert len(edges) == 3 + 6 + 1


@needs_dot
def test_dot_of_nothing_is_accepted(tmp_path: Path, empty_site: Path) -> None:
    render_svg(graph(tmp_path, empty_site, "--format", "dot"))


# --- in process: the graph is the order emit runs ------------------------------------------


@attrs.frozen
class Ping(eventbus.Event):
    n: int = 0


@attrs.frozen
class SubPing(Ping):
    pass


CALLS: list[str] = []


def _pipe_method(qualname: str, *, is_async: bool = False) -> Callable[[Any, Any], Any]:
    def handler(self: Any, event: Any) -> Any:
        CALLS.append(qualname)
        return event

    async def async_handler(self: Any, event: Any) -> Any:
        CALLS.append(qualname)
        return event

    if is_async:
        handler = async_handler  # type: ignore[assignment]
    handler.__qualname__ = qualname
    handler.__name__ = qualname.rpartition(".")[2]
    return handler


def make_plugin(
    name: str, pipes: list[tuple[int, tuple[str, ...], tuple[str, ...], bool, bool]]
) -> type:
    namespace: dict[str, Any] = {"name": name}
    for index, (order, before, after, on_base, is_async) in enumerate(pipes):
        method = _pipe_method(f"P_{name}.p{index}", is_async=is_async)
        event_type = Ping if on_base else SubPing
        namespace[f"p{index}"] = eventbus.pipe(event_type, order=order, before=before, after=after)(
            method
        )
    return type(f"P_{name}", (eventbus.Plugin,), namespace)


NAMES = ("a", "b", "c", "d")


@st.composite
def plugin_sets(draw: st.DrawFn) -> list[type]:
    count = draw(st.integers(1, len(NAMES)))
    names = NAMES[:count]
    plugins = []
    for name in names:
        others = [n for n in names if n != name]
        # Mostly no constraint: with many, nearly every example is a cycle.
        constraint = st.sampled_from([None, None, None, *others]).map(
            lambda other: () if other is None else (other,)
        )
        pipe = st.tuples(
            st.integers(-2, 2),
            constraint if others else st.just(()),
            constraint if others else st.just(()),
            st.booleans(),
            st.booleans(),
        )
        plugins.append(make_plugin(name, draw(st.lists(pipe, max_size=3))))
    return draw(st.permutations(plugins))


def _pipes_of(graphs: tuple[EventGraph, ...], event: str, scope: str | None = None) -> list[str]:
    (found,) = [g for g in graphs if g.event == event and g.scope == scope]
    return [step.handler for step in found.pipes]


APP_ORDERS = (1, -1)


def _app_pipe(qualname: str) -> Callable[[Any], Any]:
    def handler(event: Any) -> Any:
        CALLS.append(qualname)
        return event

    handler.__qualname__ = qualname
    return handler


def _subscribe_app_pipes(bus: eventbus.Bus) -> None:
    # Handlers of the application itself (no owner) take part in the same order.
    for order in APP_ORDERS:
        bus.pipe(SubPing, order=order)(_app_pipe(f"app.order{order}"))


@given(plugin_sets())
def test_graph_is_the_order_emit_runs(plugins: list[type]) -> None:
    async def scenario() -> None:
        # What `eventbus graph` builds: no lifespans, failures recorded.
        with without_lifespans():
            async with eventbus.open_bus({}, plugins=plugins, discover=False, strict=False) as bus:
                failed = [info.name for info in bus.plugins if info.state == "failed"]
                _subscribe_app_pipes(bus)
                shown = graph_of(bus)
        # What an application runs.
        error: eventbus.PluginError | None = None
        try:
            async with eventbus.open_bus({}, plugins=plugins, discover=False) as bus:
                _subscribe_app_pipes(bus)
                CALLS.clear()
                await bus.emit(SubPing())
        except eventbus.PluginError as exc:
            error = exc
        if error is not None:
            # A before/after cycle: the graph's inspection reports it as a failure.
            assert error.phase == "start"
            assert isinstance(error.__cause__, eventbus.OrderError)
            assert failed
            event("a before/after cycle")
            return
        assert not failed
        event(f"{len(CALLS)} pipes")
        assert _pipes_of(shown, eventbus.wire_name(SubPing)) == CALLS

    trio.run(scenario)


async def test_scoped_plugins_are_shown_under_their_scope() -> None:
    class RootPlugin(eventbus.Plugin):
        name = "root"
        p = eventbus.pipe(Ping, order=1)(_pipe_method("RootPlugin.p", is_async=True))

    class ScopedPlugin(eventbus.Plugin):
        name = "scoped"
        p = eventbus.pipe(SubPing, order=0)(_pipe_method("ScopedPlugin.p", is_async=True))

    async with (
        eventbus.open_bus({}, plugins=[RootPlugin], discover=False) as bus,
        bus.scope("request-1", timeout=3.0) as scope,
    ):
        await scope.add_plugin(ScopedPlugin)
        graphs = graph_of(bus)
        CALLS.clear()
        await scope.emit(SubPing())
    sub_ping = f"{SubPing.__module__}.SubPing"
    ping = f"{Ping.__module__}.Ping"
    assert [(g.event, g.scope) for g in graphs] == [(ping, None), (sub_ping, "request-1")]
    (scoped,) = [g for g in graphs if g.scope == "request-1"]
    # The scope's plan merges its own pipe with the bus's (order 0 before 1),
    # and the scope's timeout applies to both.
    assert [(s.handler, s.owner, s.scope, s.timeout, s.via) for s in scoped.pipes] == [
        ("ScopedPlugin.p", "scoped", "request-1", 3.0, None),
        ("RootPlugin.p", "root", None, 3.0, ping),
    ]
    assert [s.handler for s in scoped.pipes] == CALLS
    text = graph_text(graphs, Style(color=False), where="test")
    assert f"scope request-1: {sub_ping}" in text
    assert "from the bus" in text
    parse(graph_mermaid(graphs))
    if have_dot():
        render_svg(graph_dot(graphs))


async def test_labels_are_escaped_for_mermaid_and_dot() -> None:
    async with (
        eventbus.open_bus({}, discover=False) as bus,
        bus.scope('end "x" <y> #1 \\ `z`') as scope,
    ):
        scope.listener(Ping)(lambda event: None)
        scope.hook(Ping)(print)
        graphs = graph_of(bus)
    chart = parse(graph_mermaid(graphs))
    (title,) = [title for title, _ in chart.subgraphs.values()]
    assert unescape(title) == f'scope end "x" <y> #1 \\ `z`: {Ping.__module__}.Ping'
    labels = [unescape(text) for _, text in chart.nodes.values()]
    assert any(
        label.startswith("test_labels_are_escaped_for_mermaid_and_dot.<locals>.<lambda>")
        for label in labels
    )
    if have_dot():
        svg = render_svg(graph_dot(graphs))
        texts = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
        assert 'end "x" <y> #1 \\ `z`' in texts
