"""Start-up cost of plugin discovery: ``python -m benchmarks.startup``.

For 0, 10 and 100 installed fake plugins (real ``*.dist-info`` directories with
an ``entry_points.txt``, in a temporary directory put first on ``sys.path``)
this measures, interleaved round-robin and reported as medians:

- ``importlib_metadata``: a bare ``entry_points(group="eventbus.plugins")``
  scan with the maintained backport (the package trio-eventbus discovers
  with: it walks the same ``distributions()``, but parses only its own
  section of each ``entry_points.txt``);
- ``importlib.metadata``: the same scan with the standard library's copy;
- ``open_bus``: ``async with open_bus(): pass`` discovering, loading,
  configuring and starting every plugin (their modules already imported, so
  their own import time is not counted), then stopping them;
- ``open_bus, cold imports``: the same, importing each plugin's module anew.

Every sample starts from cold metadata caches (``importlib_metadata``'s and the
standard library's path caches and trio-eventbus's per-process scan cache are
cleared), as in a fresh process. The target (the plugins issue): ``open_bus``
within 1.5x the faster bare scan plus the plugins' own import time.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import importlib_metadata
import trio

import eventbus
from eventbus import _discovery

GROUP = "eventbus.plugins"
PREFIX = "ebbench_plugin_"
TARGET = 1.5

# Each fake plugin subscribes to its own event type, as real plugins mostly do.
MODULE = """\
from eventbus._plugins import Plugin, listener


class Seen:
    pass


class Bench(Plugin):
    @listener(Seen)
    def seen(self, event):
        pass
"""


def install(site: Path, count: int) -> list[str]:
    """Write ``count`` fake plugin distributions into ``site``; return the module names."""
    modules = []
    for i in range(count):
        module = f"{PREFIX}{i}"
        info = site / f"ebbench_plugin_{i}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: ebbench-plugin-{i}\nVersion: 1.0\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[{GROUP}]\nbench{i} = {module}:Bench\n", encoding="utf-8"
        )
        (site / f"{module}.py").write_text(MODULE, encoding="utf-8")
        modules.append(module)
    return modules


def cold_caches() -> None:
    """Forget every metadata cache, as a fresh process would have none."""
    _discovery._clear_cache()  # eventbus's scan, importlib_metadata's and importlib's caches
    importlib.invalidate_caches()  # also the stdlib importlib.metadata path cache


def forget_modules(modules: Sequence[str]) -> None:
    for module in modules:
        sys.modules.pop(module, None)


def scan_backport() -> int:
    return len(importlib_metadata.entry_points(group=GROUP))


def scan_stdlib() -> int:
    return len(importlib.metadata.entry_points(group=GROUP))


async def _open_and_close(expected: int) -> None:
    async with eventbus.open_bus(config={}) as bus:
        assert len(bus.plugins) == expected, bus.plugins


def timed(fn: Callable[[], object], *, prepare: Callable[[], None]) -> float:
    prepare()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_open_bus(expected: int) -> None:
    trio.run(_open_and_close, expected)


def measure(count: int, repeats: int) -> dict[str, float]:
    """Median seconds of each variant with ``count`` plugins installed."""
    with tempfile.TemporaryDirectory(prefix="eventbus-startup-") as tmp:
        site = Path(tmp)
        modules = install(site, count)
        sys.path.insert(0, str(site))
        try:
            cold_caches()
            run_open_bus(count)  # warm-up; imports the plugin modules once
            # trio.run's own cost is not open_bus's: measured apart, subtracted.
            variants: dict[str, tuple[Callable[[], object], Callable[[], None]]] = {
                "importlib_metadata": (scan_backport, cold_caches),
                "importlib.metadata": (scan_stdlib, cold_caches),
                "trio.run (subtracted)": (lambda: trio.run(trio.lowlevel.checkpoint), cold_caches),
                "open_bus": (lambda: run_open_bus(count), cold_caches),
                "open_bus, cold imports": (
                    lambda: run_open_bus(count),
                    lambda: (cold_caches(), forget_modules(modules)),
                ),
            }
            samples: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(repeats):
                for name, (fn, prepare) in variants.items():
                    samples[name].append(timed(fn, prepare=prepare))
        finally:
            sys.path.remove(str(site))
            forget_modules(modules)
            cold_caches()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians.pop("trio.run (subtracted)")
    medians["open_bus"] -= base
    medians["open_bus, cold imports"] -= base
    return medians


def report(results: dict[int, dict[str, float]]) -> str:
    lines = [
        (
            "| plugins | importlib_metadata | importlib.metadata | open_bus "
            "| ratio to faster scan | open_bus, cold imports |"
        ),
        "|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for count, row in results.items():
        faster = min(row["importlib_metadata"], row["importlib.metadata"])
        ratio = row["open_bus"] / faster
        lines.append(
            f"| {count} | {row['importlib_metadata'] * 1e3:.2f} ms "
            f"| {row['importlib.metadata'] * 1e3:.2f} ms | {row['open_bus'] * 1e3:.2f} ms "
            f"| {ratio:.2f}x | {row['open_bus, cold imports'] * 1e3:.2f} ms |"
        )
        verdicts.append(f"{count} plugins: {'ok' if ratio <= TARGET else 'OVER'} ({ratio:.2f}x)")
    lines.append("")
    lines.append(f"target: open_bus <= {TARGET}x the faster bare scan; " + "; ".join(verdicts))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.startup", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=15, help="rounds per variant (median)")
    parser.add_argument(
        "--plugins", type=int, nargs="+", default=[0, 10, 100], help="installed plugin counts"
    )
    args = parser.parse_args(argv)
    results = {count: measure(count, args.repeats) for count in args.plugins}
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
