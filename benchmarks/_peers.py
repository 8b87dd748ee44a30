"""Runners for the peers, each expressing a scenario the way its docs show.

Sync peers (pluggy, blinker ``send``, pyee ``EventEmitter``) run in a plain
loop, with no event loop at all; async peers run inside one ``trio.run``
(anyio on its trio backend). What each one does differently from the bus is
said in the footnotes of the catalogue (`_scenarios`).
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import aiosignal
import anyio
import blinker
import pluggy
import pyee
import pyee.trio
import trio

from ._handlers import TICK, Countdown
from ._harness import clock

if TYPE_CHECKING:
    from ._harness import Runner

Handlers = Callable[[], Sequence[Callable[[Any], Any]]]

_hookspec = pluggy.HookspecMarker("eventbus_bench")
_hookimpl = pluggy.HookimplMarker("eventbus_bench")


class _Spec:
    @_hookspec
    def tick(self, event: Any) -> Any:
        """Called once per emit; every implementation receives the event."""


def _trio_runner(body: Callable[[int], Awaitable[float]]) -> Runner:
    def run(n: int) -> float:
        return trio.run(body, n)

    return run


def pluggy_call(handlers: Handlers) -> Runner:
    """``pm.hook.tick(event=e)``: every hookimpl called, results in a list."""

    def run(n: int) -> float:
        pm = pluggy.PluginManager("eventbus_bench")
        pm.add_hookspecs(_Spec)
        for handler in handlers():
            pm.register(types.SimpleNamespace(tick=_hookimpl(handler)))
        hook = pm.hook.tick
        event = TICK
        start = clock()
        for _ in range(n):
            hook(event=event)
        return clock() - start

    return run


def _signal(handlers: Handlers) -> blinker.Signal:
    signal = blinker.Signal()
    for handler in handlers():
        signal.connect(handler, weak=False)
    return signal


def blinker_send(handlers: Handlers) -> Runner:
    """``signal.send(e)``: plain receivers, called one after another."""

    def run(n: int) -> float:
        send = _signal(handlers).send
        event = TICK
        start = clock()
        for _ in range(n):
            send(event)
        return clock() - start

    return run


def _to_async(f: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return f(*args, **kwargs)

    return call


def blinker_send_async(handlers: Handlers, *, sync: bool = False) -> Runner:
    """``await signal.send_async(e)``; plain receivers through ``_sync_wrapper``."""

    async def body(n: int) -> float:
        send_async = _signal(handlers).send_async
        event = TICK
        start = clock()
        if sync:
            for _ in range(n):
                await send_async(event, _sync_wrapper=_to_async)
        else:
            for _ in range(n):
                await send_async(event)
        return clock() - start

    return _trio_runner(body)


def pyee_emit(handlers: Handlers) -> Runner:
    """``EventEmitter.emit("tick", e)``: plain handlers, called inline."""

    def run(n: int) -> float:
        emitter = pyee.EventEmitter()
        for handler in handlers():
            emitter.on("tick", handler)
        emit = emitter.emit
        event = TICK
        start = clock()
        for _ in range(n):
            emit("tick", event)
        return clock() - start

    return run


def pyee_trio_emit() -> Runner:
    """S4: ``TrioEventEmitter.emit`` with no handlers."""

    async def body(n: int) -> float:
        async with pyee.trio.TrioEventEmitter() as emitter:
            emit = emitter.emit
            event = TICK
            start = clock()
            for _ in range(n):
                emit("tick", event)
            return clock() - start

    return _trio_runner(body)


def pyee_trio_hooks(k: int) -> Runner:
    """S3: ``TrioEventEmitter``: one new task per handler per emit, in its nursery."""

    async def body(n: int) -> float:
        countdown = Countdown(k * n)
        async with pyee.trio.TrioEventEmitter() as emitter:
            for handler in countdown.hooks(k):
                emitter.on("tick", handler)
            emit = emitter.emit
            event = TICK
            start = clock()
            for _ in range(n):
                emit("tick", event)
            await countdown.done.wait()
            elapsed = clock() - start
        return elapsed

    return _trio_runner(body)


def aiosignal_send(handlers: Handlers) -> Runner:
    """``await signal.send(e)``: async receivers awaited one after another."""

    async def body(n: int) -> float:
        signal: Any = aiosignal.Signal(owner=None)
        signal.extend(handlers())
        signal.freeze()
        send = signal.send
        event = TICK
        start = clock()
        for _ in range(n):
            await send(event)
        return clock() - start

    return _trio_runner(body)


def anyio_task_group(handlers: Handlers) -> Runner:
    """S2: ``async with anyio.create_task_group() as tg: tg.start_soon(h, e)``."""

    async def body(n: int) -> float:
        hs = tuple(handlers())
        event = TICK
        create_task_group = anyio.create_task_group
        start = clock()
        for _ in range(n):
            async with create_task_group() as tg:
                for h in hs:
                    tg.start_soon(h, event)
        return clock() - start

    return _trio_runner(body)


def anyio_background(k: int) -> Runner:
    """S3: one long-lived anyio task group; ``tg.start_soon`` per hook per emit."""

    async def body(n: int) -> float:
        countdown = Countdown(k * n)
        hs = tuple(countdown.hooks(k))
        event = TICK
        async with anyio.create_task_group() as tg:
            start_soon = tg.start_soon
            start = clock()
            for _ in range(n):
                for h in hs:
                    start_soon(h, event)
            await countdown.done.wait()
            elapsed = clock() - start
        return elapsed

    return _trio_runner(body)
