"""The catalogue: every row of every scenario table, and what it is compared to.

A row's key is ``"<table>/<name>"``; `name` is the same across tables for the
same contender (``"eventbus default"``, ``"pluggy"``...), which is what the
summary matrix is built from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import _eventbus, _floors, _peers
from ._handlers import CHAIN_LENGTH, FAN_OUT, async_passes, async_yields, sync_noops, sync_passes
from ._harness import Runner, Variant

SCENARIOS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "M")

TABLES = ("S1 async", "S1 sync", "S2", "S3", "S4", "S5", "S6", "S7")

TITLES = {
    "S1 async": f"S1 async: a chain of {CHAIN_LENGTH} async pipes",
    "S1 sync": f"S1 sync: a chain of {CHAIN_LENGTH} plain-function pipes",
    "S2": f"S2: {FAN_OUT} concurrent listeners, each doing one checkpoint",
    "S3": f"S3: {FAN_OUT} fire-and-forget hooks (clock stops when all were delivered)",
    "S4": "S4: emit with no subscribers",
    "S5": (
        f'S5: emit on a scope 3 levels deep (bus.scope("a").scope("b").scope("c")), '
        f"{CHAIN_LENGTH} async pipes spread 2/1/1/1 over the levels"
    ),
    "S6": f"S6: MRO fan-in: emit C(B(A(Event))), {CHAIN_LENGTH} async pipes on A, A, B, B, C",
    "S7": "S7: the S1 async chain with one no-op instrument",
}

# Peer rows, in the order of the tables and of the summary matrix.
PEERS = (
    "pluggy",
    "blinker send",
    "blinker send_async",
    "pyee",
    "pyee.trio",
    "aiosignal",
    "anyio",
)

PEER_LABELS = {
    "pluggy": "pluggy hook call",
    "blinker send": "blinker Signal.send",
    "blinker send_async": "blinker Signal.send_async",
    "pyee": "pyee EventEmitter.emit",
    "pyee.trio": "pyee TrioEventEmitter.emit",
    "aiosignal": "aiosignal Signal.send",
    "anyio": "anyio task group (trio backend)",
}

MODES = ("default", "cancel")

EVENTBUS_LABELS = {
    "default": "eventbus (default)",
    "cancel": 'eventbus (checkpoint="cancel")',
}

# Targets.
FLOOR_LIMIT = 1.2  # S1-S4: eventbus / its floor
SCOPE_LIMIT = 1.1  # S5, S6: eventbus / the same mode's S1 (or S4)
INSTRUMENT_LIMIT = 1.3  # S7: eventbus / the same mode's S1

_SYNC_NO_LOOP = "sync: a plain loop of function calls, no event loop and no checkpoint"
_NO_CHAIN = "every receiver gets the same event; results are collected, not chained"
_NO_CHECKPOINT = "no checkpoint: the emit neither yields to trio nor can be cancelled"
_NO_EMIT = "anyio has no emit operation; a chain of awaits in anyio is the hand-written floor"
_INLINE = "calls its receivers inline before returning: no background delivery"

# Scenario-wide notes for the tables no peer can express.
TABLE_NOTES = {
    "S5": (
        "Peers: n/a. None of them has scoped sub-buses whose subscriptions merge "
        "with their ancestors'."
    ),
    "S6": (
        "Peers: n/a. None dispatches on the event's class hierarchy (pluggy: hook "
        "name; blinker: signal and sender identity; pyee: event name string; "
        "aiosignal: one list)."
    ),
    "S7": (
        "Peers: n/a. Only pluggy has call monitoring (`add_hookcall_monitoring`), "
        "and only for its sync hook calls."
    ),
}


def _eventbus_rows(
    table: str,
    runner: Callable[[str], Runner],
    *,
    floor: Mapping[str, str] | None = None,
    ref: Mapping[str, str] | None = None,
    ref_limit: float | None = None,
) -> list[Variant]:
    return [
        Variant(
            key=f"{table}/eventbus {mode}",
            table=table,
            label=EVENTBUS_LABELS[mode],
            kind="eventbus",
            run=runner(mode),
            mode=mode,
            floor=floor[mode] if floor else None,
            ref=ref[mode] if ref else None,
            ref_limit=ref_limit,
        )
        for mode in MODES
    ]


def _floor(table: str, name: str, label: str, run: Runner, mode: str | None) -> Variant:
    return Variant(
        key=f"{table}/{name}", table=table, label=label, kind="floor", run=run, mode=mode
    )


def _peer(
    table: str,
    name: str,
    run: Runner,
    *,
    sync: bool,
    note: str | None,
    schedules: bool = False,
    label: str | None = None,
) -> Variant:
    return Variant(
        key=f"{table}/{name}",
        table=table,
        label=label or PEER_LABELS[name],
        kind="sync peer" if sync else "async peer",
        run=run,
        floor=f"{table}/floor",
        schedules=schedules,
        note=note,
    )


def _na(table: str, name: str, note: str) -> Variant:
    return Variant(
        key=f"{table}/{name}", table=table, label=PEER_LABELS[name], kind="n/a", note=note
    )


def _floors_of(table: str) -> dict[str, str]:
    return {"default": f"{table}/floor checkpoint", "cancel": f"{table}/floor"}


def s1_async() -> list[Variant]:
    t = "S1 async"
    return [
        *_eventbus_rows(t, lambda m: _eventbus.chain(m, sync=False), floor=_floors_of(t)),
        _floor(
            t,
            "floor checkpoint",
            "floor + checkpoint()",
            _floors.chain(sync=False, full=True),
            "default",
        ),
        _floor(
            t,
            "floor",
            "floor + checkpoint_if_cancelled()",
            _floors.chain(sync=False, full=False),
            "cancel",
        ),
        _na(t, "pluggy", "hookimpls are plain functions: pluggy never awaits what they return"),
        _na(t, "blinker send", "`send` cannot await async receivers"),
        _peer(
            t,
            "blinker send_async",
            _peers.blinker_send_async(lambda: async_passes(CHAIN_LENGTH)),
            sync=False,
            note=f"{_NO_CHAIN}; {_NO_CHECKPOINT}",
        ),
        _na(t, "pyee", "calls handlers inline and never awaits them"),
        _na(
            t,
            "pyee.trio",
            "starts every handler as a new task and returns at once: it can neither chain nor wait",
        ),
        _peer(
            t,
            "aiosignal",
            _peers.aiosignal_send(lambda: async_passes(CHAIN_LENGTH)),
            sync=False,
            note=f"every receiver gets the same event; results are discarded, not chained; {_NO_CHECKPOINT}",
        ),
        _na(t, "anyio", _NO_EMIT),
    ]


def s1_sync() -> list[Variant]:
    t = "S1 sync"

    def handlers() -> list[Callable[[Any], Any]]:
        return sync_passes(CHAIN_LENGTH)

    return [
        *_eventbus_rows(t, lambda m: _eventbus.chain(m, sync=True), floor=_floors_of(t)),
        _floor(
            t,
            "floor checkpoint",
            "floor + checkpoint()",
            _floors.chain(sync=True, full=True),
            "default",
        ),
        _floor(
            t,
            "floor",
            "floor + checkpoint_if_cancelled()",
            _floors.chain(sync=True, full=False),
            "cancel",
        ),
        _peer(
            t,
            "pluggy",
            _peers.pluggy_call(handlers),
            sync=True,
            note=f"firstresult=False: {_NO_CHAIN}; {_SYNC_NO_LOOP}",
        ),
        _peer(
            t,
            "blinker send",
            _peers.blinker_send(handlers),
            sync=True,
            note=f"{_NO_CHAIN}; {_SYNC_NO_LOOP}",
        ),
        _peer(
            t,
            "blinker send_async",
            _peers.blinker_send_async(handlers, sync=True),
            sync=False,
            label="blinker Signal.send_async (_sync_wrapper)",
            note=(
                "each plain receiver goes through `_sync_wrapper` (a new coroutine per call); "
                f"{_NO_CHAIN}; {_NO_CHECKPOINT}"
            ),
        ),
        _peer(
            t,
            "pyee",
            _peers.pyee_emit(handlers),
            sync=True,
            note=f"return values are ignored, not chained; {_SYNC_NO_LOOP}",
        ),
        _na(
            t,
            "pyee.trio",
            "runs every handler as a task with `await f(...)`: no plain functions, no chain",
        ),
        _na(t, "aiosignal", "receivers must return awaitables"),
        _na(t, "anyio", _NO_EMIT),
    ]


def s2() -> list[Variant]:
    t = "S2"
    floor = {"default": f"{t}/floor", "cancel": f"{t}/floor"}
    serial = (
        f"awaits the {FAN_OUT} receivers one after another instead of concurrently: "
        "the same checkpoints, in series, and no task per receiver"
    )
    sync_note = (
        f"{FAN_OUT} plain functions that do nothing, in series: no concurrency and no "
        "checkpoint; shown for scale only"
    )
    return [
        *_eventbus_rows(t, _eventbus.listeners, floor=floor),
        _floor(t, "floor", "floor: trio nursery", _floors.nursery(), None),
        _peer(
            t, "pluggy", _peers.pluggy_call(lambda: sync_noops(FAN_OUT)), sync=True, note=sync_note
        ),
        _peer(
            t,
            "blinker send",
            _peers.blinker_send(lambda: sync_noops(FAN_OUT)),
            sync=True,
            note=sync_note,
        ),
        _peer(
            t,
            "blinker send_async",
            _peers.blinker_send_async(lambda: async_yields(FAN_OUT)),
            sync=False,
            note=serial,
        ),
        _peer(t, "pyee", _peers.pyee_emit(lambda: sync_noops(FAN_OUT)), sync=True, note=sync_note),
        _na(
            t,
            "pyee.trio",
            "starts the handlers in its own long-lived nursery and returns at once: the "
            "emitter cannot wait for them (see S3)",
        ),
        _peer(
            t,
            "aiosignal",
            _peers.aiosignal_send(lambda: async_yields(FAN_OUT)),
            sync=False,
            note=serial,
        ),
        _peer(
            t,
            "anyio",
            _peers.anyio_task_group(lambda: async_yields(FAN_OUT)),
            sync=False,
            schedules=True,
            note="the same work: one task group per emit, one task per listener",
        ),
    ]


def s3() -> list[Variant]:
    t = "S3"
    return [
        *_eventbus_rows(t, _eventbus.hooks, floor=_floors_of(t)),
        _floor(
            t,
            "floor checkpoint",
            "floor: channels + checkpoint()",
            _floors.channels(full=True),
            "default",
        ),
        _floor(
            t,
            "floor",
            "floor: channels + checkpoint_if_cancelled()",
            _floors.channels(full=False),
            "cancel",
        ),
        _na(t, "pluggy", _INLINE),
        _na(t, "blinker send", _INLINE),
        _na(t, "blinker send_async", _INLINE),
        _na(t, "pyee", _INLINE),
        _peer(
            t,
            "pyee.trio",
            _peers.pyee_trio_hooks(FAN_OUT),
            sync=False,
            note=(
                "a new task per handler per emit: no queue, no per-hook order, no "
                "backpressure; the tasks pile up until the emitter yields; `emit` has no checkpoint"
            ),
        ),
        _na(t, "aiosignal", _INLINE),
        _peer(
            t,
            "anyio",
            _peers.anyio_background(FAN_OUT),
            sync=False,
            note=(
                "`start_soon` per hook per emit into one long-lived task group: no queue, "
                "no per-hook order, no backpressure; no checkpoint per emit"
            ),
        ),
    ]


def s4() -> list[Variant]:
    t = "S4"
    return [
        *_eventbus_rows(t, _eventbus.empty, floor=_floors_of(t)),
        _floor(t, "floor checkpoint", "floor: checkpoint()", _floors.empty(full=True), "default"),
        _floor(
            t,
            "floor",
            "floor: checkpoint_if_cancelled()",
            _floors.empty(full=False),
            "cancel",
        ),
        _peer(
            t, "pluggy", _peers.pluggy_call(list), sync=True, note=f"no hookimpls; {_SYNC_NO_LOOP}"
        ),
        _peer(t, "blinker send", _peers.blinker_send(list), sync=True, note=_SYNC_NO_LOOP),
        _peer(
            t,
            "blinker send_async",
            _peers.blinker_send_async(list),
            sync=False,
            note=_NO_CHECKPOINT,
        ),
        _peer(t, "pyee", _peers.pyee_emit(list), sync=True, note=_SYNC_NO_LOOP),
        _peer(
            t,
            "pyee.trio",
            _peers.pyee_trio_emit(),
            sync=False,
            note=f"`emit` is a plain method; {_NO_CHECKPOINT}",
        ),
        _peer(t, "aiosignal", _peers.aiosignal_send(list), sync=False, note=_NO_CHECKPOINT),
        _na(t, "anyio", "anyio has no emit operation"),
    ]


def _same_mode(table: str) -> dict[str, str]:
    return {mode: f"{table}/eventbus {mode}" for mode in MODES}


def s5() -> list[Variant]:
    t = "S5"
    rows = _eventbus_rows(
        t,
        _eventbus.scoped_chain,
        ref=_same_mode("S1 async"),
        ref_limit=SCOPE_LIMIT,
    )
    for mode in MODES:
        rows.append(
            Variant(
                key=f"{t}/eventbus {mode} empty",
                table=t,
                label=f"{EVENTBUS_LABELS[mode]}, no subscribers",
                kind="eventbus",
                run=_eventbus.scoped_empty(mode),
                mode=mode,
                ref=f"S4/eventbus {mode}",
                ref_limit=SCOPE_LIMIT,
            )
        )
    return rows


def s6() -> list[Variant]:
    return _eventbus_rows(
        "S6",
        _eventbus.mro_chain,
        ref=_same_mode("S1 async"),
        ref_limit=SCOPE_LIMIT,
    )


def s7() -> list[Variant]:
    return _eventbus_rows(
        "S7",
        _eventbus.instrumented_chain,
        ref=_same_mode("S1 async"),
        ref_limit=INSTRUMENT_LIMIT,
    )


_BUILDERS = {
    "S1": (s1_async, s1_sync),
    "S2": (s2,),
    "S3": (s3,),
    "S4": (s4,),
    "S5": (s5,),
    "S6": (s6,),
    "S7": (s7,),
}


def catalogue(scenarios: Iterable[str]) -> list[Variant]:
    """Every row of the chosen scenarios, plus the baselines S5-S7 refer to."""
    chosen = set(scenarios)
    rows = [
        row for s in SCENARIOS if s in chosen for build in _BUILDERS.get(s, ()) for row in build()
    ]
    keys = {row.key for row in rows}
    # S5-S7 are judged against S1/S4 of the same mode: measure those too.
    needed = {row.ref for row in rows if row.ref and row.ref not in keys}
    if needed:
        extra = [row for build in (s1_async, s4) for row in build() if row.key in needed]
        rows = extra + rows
    return rows
