"""A bus with a Redis bridge in a process of its own, driven by the bridge tests.

``python redis_peer.py pong URL STREAM GROUP``
    Forwards and receives every ``tests.bridge.*`` event. Answers each remote
    ``Ping(n)`` with a local ``Pong(n)``; exits on a remote ``Stop``, printing
    how many Pings and Pongs its own listeners saw.

``python redis_peer.py consume URL STREAM GROUP CONSUMER BATCH``
    Receives ``Job`` events, slowly (10 ms each), printing ``handled N`` for
    each; the test kills it mid-batch with SIGKILL.

Each prints ``ready`` once its bus is open (its consumer group exists).
"""

from __future__ import annotations

import sys

import trio
from redis_events import Job, Ping, Pong, Stop

import eventbus
from eventbus.bridges.redis import RedisBridge, RedisOptions


async def pong(url: str, stream: str, group: str) -> None:
    bridge = RedisBridge(
        RedisOptions(
            url=url,
            stream=stream,
            group=group,
            forward=["tests.bridge.*"],
            receive=["tests.bridge.*"],
            block=0.05,
        )
    )
    seen = {"ping": 0, "pong": 0}
    stop = trio.Event()
    async with eventbus.open_bus(config={}, plugins=[bridge], discover=False) as bus:

        @bus.listener(Ping)
        async def answer(event: Ping) -> None:
            seen["ping"] += 1
            await bus.emit(Pong(event.n))

        @bus.listener(Pong)
        def count(event: Pong) -> None:
            seen["pong"] += 1

        @bus.listener(Stop)
        def finish(event: Stop) -> None:
            stop.set()

        print("ready", flush=True)
        await stop.wait()
    print(f"pings {seen['ping']} pongs {seen['pong']}", flush=True)


async def consume(url: str, stream: str, group: str, consumer: str, batch: str) -> None:
    bridge = RedisBridge(
        RedisOptions(
            url=url,
            stream=stream,
            group=group,
            consumer=consumer,
            receive=["tests.bridge.Job"],
            batch=int(batch),
            block=0.05,
            claim_idle=60,
        )
    )
    async with eventbus.open_bus(config={}, plugins=[bridge], discover=False) as bus:

        @bus.listener(Job)
        async def handle(event: Job) -> None:
            await trio.sleep(0.01)
            print(f"handled {event.n}", flush=True)

        print("ready", flush=True)
        await trio.sleep_forever()


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    trio.run({"pong": pong, "consume": consume}[mode], *args)
