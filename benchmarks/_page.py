"""The ``docs/benchmarks.md`` page: prose around the tables of `_report`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from . import _report
from ._harness import Measurement, Variant
from ._marked import SECTION
from ._memory import FlowResult, SubscriptionResult
from ._scenarios import TABLES


@attrs.frozen
class Run:
    """Everything one ``python -m benchmarks`` produced, and how it was called."""

    command: str
    started: str  # ISO date and time, UTC
    seconds: float
    repeats: int
    sample_seconds: float
    quick: bool
    clock: str  # "cpu" or "wall"
    rows: Sequence[Variant]
    results: Mapping[str, Measurement]
    flows: Sequence[FlowResult]
    subscriptions: SubscriptionResult | None
    machine: Mapping[str, str]
    versions: Mapping[str, str]

    @property
    def targets(self) -> list[_report.Target]:
        return _report.all_targets(self.rows, self.results, self.flows)


def results_text(run: Run) -> str:
    """The tables alone: what is printed to stdout."""
    lines: list[str] = []
    for table in TABLES:
        lines += _report.scenario_table(table, run.rows, run.results)
    if run.results:
        lines += ["### Summary (us/event)", "", *_report.summary_matrix(run.rows, run.results), ""]
        lines += ["### Default vs cancel mode", "", *_report.modes_table(run.rows, run.results), ""]
    if run.flows or run.subscriptions:
        lines += ["### Memory", "", *_report.memory_lines(run.flows, run.subscriptions)]
    lines += ["### Targets", "", *_report.targets_table(run.targets), ""]
    return "\n".join(lines)


_METHOD = """\
- One process runs every timed loop (the memory measurements run after them,
  in two worker processes: see Memory). Each variant runs a loop of N emits
  inside its own `trio.run` (the sync peers: a plain loop, no event loop). Opening the
  bus, subscribing and starting workers happen before the clock starts; the
  clock covers the loop only (S3: the loop and the wait until every hook has
  seen every event, so fire-and-forget work is counted).
- {clock}
- N is calibrated per variant so that one sample takes about {sample} s
  (the calibration doubles as the warm-up). The garbage collector is run
  before each sample and left on during it: allocation is part of the cost.
- Repeats are interleaved: each of the {repeats} rounds runs every variant
  once, round-robin, so that drift of the machine spreads over all variants.
  Tables show the median; `spread` is (max - min) / median over the rounds.
- Floors are the least hand-written trio code that does the same work,
  written inline in the loop (they do not even pay for the function call an
  `emit()` is). Each pays, once per emit, what an emit owes its caller in the
  mode it stands for: `await trio.lowlevel.checkpoint()` for the default mode,
  `await trio.lowlevel.checkpoint_if_cancelled()` for `checkpoint="cancel"`
  (an emit is still a cancellation point there). "x floor" is each row's time
  over the floor of its mode; peers are set against the cancel mode's floor.
- Every variant of a scenario uses the same handler bodies; events are
  `@attrs.frozen` subclasses of `eventbus.Event`; pipes return the event they
  got (no `attrs.evolve`).
- "x best async peer" divides by the fastest async peer of the scenario. Sync
  peers (pluggy, blinker `send`, pyee `EventEmitter`) are shown for scale:
  they run no event loop and never checkpoint.
"""

_CLOCK = {
    "cpu": """\
The clock is the CPU time of the benchmark's thread (`time.thread_time`,
`--clock cpu`, the default). Every variant runs in that one thread and never
sleeps or waits for I/O, so on an idle machine it equals the wall-clock
time; on a shared machine it leaves out the time other processes held the
core, which would otherwise land on whichever variant was running.""",
    "wall": """\
The clock is wall-clock time (`time.perf_counter`, `--clock wall`): on a busy
machine it also counts the time other processes held the core.""",
}

_MODES = """\
Like every trio async API, `await bus.emit(event)` is a checkpoint. In the
**default mode** (`open_bus()`) every emit is one cancellation point and one
schedule point, even with no subscribers, exactly what
`await trio.lowlevel.checkpoint()` is (the S4 floor). The schedule point makes
a loop of emits fair to the other tasks and lets hook workers run between
emits; with cheap handlers it is also the largest single cost of an emit (the
last column below: what the schedule point adds to the hand-written floor,
`checkpoint()` over `checkpoint_if_cancelled()`).

