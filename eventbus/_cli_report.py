"""Rendering ``eventbus plugins`` and ``eventbus check``: text and JSON.

The JSON documents are stable: the same installation and configuration give
the same bytes (keys in a fixed order, plugins in the order ``bus.plugins``
lists them, no addresses or times), and ``"schema": 1`` names their shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._cli_text import Cell, Style, format_seconds, table

if TYPE_CHECKING:
    from ._cli_inspect import Inspection, PluginRow, Problem, SubscriptionRow

__all__ = ["check_json", "check_text", "plugins_json", "plugins_text", "where"]

SCHEMA = 1


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def where(inspection: Inspection) -> str:
    """``config eventbus.toml, autoload on``: what the report was made from."""
    config = f"config {inspection.config}" if inspection.config else "no config file"
    autoload = "autoload on" if inspection.autoload else "autoload off"
    return f"{config}, {autoload}"


# --- plugins ------------------------------------------------------------------------------


def _subscription_json(sub: SubscriptionRow) -> dict[str, Any]:
    return {
        "kind": sub.kind,
        "event": sub.event,
        "handler": sub.handler,
        "order": sub.order,
        "timeout": sub.timeout,
        "before": list(sub.before),
        "after": list(sub.after),
    }


def _plugin_json(row: PluginRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "distribution": row.distribution,
        "version": row.version,
        "source": row.source,
        "enabled": row.enabled,
        "status": row.status,
        "phase": row.phase,
        "error": row.error,
        "subscriptions": [_subscription_json(s) for s in row.subscriptions],
    }


def plugins_json(inspection: Inspection) -> str:
    """``eventbus plugins --format json``."""
    return _dump(
        {
            "schema": SCHEMA,
            "config": inspection.config,
            "autoload": inspection.autoload,
            "plugins": [_plugin_json(row) for row in inspection.plugins],
        }
    )


_STATUS_CODES = {"loaded": "32", "failed": "1;31", "disabled": "2"}


def _provenance(row: PluginRow) -> str:
    if row.distribution:
        return f"{row.distribution} {row.version or '?'}"
    return "-"


def _constraints(before: Sequence[str], after: Sequence[str]) -> str:
    parts = []
    if before:
        parts.append("before " + ", ".join(before))
    if after:
        parts.append("after " + ", ".join(after))
    return "; ".join(parts)


def plugins_text(inspection: Inspection, style: Style) -> str:
    """``eventbus plugins``: one line per plugin, its subscriptions below it."""
    rows = inspection.plugins
    lines = [style.bold(f"{_plural(len(rows), 'plugin')} ({where(inspection)})")]
    if not rows:
        lines.append(
            "No plugin is installed (no eventbus.plugins entry point) or configured by path."
        )
        return "\n".join(lines)
    heads = table(
        [
            [
                (row.name, "1"),
                (
                    row.status.upper() if row.status == "failed" else row.status,
                    _STATUS_CODES[row.status],
                ),
                _provenance(row),
                (row.source or "-", "2"),
            ]
            for row in rows
        ],
        style,
    )
    subs: list[list[Cell | str]] = [
        [
            sub.kind,
            (sub.event, "36"),
            sub.handler,
            f"order {sub.order}",
            # Declared; None falls back to the scope's or the bus's default.
            format_seconds(sub.timeout, none="default timeout", prefix="timeout "),
            (_constraints(sub.before, sub.after), "2"),
        ]
        for row in rows
        for sub in row.subscriptions
    ]
    sub_lines = iter(table(subs, style, indent="    "))
    lines.append("")
    for row, head in zip(rows, heads, strict=True):
        lines.append(head)
        lines.extend(next(sub_lines) for _ in row.subscriptions)
        if row.error:
            lines.append("    " + style.red(f"error: {row.error}"))
    counts = {status: sum(1 for r in rows if r.status == status) for status in _STATUS_CODES}
    lines.append("")
    lines.append(", ".join(f"{count} {status}" for status, count in counts.items() if count))
    return "\n".join(lines)


# --- check ---------------------------------------------------------------------------------


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "kind": problem.kind,
        "plugin": problem.plugin,
        "phase": problem.phase,
        "distribution": problem.distribution,
        "version": problem.version,
        "message": problem.message,
    }


def check_json(inspection: Inspection) -> str:
    """``eventbus check --format json``."""
    return _dump(
        {
            "schema": SCHEMA,
            "ok": not inspection.problems,
            "config": inspection.config,
            "config_ok": inspection.config_ok,
            "plugins_checked": inspection.loaded,
            "autoload": inspection.autoload,
            "problems": [_problem_json(p) for p in inspection.problems],
            "warnings": list(inspection.warnings),
            "plugins": [
                {"name": row.name, "status": row.status, "phase": row.phase}
                for row in inspection.plugins
            ],
        }
    )


def _problem_text(problem: Problem, inspection: Inspection) -> str:
    if problem.kind == "config" and inspection.config:
        return f"{inspection.config}: {problem.message}"
    return problem.message


def check_text(inspection: Inspection, style: Style) -> str:
    """``eventbus check``: what loads, then every problem, then the verdict."""
    lines = [style.bold(f"eventbus check ({where(inspection)})")]
    problems = inspection.problems
    by_status: dict[str, list[str]] = {"loaded": [], "failed": [], "disabled": []}
    for row in inspection.plugins:
        by_status[row.status].append(row.name)
    lines.extend(
        table(
            [
                [(status, _STATUS_CODES[status]), ", ".join(names)]
                for status, names in by_status.items()
                if names
            ],
            style,
            indent="  ",
        )
    )
    if not inspection.loaded:
        lines.append(
            "  plugins not checked: the keys that select them (autoload, enable, "
            "disable, plugins) are invalid"
        )
    if inspection.warnings:
        lines.append("")
        lines.append(style.yellow(f"{_plural(len(inspection.warnings), 'warning')}:"))
        lines.extend(f"  {warning}" for warning in inspection.warnings)
    lines.append("")
    if problems:
        lines.append(style.red(f"{_plural(len(problems), 'problem')}:"))
        lines.extend(f"  {_problem_text(problem, inspection)}" for problem in problems)
        return "\n".join(lines)
    loaded = by_status["loaded"]
    handlers = sum(len(row.subscriptions) for row in inspection.plugins)
    events = {sub.event for row in inspection.plugins for sub in row.subscriptions}
    lines.append(
        style.green("No problems: ")
        + f"{_plural(len(loaded), 'plugin')} load, configure and order cleanly; "
        f"{_plural(handlers, 'handler')} on {_plural(len(events), 'event type')}."
    )
    return "\n".join(lines)
