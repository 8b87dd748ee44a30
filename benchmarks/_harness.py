"""Calibrated, interleaved timing of benchmark variants.

A *runner* takes a number of events `n`, does its own setup (``trio.run``,
opening the bus, subscribing), times only the loop of `n` emits and returns
the seconds that loop took. The harness:

1. calibrates each runner once, so that one sample lasts about
   ``sample_seconds`` (this is also the warm-up);
2. takes ``repeats`` rounds; each round runs every variant once, in the same
   order (round-robin), so that slow drift of the machine (frequency scaling,
   a noisy neighbour) spreads over all variants instead of biasing one;
3. reports the median time per event of each variant.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import attrs

Runner = Callable[[int], float]

# The CPU time of this thread: every variant runs in one thread and never
# sleeps or waits for I/O, so on an idle machine it equals the wall-clock time,
# and on a busy one it leaves out the time other processes held the core.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}
_clock = CLOCKS["cpu"]


def use_clock(name: str) -> None:
    """Time the loops with ``"cpu"`` (thread CPU time) or ``"wall"`` time."""
    global _clock  # one switch for every runner
    _clock = CLOCKS[name]


def clock() -> float:
    """The clock the runners read at the start and end of their timed loop."""
    return _clock()


_MIN_EVENTS = 16
_MAX_EVENTS = 5_000_000


@attrs.frozen
class Variant:
    """One row of a scenario table.

    Attributes:
        key: unique id, ``"<table>/<name>"``.
        table: the scenario table the row belongs to (``"S1 async"``...).
        label: what the row is called in the tables and the chart.
        kind: ``"eventbus"``, ``"floor"``, ``"async peer"``, ``"sync peer"``
            or ``"n/a"`` (a peer that cannot express the scenario).
        run: the runner; `None` for an ``"n/a"`` row.
        mode: ``"default"`` or ``"cancel"`` for eventbus rows and floors.
        floor: key of the floor this row is compared to.
        ref: key of the baseline row for the "same cost as S1" targets (S5-S7).
        ref_limit: the largest ratio to `ref` that passes.
        schedules: an async peer whose emit operation is itself a schedule
            point (anyio's task group exit), not only its handlers; only those
            are held against the default mode.
        note: the footnote (what the peer does differently, or why n/a).
    """

    key: str
    table: str
    label: str
    kind: str
    run: Runner | None = None
    mode: str | None = None
    floor: str | None = None
    ref: str | None = None
    ref_limit: float | None = None
    schedules: bool = False
    note: str | None = None


@attrs.frozen
class Measurement:
    """The samples of one variant: seconds per event, one per repeat."""

    events: int
    per_event: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.per_event)

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the samples were."""
        return (max(self.per_event) - min(self.per_event)) / self.median


def _sample(run: Runner, n: int) -> float:
    # Collect first so that one variant does not pay for the garbage of the
    # previous one; the collector stays on: allocation is part of the cost.
    gc.collect()
    return run(n)


def calibrate(run: Runner, sample_seconds: float) -> int:
    """Return the number of events that makes one sample last `sample_seconds`."""
    n = _MIN_EVENTS
    while True:
        elapsed = _sample(run, n)
        if elapsed >= sample_seconds / 5 or n >= _MAX_EVENTS:
            break
        # Grow fast while the timing is too short to extrapolate from.
        grow = 50.0 if elapsed <= 0 else sample_seconds / 4 / elapsed
        n = min(_MAX_EVENTS, max(n * 2, int(n * min(grow, 50.0))))
    estimate = n * sample_seconds / elapsed if elapsed > 0 else _MAX_EVENTS
    return max(_MIN_EVENTS, min(_MAX_EVENTS, round(estimate)))


def measure(
    variants: Sequence[Variant],
    *,
    repeats: int,
    sample_seconds: float,
    log: Callable[[str], object] = lambda line: print(line, file=sys.stderr),
) -> dict[str, Measurement]:
    """Calibrate, then run every variant `repeats` times, interleaved."""
    timed = [v for v in variants if v.run is not None]
    sizes: dict[str, int] = {}
    started = time.perf_counter()
    for v in timed:
        assert v.run is not None
        sizes[v.key] = calibrate(v.run, sample_seconds)
    log(f"calibrated {len(timed)} variants in {time.perf_counter() - started:.1f} s")

    samples: dict[str, list[float]] = {v.key: [] for v in timed}
    for round_ in range(repeats):
        started = time.perf_counter()
        for v in timed:
            assert v.run is not None
            n = sizes[v.key]
            samples[v.key].append(_sample(v.run, n) / n)
        log(f"repeat {round_ + 1}/{repeats} in {time.perf_counter() - started:.1f} s")
    return {
        key: Measurement(events=sizes[key], per_event=tuple(values))
        for key, values in samples.items()
    }
