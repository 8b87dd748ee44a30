"""Rendering ``eventbus graph``: text, Mermaid and Graphviz dot.

All three draw the same :class:`~eventbus._cli_inspect.EventGraph` records,
one per event type (and per scope): the emit enters the pipe chain, whose
last pipe hands the event to every listener (solid edges: the emitter waits)
and to every hook (dashed edges: queued, the emitter does not wait).

Node identifiers are generated (``E1``, ``E1P2``, ``E1L1``, ``E1H1``): upper
case, so that none can be read as a Mermaid keyword (``end``, ``style``,
``class``...). Labels are escaped for each grammar: Mermaid entity codes
(``#34;``), dot backslash escapes; and no label line starts like a Markdown
list item (``1. ``), which Mermaid refuses to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._cli_text import Cell, Style, format_seconds, table

if TYPE_CHECKING:
    from ._cli_inspect import EventGraph, Step

__all__ = ["graph_dot", "graph_mermaid", "graph_text"]


def _owner(step: Step) -> str:
    return step.owner or "(app)"


def _title(graph: EventGraph) -> str:
    return f"scope {graph.scope}: {graph.event}" if graph.scope else graph.event


def _relations(step: Step) -> list[str]:
    """Why a step sits where it does beyond its order: base class, before/after."""
    notes = []
    if step.via:
        notes.append(f"via {step.via}")
    if step.before:
        notes.append("before " + ", ".join(step.before))
    if step.after:
        notes.append("after " + ", ".join(step.after))
    return notes


def _notes(step: Step, graph: EventGraph) -> str:
    notes = _relations(step)
    if graph.scope is not None:
        notes.append(f"scope {step.scope}" if step.scope else "from the bus")
    if step.kind == "hook":
        workers = f", {step.concurrency} workers" if (step.concurrency or 1) > 1 else ""
        notes.append(f"queue {step.capacity}{workers}, overflow {step.overflow}")
    elif step.kind == "stream":
        notes.append(f"stream, queue {step.capacity}")
    return "; ".join(notes)


def _timeout(step: Step) -> str:
    return format_seconds(step.timeout, prefix="timeout ")


# --- text -----------------------------------------------------------------------------------


def _sections(graph: EventGraph) -> tuple[tuple[str, tuple[Step, ...]], ...]:
    return (
        ("pipes, in this order:", graph.pipes),
        ("listeners, all at once after the pipes:", graph.listeners),
        ("hooks, queued in the background:", graph.hooks),
    )


def graph_text(graphs: Sequence[EventGraph], style: Style, *, where: str) -> str:
    """``eventbus graph``: per event type, its pipes in order, listeners and hooks."""
    handlers = sum(len(g.pipes) + len(g.listeners) + len(g.hooks) for g in graphs)
    events = len({g.event for g in graphs})
    lines = [
        style.bold(
            f"{events} event type{'' if events == 1 else 's'}, "
            f"{handlers} handler{'' if handlers == 1 else 's'} ({where})"
        )
    ]
    if not graphs:
        lines.append("Nothing subscribes to any event: no plugin with handlers is enabled.")
        return "\n".join(lines)
    for graph in graphs:
        lines.append("")
        title = style.paint("1;36", _title(graph))
        if graph.type_name != graph.event:
            title += style.dim(f"  ({graph.type_name})")
        lines.append(title)
        # One table per event type, so that its sections' columns line up.
        rows: list[list[Cell | str]] = []
        for _, steps in _sections(graph):
            for number, step in enumerate(steps, 1):
                rows.append(
                    [
                        f"{number}." if step.kind == "pipe" else "-",
                        step.handler,
                        (_owner(step), "33"),
                        f"order {step.order}",
                        _timeout(step),
                        step.mode,
                        (_notes(step, graph), "2"),
                    ]
                )
        aligned = iter(table(rows, style, indent="    "))
        for heading, steps in _sections(graph):
            if steps:
                lines.append("  " + style.dim(heading))
                lines.extend(next(aligned) for _ in steps)
    return "\n".join(lines)


# --- shared by mermaid and dot ------------------------------------------------------------------


def _label_lines(step: Step, number: int | None) -> list[str]:
    """A node's label: the handler (numbered for pipes), its details, its notes."""
    # Not "1. name": Mermaid reads that as a Markdown list ("Unsupported markdown").
    head = f"pipe {number}: {step.handler}" if number is not None else step.handler
    details = [_owner(step), f"order {step.order}", _timeout(step)]
    if step.mode != "async":
        details.append(step.mode)
    lines = [head, ", ".join(details)]
    notes = _relations(step)
    if step.scope:
        notes.append(f"scope {step.scope}")
    if notes:
        lines.append("; ".join(notes))
    return lines


