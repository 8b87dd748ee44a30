"""``python -m benchmarks``: measure, print the tables, write the docs page."""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import _chart, _memory, _page, _report
from ._harness import CLOCKS, measure, use_clock
from ._scenarios import SCENARIOS, catalogue

CHECKS_MIN = 100  # the memory flow reads the peak at every tenth of the run

DOCS = Path(__file__).resolve().parent.parent / "docs"

FULL = {"repeats": 5, "sample_seconds": 0.2, "memory_events": 1_000_000, "subscriptions": 10_000}
QUICK = {"repeats": 2, "sample_seconds": 0.02, "memory_events": 50_000, "subscriptions": 1_000}


def _scenario_list(text: str) -> list[str]:
    chosen = [s.strip().upper() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown)}; choose from {','.join(SCENARIOS)}"
        )
    return chosen


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Benchmark trio-eventbus against hand-written trio floors and peers "
            "(pluggy, blinker, pyee, aiosignal, anyio), with interleaved repeats "
            "and medians; write docs/benchmarks.md and docs/benchmarks.png."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (numbers not quotable)"
    )
    parser.add_argument(
        "--scenarios",
        type=_scenario_list,
        default=list(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (M: memory); default: all",
    )
    parser.add_argument(
        "--repeats", type=int, help="interleaved rounds (default 5, 2 with --quick)"
    )
    parser.add_argument(
        "--sample-seconds",
        type=float,
        help="calibrated length of one sample (default 0.2, 0.02 with --quick)",
    )
    parser.add_argument(
        "--memory-events",
        type=int,
        help="events through the slow hook in the default mode; the cancel mode runs a tenth "
        "(default 1,000,000, 50,000 with --quick)",
    )
    parser.add_argument(
        "--subscriptions",
        type=int,
        help="listeners subscribed for the bytes-per-subscription figure "
        "(default 10,000, 1,000 with --quick)",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: CPU time of the benchmark thread (default; robust to other load), "
        "wall: wall-clock time",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; do not write docs/")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    if args.repeats is None:
        args.repeats = defaults["repeats"]
    if args.sample_seconds is None:
        args.sample_seconds = defaults["sample_seconds"]
    if args.repeats < 1 or args.sample_seconds <= 0:
        parser.error("--repeats and --sample-seconds must be positive")
    if args.memory_events is None:
        args.memory_events = int(defaults["memory_events"])
    if args.subscriptions is None:
        args.subscriptions = int(defaults["subscriptions"])
    if args.memory_events < CHECKS_MIN or args.subscriptions < 1:
        parser.error(f"--memory-events must be >= {CHECKS_MIN}, --subscriptions >= 1")
    return args


def _log(line: str) -> None:
    print(f"[benchmarks] {line}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(argv)
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    started_at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")

    use_clock(args.clock)
    rows = catalogue(args.scenarios)
    results = measure(rows, repeats=args.repeats, sample_seconds=args.sample_seconds, log=_log)

    flows: list[_memory.FlowResult] = []
    subscriptions = None
    if "M" in args.scenarios:
        flows, subscriptions = _memory.measure(
            events=args.memory_events, subscriptions=args.subscriptions, log=_log
        )

    run = _page.Run(
        command=shlex.join(["python", "-m", "benchmarks", *argv]),
        started=started_at,
        seconds=time.perf_counter() - started,
        repeats=args.repeats,
        sample_seconds=args.sample_seconds,
        quick=args.quick,
        clock=args.clock,
        rows=rows,
        results=results,
        flows=flows,
        subscriptions=subscriptions,
        machine={
            **_report.machine(),
            # Other processes on the machine skew the numbers: say how busy it was.
            "load average (1 min)": f"{load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end",
        },
        versions=_report.versions(),
    )
    print(f"# {run.command}  ({run.seconds:.0f} s)\n")
    print(_page.results_text(run))
    if not args.no_write:
        DOCS.mkdir(exist_ok=True)
        target = DOCS / "benchmarks.md"
        old = target.read_text(encoding="utf-8") if target.exists() else None
        target.write_text(_page.merge(_page.page(run), old), encoding="utf-8")
        _chart.draw(rows, results, DOCS / "benchmarks.png")
        _log(f"wrote {DOCS / 'benchmarks.md'} and {DOCS / 'benchmarks.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
