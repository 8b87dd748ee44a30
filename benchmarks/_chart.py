"""The bar chart: us/event of every variant, one panel per scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ._scenarios import TABLES

if TYPE_CHECKING:
    from pathlib import Path

    from ._harness import Measurement, Variant

COLOURS = {
    "eventbus default": "#1f4e9c",
    "eventbus cancel": "#5fa2e8",
    "floor": "#9a9a9a",
    "async peer": "#e8871e",
    "sync peer": "#6aa84f",
}


def _colour(row: Variant) -> str:
    if row.kind == "eventbus":
        return COLOURS[f"eventbus {row.mode}"]
    return COLOURS[row.kind]


def draw(rows: Sequence[Variant], results: Mapping[str, Measurement], path: Path) -> None:
    """Write a PNG with one horizontal bar panel per scenario table."""
    import matplotlib  # only here: matplotlib is slow to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    tables = [t for t in TABLES if any(r.table == t and r.key in results for r in rows)]
    if not tables:
        return
    ncols = 2
    nrows = math.ceil(len(tables) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 3.3 * nrows), squeeze=False)
    for ax, table in zip(axes.flat, tables, strict=False):
        shown = [r for r in rows if r.table == table and r.key in results]
        # S5-S7 are judged against S1/S4: draw each baseline right under its row.
        bars: list[tuple[str, float, str, str]] = []
        for r in shown:
            bars.append((r.label, results[r.key].median, _colour(r), ""))
            if r.ref and r.ref in results:
                ref_table = r.ref.split("/", 1)[0]
                bars.append((f"{ref_table} baseline", results[r.ref].median, _colour(r), "//"))
        values = [seconds * 1e6 for _, seconds, _, _ in bars]
        positions = list(range(len(bars)))
        for y, (_, _, colour, hatch) in zip(positions, bars, strict=True):
            ax.barh(
                y,
                values[y],
                color="white" if hatch else colour,
                edgecolor=colour,
                hatch=hatch,
            )
        ax.set_yticks(positions, [label for label, _, _, _ in bars], fontsize=8)
        ax.invert_yaxis()
        if max(values) / min(values) > 20:
            ax.set_xscale("log")
        ax.set_title(table, fontsize=10, loc="left")
        ax.set_xlabel("us/event (lower is better)", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        for y, value in zip(positions, values, strict=True):
            ax.text(value, y, f" {value:.3g}", va="center", fontsize=7)
        ax.margins(x=0.18)
    for ax in list(axes.flat)[len(tables) :]:
        ax.set_visible(False)
    handles = [Patch(color=c, label=name) for name, c in COLOURS.items()]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