_Node = tuple[str, str, list[str]]  # (id, kind, label lines)
_Edge = tuple[str, str, bool]  # (from, to, dashed)


def _layout(index: int, graph: EventGraph) -> tuple[list[_Node], list[_Edge]]:
    """The nodes and edges of one event type's picture."""
    prefix = f"E{index}"
    start = f"{prefix}S"
    nodes: list[_Node] = [(start, "emit", ["emit"])]
    edges: list[_Edge] = []
    last = start
    for number, step in enumerate(graph.pipes, 1):
        node = f"{prefix}P{number}"
        nodes.append((node, "pipe", _label_lines(step, number)))
        edges.append((last, node, False))
        last = node
    for number, step in enumerate(graph.listeners, 1):
        node = f"{prefix}L{number}"
        nodes.append((node, "listener", _label_lines(step, None)))
        edges.append((last, node, False))
    for number, step in enumerate(graph.hooks, 1):
        node = f"{prefix}H{number}"
        nodes.append((node, step.kind, _label_lines(step, None)))
        edges.append((last, node, True))
    return nodes, edges


# --- mermaid ---------------------------------------------------------------------------------

# Mermaid reads `#name;` / `#123;` as an entity; `"` would end the string and
# `<`/`>` are HTML in labels. The `#` goes first, so no escape is escaped twice.
_MERMAID_ESCAPES = (("#", "#35;"), ('"', "#34;"), ("<", "#60;"), (">", "#62;"), ("`", "#96;"))

_MERMAID_SHAPES = {
    "emit": ('(("', '"))'),
    "pipe": ('["', '"]'),
    "listener": ('("', '")'),
    "hook": ('[/"', '"/]'),
    "stream": ('[/"', '"/]'),
}


def _mermaid_text(text: str) -> str:
    for raw, escaped in _MERMAID_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def graph_mermaid(graphs: Sequence[EventGraph]) -> str:
    """``eventbus graph --format mermaid``: a ``flowchart``, one subgraph per event type."""
    lines = ["flowchart LR"]
    if not graphs:
        lines.append('    E0["no subscriptions"]')
    for index, graph in enumerate(graphs, 1):
        nodes, edges = _layout(index, graph)
        lines.append(f'    subgraph E{index} ["{_mermaid_text(_title(graph))}"]')
        lines.append("        direction LR")
        for node, kind, label in nodes:
            opening, closing = _MERMAID_SHAPES[kind]
            text = "<br/>".join(_mermaid_text(part) for part in label)
            lines.append(f"        {node}{opening}{text}{closing}")
        for source, target, dashed in edges:
            lines.append(f"        {source} {'-.->' if dashed else '-->'} {target}")
        lines.append("    end")
    return "\n".join(lines)


# --- dot -------------------------------------------------------------------------------------

_DOT_SHAPES = {
    "emit": 'shape=circle, label="emit"',
    "pipe": "shape=box",
    "listener": 'shape=box, style="rounded"',
    "hook": 'shape=box, style="rounded,dashed"',
    "stream": 'shape=box, style="rounded,dashed"',
}


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def graph_dot(graphs: Sequence[EventGraph]) -> str:
    """``eventbus graph --format dot``: a Graphviz digraph, one cluster per event type."""
    lines = [
        "digraph eventbus {",
        '    graph [rankdir=LR, fontname="Helvetica", fontsize=12];',
        '    node [fontname="Helvetica", fontsize=10];',
        "    edge [arrowsize=0.7];",
    ]
    if not graphs:
        lines.append('    E0 [shape=plaintext, label="no subscriptions"];')
    for index, graph in enumerate(graphs, 1):
        nodes, edges = _layout(index, graph)
        lines.append(f"    subgraph cluster_E{index} {{")
        lines.append(f"        label={_dot_string(_title(graph))};")
        for node, kind, label in nodes:
            attributes = _DOT_SHAPES[kind]
            if kind != "emit":
                # "\n" in a dot string is a centred line break.
                text = _dot_string("\n".join(label)).replace("\n", "\\n")
                attributes += f", label={text}"
            lines.append(f"        {node} [{attributes}];")
        for source, target, dashed in edges:
            lines.append(f"        {source} -> {target}{' [style=dashed]' if dashed else ''};")
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines)
