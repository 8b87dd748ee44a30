"""``python -m benchmarks.instructions``: instructions per emit, counted by callgrind.

The timed tables of ``python -m benchmarks`` move with whatever else the
machine does. ``valgrind --tool=callgrind`` counts the instructions a program
executes instead: the same count for the same interpreter, code and inputs,
however busy the machine is. This script runs the very runners of the timed
tables (the bus, and the hand-written floors of both checkpoint modes) under
callgrind, each twice, with ``--low`` and ``--low + --events`` emits, and
divides the difference of the two counts by ``--events``: what one emit
costs, with start-up and the opening of the bus subtracted out.

Instructions are not time: a schedule point's system call, cache misses and
branch mispredictions cost more time than their instruction count says. The
ratios here are the repeatable complement of the timed ones, not a
replacement. The section goes to ``docs/benchmarks.md`` between the
``<!-- instructions:start -->`` and ``<!-- instructions:end -->`` markers.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from . import _report
from ._marked import publish
from ._scenarios import FLOOR_LIMIT, catalogue

if TYPE_CHECKING:
    from ._harness import Variant

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("S1 async", "S1 sync", "S4", "S5", "S6", "S7")
_COLLECTED = re.compile(r"Collected : (\d+)")


@attrs.frozen
class Count:
    """Instructions per emit of one variant, from two callgrind runs."""

    key: str
    per_emit: float


def variants() -> list[Variant]:
    """The bus rows and floors of the tables counted here."""
    rows = catalogue(["S1", "S4", "S5", "S6", "S7"])
    return [r for r in rows if r.table in TABLES and r.kind in ("eventbus", "floor")]


def _collected(key: str, events: int) -> int:
    """Instructions callgrind counted for one run of ``key`` with ``events`` emits."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        key,
        str(events),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run of {key!r} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def count(key: str, low: int, events: int) -> Count:
    low_count = _collected(key, low)
    high_count = _collected(key, low + events)
    return Count(key, (high_count - low_count) / events)


def _run_child(key: str, events: int) -> None:
    for row in variants():
        if row.key == key:
            assert row.run is not None
            row.run(events)
            return
    raise SystemExit(f"no variant {key!r}")


def section(counts: dict[str, float], rows: Sequence[Variant], argv: Sequence[str]) -> str:
    command = " ".join(["python -m benchmarks.instructions", *argv])
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = []
    for row in rows:
        if row.kind != "eventbus":
            continue
        mine = counts[row.key]
        if row.floor is not None:
            base, limit, against = counts[row.floor], FLOOR_LIMIT, "its floor"
        elif row.ref is not None and row.ref_limit is not None:
            base, limit = counts[row.ref], row.ref_limit
            against = row.ref.split("/", 1)[0] + " (the bus)"
        else:
            continue
        ratio = mine / base
        verdict = "PASS" if ratio <= limit else "FAIL"
        mode = 'checkpoint="cancel"' if row.mode == "cancel" else "default"
        what = f"{row.table} no subscribers" if row.key.endswith("empty") else row.table
        body.append(
            [
                what,
                mode,
                f"{mine:,.0f}",
                f"{base:,.0f}",
                against,
                f"{ratio:.2f}x",
                f"<= {limit}x: {verdict}",
            ]
        )
    table = _report.markdown_table(
        ["scenario", "mode", "bus", "reference", "reference is", "bus / reference", "target"],
        body,
        "llrrlrl",
    )
    lines = [
        "## Instructions per emit (callgrind)",
        "",
        "<!-- Written by `python -m benchmarks.instructions`; edit benchmarks/instructions.py. -->",
        "",
        (
            f"Command: `{command}` (from the repository root), {when}; Python "
            f"{platform.python_version()}, trio {metadata.version('trio')}, "
            f"valgrind {_valgrind_version()}."
        ),
        "",
        (
            "The same runners as the timed tables, each run twice under "
            "`valgrind --tool=callgrind`; the difference of the two instruction counts "
            "over the difference in emits is what one emit costs, start-up left out. "
            "The count does not depend on what else the machine is doing, so these "
            "ratios repeat from run to run where the timed ones above move by the "
            "spread they show. Instructions are not time: a system call, a cache miss "
            "or a mispredicted branch weighs more in seconds than its instructions, so "
            "the timed ratios differ somewhat from these."
        ),
        "",
        *table,
    ]
    return "\n".join(lines) + "\n"


def _valgrind_version() -> str:
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip().removeprefix("valgrind-") or "?"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions",
        description="Instructions per emit under callgrind, the bus against its floors.",
    )
    parser.add_argument("--low", type=int, default=1_000, help="emits in the first run")
    parser.add_argument(
        "--events", type=int, default=5_000, help="emits the second run makes on top"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="callgrind runs at once"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone"
    )
    parser.add_argument("--child", nargs=2, metavar=("KEY", "EVENTS"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args.child is not None:
        _run_child(args.child[0], int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print(
            "python -m benchmarks.instructions: valgrind is not installed; install it "
            "(Debian: apt-get install valgrind) or use python -m benchmarks",
            file=sys.stderr,
        )
        return 2
    rows = variants()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(count, row.key, args.low, args.events): row for row in rows}
        counts: dict[str, float] = {}
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            counts[result.key] = result.per_emit
            print(f"{result.key:40} {result.per_emit:>10,.0f} instructions/emit", flush=True)
    publish(
        "instructions", section(counts, rows, argv), write=not args.no_write, what="instructions"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