With **`open_bus(checkpoint="cancel")`** (config key `checkpoint`) an emit is
only a cancellation point, `trio.lowlevel.checkpoint_if_cancelled()`, as
anyio's `Lock(fast_acquire=True)` does for locks: a cancelled caller still
gets `trio.Cancelled` at the emit, but the emit yields to the scheduler only
when a handler does (a listener's task, an awaiting pipe, a full hook queue).
What it gives up is fairness: a loop that emits to plain-function pipes never
lets another task run, and hooks get to run only when the emitter blocks.
Use it in hot loops whose handlers or callers yield anyway.

blinker's `send_async`, aiosignal's `Signal.send` and pyee's
`TrioEventEmitter.emit` do not checkpoint at all (not even a cancellation
point; in S2 the listeners do, one after another): "faster than every async
peer" sets them against the cancel mode. The default mode is held to it only
against anyio's task group, whose exit is a schedule point as an emit is;
against the others its cell says `-`, and the difference is the schedule
point of the table below. pyee's `TrioEventEmitter.emit` is a plain method
that returns at once, so it goes with the peers that never checkpoint.
"""


def merge(page: str, old: str | None) -> str:
    """`page`, followed by the marked sections other scripts wrote into `old`."""
    sections = [m.group(0) for m in SECTION.finditer(old or "")]
    if not sections:
        return page
    return page.rstrip("\n") + "\n\n" + "\n\n".join(sections) + "\n"


def page(run: Run) -> str:
    """The whole Markdown page."""
    quick = (
        "\n> **This is a `--quick` smoke run**: samples are short and few; do not "
        "quote these numbers.\n"
        if run.quick
        else ""
    )
    machine = _report.markdown_table(["", ""], [[k, v] for k, v in run.machine.items()], "ll")
    versions = _report.markdown_table(
        ["distribution", "version"], [[k, v] for k, v in run.versions.items()], "ll"
    )
    lines = [
        "# Benchmarks",
        "",
        "<!-- Written by `python -m benchmarks`; edit benchmarks/_page.py, not this file. -->",
        "",
        (
            "How fast trio-eventbus dispatches, set against hand-written trio code doing "
            "the same work (the floor) and against pluggy, blinker, pyee, aiosignal and "
            "anyio task groups where they can express the same work."
        ),
        quick,
        (
            f"Command: `{run.command}` (from the repository root), started {run.started}, "
            f"took {run.seconds / 60:.1f} min: {run.repeats} interleaved repeats of "
            f"~{run.sample_seconds:g} s per sample, medians."
        ),
        "",
        *machine,
        "",
        *versions,
        "",
        "## Method",
        "",
        _METHOD.format(
            sample=f"{run.sample_seconds:g}",
            repeats=run.repeats,
            clock=_CLOCK[run.clock].replace("\n", "\n  "),
        ),
        "## The two checkpoint modes",
        "",
        _MODES,
        *_report.modes_table(run.rows, run.results),
        "",
        "## Targets",
        "",
        *_report.targets_table(run.targets),
        "",
        *_report.misses_lines(run.targets),
        "",
        "## Summary",
        "",
        "![us/event per variant and scenario](benchmarks.png)",
        "",
        (
            "us/event, medians; `n/a`: the peer cannot express the scenario (the "
            "scenario's footnotes say why)."
        ),
        "",
        *_report.summary_matrix(run.rows, run.results),
        "",
        "## Scenarios",
        "",
    ]
    for table in TABLES:
        lines += _report.scenario_table(table, run.rows, run.results)
    if run.flows or run.subscriptions:
        lines += ["## Memory", "", *_report.memory_lines(run.flows, run.subscriptions)]
    lines += [
        "## Reproduce",
        "",
        "```sh",
        "python -m benchmarks                  # the full run (~4 min on 2 cores), writes this page",
        "python -m benchmarks --quick          # a short smoke run",
        "python -m benchmarks --scenarios S1,S4 --repeats 3 --no-write",
        "python -m benchmarks.instructions    # instructions per emit under callgrind (~15 min)",
        "python -m benchmarks.bridge          # the Redis bridge between two processes",
        "python -m benchmarks.startup         # open_bus start-up with 0, 10, 100 plugins",
        "```",
        "",
        (
            "On a shared machine the timed ratios move from run to run by about the "
            "spread the tables show; the instruction counts below do not, and are the "
            "ones to compare two versions of the code with."
        ),
        "",
    ]
    return "\n".join(lines)
