"""Tables, targets and the docs page, from the measurements.

Everything is rendered as Markdown pipe tables: the same text is printed to
stdout and written to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from ._harness import Measurement, Variant
from ._memory import HOOK_CAPACITY
from ._scenarios import (
    EVENTBUS_LABELS,
    FLOOR_LIMIT,
    INSTRUMENT_LIMIT,
    MODES,
    PEER_LABELS,
    PEERS,
    TABLE_NOTES,
    TABLES,
    TITLES,
)

if TYPE_CHECKING:
    from ._memory import FlowResult, SubscriptionResult

Results = Mapping[str, Measurement]

DISTRIBUTIONS = (
    "trio",
    "trio-eventbus",
    "pluggy",
    "blinker",
    "pyee",
    "aiosignal",
    "anyio",
    "attrs",
)

_FLOOR_TABLES = ("S1 async", "S1 sync", "S2", "S3", "S4")


# -- numbers ---------------------------------------------------------------


def us(seconds: float) -> str:
    """Format seconds per event as microseconds with three significant digits."""
    value = seconds * 1e6
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if size < 1 else f"{value:.2f}"


def rate(seconds: float) -> str:
    return f"{1 / seconds:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


# -- machine ---------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    pretty = ""
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    pretty = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    kernel = f"{platform.system()} {platform.release()}"
    return f"{pretty} ({kernel})" if pretty else kernel


def machine() -> dict[str, str]:
    """CPU model, core count, OS and Python of this process."""
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = cores
    return {
        "CPU": _cpu_model(),
        "cores": f"{cores} ({usable} usable by this process)",
        "OS": _os_name(),
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
    }


def versions() -> dict[str, str]:
    """The installed version of trio, eventbus and every peer."""
    found = {}
    for name in DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = _source_version() if name == "trio-eventbus" else "not installed"
    return found


def _source_version() -> str:
    import eventbus

    return f"{getattr(eventbus, '__version__', 'unknown')} (source tree, not installed)"


# -- comparisons -----------------------------------------------------------


@attrs.frozen
class Target:
    """One PASS/FAIL line: what is compared, in which mode, and the ratio."""

    name: str
    mode: str
    ratio: float | None  # None: nothing to compare against
    limit: float
    detail: str = ""

    @property
    def passed(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= self.limit

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "-"
        return f"{'PASS' if self.passed else 'FAIL'} {ratio(self.ratio or 0)}"


def _median(results: Results, key: str | None) -> float | None:
    if key is None or key not in results:
        return None
    return results[key].median


def _peers(rows: Sequence[Variant], results: Results, kind: str) -> list[Variant]:
    return [r for r in rows if r.kind == kind and r.key in results]


def _fair_peers(row: Variant, rows: Sequence[Variant], results: Results) -> list[Variant]:
    """The async peers the eventbus row must beat.

    The default mode pays a full checkpoint per emit; a peer whose emit has no
    schedule point is compared with the cancel mode only.
    """
    return [p for p in _peers(rows, results, "async peer") if row.mode == "cancel" or p.schedules]


def floor_target(row: Variant, results: Results) -> Target | None:
    floor = _median(results, row.floor)
    mine = _median(results, row.key)
    if row.kind != "eventbus" or row.table not in _FLOOR_TABLES or floor is None or mine is None:
        return None
    return Target(
        name=f"{row.table}: <= {FLOOR_LIMIT}x its floor",
        mode=row.mode or "",
        ratio=mine / floor,
        limit=FLOOR_LIMIT,
    )


def peer_target(row: Variant, rows: Sequence[Variant], results: Results) -> Target | None:
    if row.kind != "eventbus" or row.table not in _FLOOR_TABLES or row.key not in results:
        return None
    if not _peers(rows, results, "async peer"):
        return None  # the peers of this table were not run (a baseline-only table)
    name = f"{row.table}: faster than every async peer"
    fair = _fair_peers(row, rows, results)
    if not fair:
        return Target(
            name=name,
            mode=row.mode or "",
            ratio=None,
            limit=1.0,
            detail="no peer with a checkpoint",
        )
    best = min(fair, key=lambda p: results[p.key].median)
    return Target(
        name=name,
        mode=row.mode or "",
        ratio=results[row.key].median / results[best.key].median,
        limit=1.0,
        detail=f"vs {best.label}",
    )


def ref_target(row: Variant, results: Results) -> Target | None:
    ref = _median(results, row.ref)
    mine = _median(results, row.key)
    if ref is None or mine is None or row.ref_limit is None or row.ref is None:
        return None
    ref_table = row.ref.split("/", 1)[0]
    what = "S5 no subscribers" if row.key.endswith("empty") else row.table
    return Target(
        name=f"{what}: <= {row.ref_limit}x {ref_table}",
        mode=row.mode or "",
        ratio=mine / ref,
        limit=row.ref_limit,
    )


def all_targets(
    rows: Sequence[Variant], results: Results, flows: Sequence[FlowResult]
) -> list[Target]:
    targets: list[Target] = []
    for table in TABLES:
        in_table = [r for r in rows if r.table == table]
        for row in in_table:
            found = (
                floor_target(row, results),
                peer_target(row, in_table, results),
                ref_target(row, results),
            )
            targets.extend(t for t in found if t is not None)
    targets.extend(
        Target(
            name=f"memory: flat through a slow hook (capacity {HOOK_CAPACITY})",
            mode=flow.mode,
            ratio=flow.peak / flow.halfway,
            limit=flow.flat_limit / flow.halfway,
            detail=f"{flow.events:,} events; whole-run peak / first-half peak",
        )
        for flow in flows
    )
    return targets


# -- tables ----------------------------------------------------------------


def markdown_table(header: Sequence[str], body: Sequence[Sequence[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|")
    lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    return lines


def _cell(target: Target | None) -> str:
    if target is None:
        return ""
    if target.passed is None:
        return f"- ({target.detail})"
    return f"**{target.verdict}**"


def scenario_table(table: str, rows: Sequence[Variant], results: Results) -> list[str]:
    """One scenario: a Markdown table and its footnotes."""
    rows = [r for r in rows if r.table == table and (r.key in results or r.kind == "n/a")]
    if not any(r.key in results for r in rows):
        return []
    async_peers = _peers(rows, results, "async peer")
    best_async = min(async_peers, key=lambda p: results[p.key].median) if async_peers else None
    has_refs = any(r.ref for r in rows)
    notes: list[str] = []
    body: list[list[str]] = []
    for row in rows:
        label = row.label
        if row.note:
            if row.note not in notes:
                notes.append(row.note)
            label += f" [{notes.index(row.note) + 1}]"
        if row.kind == "n/a":
            body.append(
                [label, "n/a", "n/a", "", "", "", "", ""] if not has_refs else [label, "n/a"]
            )
            continue
        m = results[row.key]
        cells = [label, rate(m.median), us(m.median), f"{m.spread:.0%}"]
        if has_refs:
            ref = _median(results, row.ref)
            target = ref_target(row, results)
            cells += [
                f"{row.ref} ({us(ref)} us)" if row.ref and ref else "",
                ratio(m.median / ref) if ref else "",
                _cell(target),
            ]
        else:
            floor = _median(results, row.floor) if row.floor else None
            if row.kind == "floor":
                floor = m.median
            cells += [
                ratio(m.median / floor) if floor else "",
                ratio(m.median / results[best_async.key].median) if best_async else "",
                _cell(floor_target(row, results)),
                _cell(peer_target(row, rows, results)),
            ]
        body.append(cells)
    if has_refs:
        header = [
            "variant",
            "events/s",
            "us/event",
            "spread",
            "baseline (same mode)",
            "x baseline",
            "target",
        ]
        align = "lrrrlrl"
    else:
        header = [
            "variant",
            "events/s",
            "us/event",
            "spread",
            "x floor",
            "x best async peer",
            f"<= {FLOOR_LIMIT}x floor",
            "beats async peers",
        ]
        align = "lrrrrrll"
    body = [cells + [""] * (len(header) - len(cells)) for cells in body]
    lines = [f"### {TITLES[table]}", "", *markdown_table(header, body, align), ""]
    if best_async is not None:
        lines.append(
            f"Best async peer: {best_async.label}, {us(results[best_async.key].median)} us/event."
        )
        lines.append("")
    lines.extend(f"{i}. {note}" for i, note in enumerate(notes, 1))
    if table in TABLE_NOTES:
        lines.append(TABLE_NOTES[table])
    lines.append("")
    return lines


def _contender(row: Variant) -> str:
    """The summary-matrix row of a variant (floors are reached via the bus rows)."""
    return row.key.split("/", 1)[1].removesuffix(" empty")


def summary_matrix(rows: Sequence[Variant], results: Results) -> list[str]:
    """us/event of every contender in every scenario; n/a where it cannot take part."""
    tables = [t for t in TABLES if any(r.table == t and r.key in results for r in rows)]
    by_key = {r.key: r for r in rows}
    contenders = [
        *(EVENTBUS_LABELS[m] for m in MODES),
        "floor for the default mode",
        "floor for the cancel mode",
        *(PEER_LABELS[p] for p in PEERS),
    ]
    grid: dict[str, dict[str, str]] = {c: {} for c in contenders}
    for table in tables:
        for row in (r for r in rows if r.table == table):
            name = _contender(row)
            if row.kind == "eventbus" and not row.key.endswith("empty"):
                grid[EVENTBUS_LABELS[row.mode or "default"]][table] = us(results[row.key].median)
                floor = by_key.get(row.floor or "")
                if floor is not None and floor.key in results:
                    grid[f"floor for the {row.mode} mode"][table] = us(results[floor.key].median)
            elif row.kind in ("async peer", "sync peer"):
                grid[PEER_LABELS[name]][table] = us(results[row.key].median)
            elif row.kind == "n/a":
                grid[PEER_LABELS[name]][table] = "n/a"
        if table in TABLE_NOTES:
            for p in PEERS:
                grid[PEER_LABELS[p]].setdefault(table, "n/a")
    body = [[c, *(grid[c].get(t, "") for t in tables)] for c in contenders if grid[c]]
    return markdown_table(["us/event", *tables], body, "l" + "r" * len(tables))


def modes_table(rows: Sequence[Variant], results: Results) -> list[str]:
    """Default vs cancel mode per scenario, next to what the schedule point
    costs the floor (``checkpoint()`` over ``checkpoint_if_cancelled()``)."""
    body = []
    for table in TABLES:
        full = _median(results, f"{table}/eventbus default")
        cancel = _median(results, f"{table}/eventbus cancel")
        if full is None or cancel is None:
            continue
        f_full = _median(results, f"{table}/floor checkpoint")
        f_cancel = _median(results, f"{table}/floor")
        floor_delta = us(f_full - f_cancel) if f_full is not None and f_cancel is not None else ""
        body.append(
            [table, us(full), us(cancel), us(full - cancel), ratio(full / cancel), floor_delta]
        )
    header = [
        "scenario",
        "default us",
        "cancel us",
        "default - cancel us",
        "default / cancel",
        "floor: schedule point cost us",
    ]
    return markdown_table(header, body, "lrrrrr")


def targets_table(targets: Sequence[Target]) -> list[str]:
    names = list(dict.fromkeys(t.name for t in targets))
    by = {(t.name, t.mode): t for t in targets}
    body = []
    for name in names:
        cells = [name]
        for mode in MODES:
            t = by.get((name, mode))
            if t is None:
                cells.append("")
            elif t.passed is None:
                cells.append(f"- ({t.detail})")
            else:
                cells.append(t.verdict + (f" ({t.detail})" if t.detail else ""))
        body.append(cells)
    return markdown_table(["target", "default mode", 'checkpoint="cancel"'], body, "lll")


# Why a target can be missed, by what it compares. Each applies to the
# targets of the run that failed; the page lists those, then these reasons.
_WHY_FLOOR = (
    "**Against the floors** (`<= {limit}x its floor`): a floor is the handler calls "
    "written inline in the timed loop, plus trio's own check. An emit is a call "
    "that looks up the calling task and the plan of the event's type and runs one "
    "coroutine; the pipe loop checks what each pipe returned; one emit in 16 reads "
    "the clock around each pipe for `bus.stats()`. These are fixed costs of "
    "Python calls, a few tenths of a microsecond per emit (the summary table "
    "gives both). In the default mode they come on top of a schedule "
    "point ten times their size (last column of the table above); in the cancel "
    "mode the floor is small enough for these costs alone to exceed the limit: no "
    "code that is called rather than written inline can reach an inline floor "
    "there."
)
_WHY_PEER = (
    "**Against aiosignal and blinker's `send_async`** (`faster than every async "
    "peer`): each is one coroutine that awaits the receivers of one list in turn: "
    "no cancellation point, no look-up by event type, no return value to check, "
    "no stats. In the cancel mode an emit does each of these. In S2 they await the "
    "10 listeners one after another, where the bus runs them concurrently (a task "
    "each, as DESIGN requires), so they save ten task starts per emit."
)
_WHY_INSTRUMENT = (
    "**S7** (`<= {limit}x S1`): an instrument's dozen calls per emit cost the same "
    "in both modes; set against the much smaller cancel-mode emit they add more "
    "than 30%."
)


_WHY_NOISE = (
    "**Noise**: a ratio is two medians of one run, each moving by about its row's "
    "`spread` on a shared machine; a miss by less than that spread, or one that "
    "comes and goes between runs (S5 and S6 run the very code of S1, for "
    "instance), is the machine, not the bus. The instruction counts at the end "
    "of the page (`python -m benchmarks.instructions`) repeat exactly from run "
    "to run."
)


def misses_lines(targets: Sequence[Target]) -> list[str]:
    """The targets this run missed, and why (or that every target was met)."""
    failed = [t for t in targets if t.passed is False]
    if not failed:
        return ["Every target is met in this run."]
    lines = ["### Where a target is missed, and why", ""]
    for t in failed:
        mode = 'checkpoint="cancel"' if t.mode == "cancel" else "default mode"
        detail = f" ({t.detail})" if t.detail else ""
        lines.append(f"- {t.name}, {mode}: {t.verdict}{detail}")
    lines.append("")
    reasons = []
    if any("its floor" in t.name for t in failed):
        reasons.append(_WHY_FLOOR.format(limit=FLOOR_LIMIT))
    if any("async peer" in t.name for t in failed):
        reasons.append(_WHY_PEER)
    if any(t.name.startswith("S7") for t in failed):
        reasons.append(_WHY_INSTRUMENT.format(limit=INSTRUMENT_LIMIT))
    for reason in reasons:
        lines += [reason, ""]
    lines += [_WHY_NOISE, ""]
    return lines


def memory_lines(flows: Sequence[FlowResult], subs: SubscriptionResult | None) -> list[str]:
    lines: list[str] = []
    if flows:
        body = [
            [
                "default" if f.mode == "default" else 'checkpoint="cancel"',
                f"{f.events:,}",
                f"{f.delivered:,}",
                f"{f.max_queued:,}",
                f"{f.halfway / 1e6:.3f}",
                f"{f.peak / 1e6:.3f}",
                f"{f.peak / HOOK_CAPACITY:,.0f}",
                f"{f.seconds:.1f}",
                "PASS" if f.flat else "FAIL",
            ]
            for f in flows
        ]
        header = [
            "mode",
            "events",
            "delivered",
            "deepest queue seen",
            "peak MB, first half",
            "peak MB (whole run)",
            "peak B / capacity",
            "seconds (traced)",
            "flat",
        ]
        lines += markdown_table(header, body, "lrrrrrrrl")
        lines += [
            "",
            (
                f"Each emit creates a new event; the hook (`capacity={HOOK_CAPACITY}`) "
                "does one `trio.lowlevel.checkpoint()` per event, so it is slower than "
                "the emitter and its queue fills up (the deepest queue seen is read "
                "from `bus.stats()` at every tenth of the run). The peak is "
                "`tracemalloc`'s traced peak since the bus was opened and subscribed; "
                "flat means the second half of the run did not raise the peak of the "
                "first half (by more than 10% + 64 KiB): the memory is bounded by the "
                "queue's capacity, not by the number of events. The cancel mode runs "
                "a tenth of the events: `tracemalloc` makes each event several times "
                "slower, and the bound is the same."
            ),
            "",
        ]
    if subs is not None:
        lines += [
            (
                f"Bytes per subscription ({subs.count:,} listeners on one event type, "
                f"`tracemalloc` delta): **{subs.per_subscription:,.0f} B** when subscribing, "
                f"**{subs.per_subscription_with_plan:,.0f} B** once the first emit has "
                f"built and cached the dispatch plan. Subscribing them took "
                f"{subs.seconds:.1f} s with `tracemalloc` on."
            ),
            "",
        ]
    return lines
