"""The Redis bridge against a real Redis server (DESIGN section 13, issue 7).

Two processes exchange events without echo; a consumer killed mid-batch loses
nothing; 10,000 events survive cut connections and a restarted server; a
poison entry ends in the dead-letter stream while the consumer goes on.
Every test uses its own streams and groups (``names``) and deletes them.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest
import trio
from conftest import EXAMPLES, URL, peer_command, peer_env
from redis_events import Job, Ping, Pong, Stop, TestEvent

import eventbus
from eventbus.bridges.redis import (
    Codec,
    Delivery,
    RedisBridge,
    RedisOptions,
    current_delivery,
)

pytestmark = [
    pytest.mark.redis,
    # coredis leaves anyio memory streams of failed connections to the garbage
    # collector; with warnings as errors that would fail the outage tests.
    pytest.mark.filterwarnings("ignore:Unclosed <MemoryObject:ResourceWarning"),
]

ALL = ["tests.bridge.*"]


@attrs.frozen
class Opaque(TestEvent):
    """An event that the JSON converter cannot encode (its field is any object)."""

    __event_name__ = "tests.bridge.Opaque"
    thing: object


def make_bridge(stream: str | dict[str, str], url: str = URL, **options: Any) -> RedisBridge:
    options.setdefault("block", 0.05)
    return RedisBridge(RedisOptions(url=url, stream=stream, **options))


def open_bus(*plugins: eventbus.Plugin, **kwargs: Any) -> Any:
    return eventbus.open_bus(config={}, plugins=plugins, discover=False, **kwargs)


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll ``check`` (the bridge talks to a real server: there is no event to wait on)."""
    with trio.move_on_after(timeout):
        while not check():  # noqa: ASYNC110 - the state is in Redis and another bus
            await trio.sleep(0.01)
        return
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@contextlib.asynccontextmanager
async def peer(*args: str) -> AsyncIterator[trio.Process]:
    """``redis_peer.py`` in a process of its own; killed if still running at the end."""
    process = await trio.lowlevel.open_process(
        peer_command(*args), stdout=subprocess.PIPE, env=peer_env()
    )
    try:
        yield process
    finally:
        with trio.CancelScope(shield=True):
            if process.returncode is None:
                process.kill()
            await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()


async def read_line(stream: trio.abc.ReceiveStream, buffer: bytearray) -> str:
    while b"\n" not in buffer:
        chunk = await stream.receive_some()
        if not chunk:
            raise EOFError(f"the peer closed its output; so far: {bytes(buffer)!r}")
        buffer.extend(chunk)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode()


# -- two processes ------------------------------------------------------------------------


async def test_two_processes_exchange_events_without_echo(names: Any, client: Any) -> None:
    stream = names("exchange")
    count = 20
    seen: dict[type, list[int]] = {Ping: [], Pong: []}
    async with open_bus(make_bridge(stream, group=names("main"), forward=ALL, receive=ALL)) as bus:

        @bus.listener(TestEvent)
        def record(event: Any) -> None:
            if isinstance(event, Ping | Pong):
                seen[type(event)].append(event.n)

        async with peer("pong", URL, stream, names("peer")) as process:
            assert process.stdout is not None
            buffer = bytearray()
            with trio.fail_after(20):
                assert await read_line(process.stdout, buffer) == "ready"
            for n in range(count):
                await bus.emit(Ping(n))
            await wait_until(lambda: len(seen[Pong]) == count, f"{count} Pongs")
            await bus.emit(Stop())
            with trio.fail_after(20):
                summary = await read_line(process.stdout, buffer)
                assert await process.wait() == 0
    # The peer saw each Ping once, and only its own Pongs (no echo of them).
    assert summary == f"pings {count} pongs {count}"
    # Here: our own Pings only (none came back), the peer's Pongs once each.
    assert sorted(seen[Ping]) == list(range(count))
    assert sorted(seen[Pong]) == list(range(count))
    # Nothing was forwarded twice: our Pings, the peer's Pongs, the Stop.
    assert await client.xlen(stream) == 2 * count + 1


# -- redelivery ----------------------------------------------------------------------------


async def test_consumer_killed_mid_batch_has_its_entries_claimed(names: Any) -> None:
    stream, group = names("jobs"), names("workers")
    total = 120
    handled_there: set[int] = set()
    async with peer("consume", URL, stream, group, "doomed", "60") as process:
        assert process.stdout is not None
        buffer = bytearray()
        with trio.fail_after(20):
            assert await read_line(process.stdout, buffer) == "ready"
        async with open_bus(make_bridge(stream, forward=["tests.bridge.Job"])) as bus:
            for n in range(total):
                await bus.emit(Job(n))
        with trio.fail_after(20):
            while len(handled_there) < 15:
                line = await read_line(process.stdout, buffer)
                handled_there.add(int(line.removeprefix("handled ")))
        process.send_signal(signal.SIGKILL)  # mid-batch: nothing acknowledged
        await process.wait()
    assert len(handled_there) < total

    handled_here: list[int] = []
    rescuer = make_bridge(
        stream, group=group, consumer="rescuer", receive=["tests.bridge.Job"], claim_idle=0.2
    )
    async with open_bus(rescuer) as bus:

        @bus.listener(Job)
        def handle(event: Job) -> None:
            handled_here.append(event.n)

        await wait_until(lambda: handled_there | set(handled_here) >= set(range(total)), "all")
    assert set(handled_there) | set(handled_here) == set(range(total))
    assert rescuer.stats().claimed > 0, "the dead consumer's entries were claimed"
    assert rescuer.stats().failed == 0


# -- Redis going away ----------------------------------------------------------------------


@attrs.define
class Flow:
    """Events streaming from one bus to another, for an outage to interfere with."""

    producer: RedisBridge
    consumer: RedisBridge
    total: int
    received: set[int] = attrs.field(factory=set)

    def reconnected(self) -> bool:
        return self.producer.stats().reconnects > 0 and self.consumer.stats().reconnects > 0


async def stream_through_outages(
    url: str, stream: str, group: str, outage: Callable[[Flow], Any], total: int = 10_000
) -> Flow:
    """Emit ``total`` Jobs on one bus, receive them on another, with outages meanwhile.

    The bridges' consumer names, and so their Redis client names, include
    ``stream``: unique to the test.
    """
    flow = Flow(
        producer=make_bridge(
            stream, url=url, forward=["tests.bridge.Job"], consumer=f"producer@{stream}"
        ),
        consumer=make_bridge(
            stream,
            url=url,
            group=group,
            consumer=f"consumer@{stream}",
            receive=["tests.bridge.Job"],
            claim_idle=0.5,
        ),
        total=total,
    )
    async with open_bus(flow.consumer) as receiving, open_bus(flow.producer) as sending:

        @receiving.listener(Job)
        def handle(event: Job) -> None:
            flow.received.add(event.n)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(outage, flow)
            for n in range(total):
                await sending.emit(Job(n))
        await wait_until(lambda: len(flow.received) == total, f"{total} events", timeout=30)
    return flow


async def test_connection_cut_during_10000_events(names: Any, client: Any) -> None:
    kills: list[int] = []

    async def kill(flow: Flow) -> None:
        # This test's bridges' connections, by their client names (unique to
        # the test): other clients of the shared server, other runs of this
        # test among them, are spared.
        ours = {f"eventbus:{bridge.consumer}" for bridge in (flow.producer, flow.consumer)}
        found = [info["id"] for info in await client.client_list() if info.get("name") in ours]
        kills.extend([await client.client_kill(identifier=id_) for id_ in found])

    def reconnects(flow: Flow) -> int:
        return flow.producer.stats().reconnects + flow.consumer.stats().reconnects

    async def cut(flow: Flow) -> None:
        with trio.move_on_after(10):
            # Every 30 ms while the events stream, until both bridges have had
            # to reconnect.
            while not flow.reconnected() and len(flow.received) < flow.total:
                await trio.sleep(0.03)
                await kill(flow)
            # The stream may end before a cut lands on a connection in use (one
            # killed while idle in the pool is replaced unnoticed): cut on, less
            # often than a blocked read lasts, until a bridge has reconnected.
            while not reconnects(flow):
                await kill(flow)
                await trio.sleep(0.3)

    flow = await stream_through_outages(URL, names("cut"), names("g"), cut)
    assert flow.received == set(range(10_000))
    assert sum(kills) > 0, "connections were cut"
    assert reconnects(flow) > 0
    assert flow.producer.stats().forwarded >= 10_000
    assert flow.consumer.stats().dead_lettered == 0


async def test_redis_restart_during_10000_events(names: Any, private_redis: Any) -> None:
    async def restart(flow: Flow) -> None:
        await wait_until(lambda: len(flow.received) > 1000, "the stream to flow")
        await trio.to_thread.run_sync(private_redis.stop)
        await trio.sleep(0.3)  # emitters wait meanwhile: the hook queue is full
        await trio.to_thread.run_sync(private_redis.start)

    flow = await stream_through_outages(private_redis.url, names("restart"), names("g"), restart)
    assert flow.received == set(range(10_000))
    assert flow.producer.stats().reconnects >= 1
    assert flow.consumer.stats().reconnects >= 1


async def test_emitters_wait_while_redis_is_away(names: Any, private_redis: Any) -> None:
    stream = names("pressure")
    producer = make_bridge(
        stream, url=private_redis.url, forward=["tests.bridge.Job"], batch=2, capacity=4
    )
    emitted = 0
    async with open_bus(producer) as bus:
        await trio.to_thread.run_sync(private_redis.stop)

        async def emit_all() -> None:
            nonlocal emitted
            for n in range(50):
                await bus.emit(Job(n))
                emitted += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(emit_all)
            await trio.sleep(0.5)
            # The hook's queue (4), then three batches of 2: the one being
            # written, the one waiting for it, and the one the hook holds
            # while it waits. Then the emitter waits; nothing is lost.
            assert emitted <= 4 + 3 * 2
            await trio.to_thread.run_sync(private_redis.start)
        assert emitted == 50
    import coredis

    async with coredis.Redis.from_url(private_redis.url) as redis:
        assert await redis.xlen(stream) == 50


async def test_a_vanished_group_is_created_again(names: Any, client: Any) -> None:
    """The stream (and its group) deleted under a running consumer, as by a restart."""
    stream = names("vanish")
    got: list[int] = []
    consumer = make_bridge(stream, group=names("g"), receive=ALL)
    async with open_bus(consumer) as bus:
        bus.listener(Job)(lambda event: got.append(event.n))
        codec = Codec()
        await client.xadd(stream, codec.encode(Job(1), b"elsewhere"))
        await wait_until(lambda: got == [1], "the first job")
        await client.delete([stream])
        await client.xadd(stream, codec.encode(Job(2), b"elsewhere"))  # a new stream
        await wait_until(lambda: got == [1, 2], "the job of the new stream")


async def test_stopping_while_redis_is_away_is_prompt_and_says_what_is_lost(
    names: Any, private_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stream = names("away")
    bridge = make_bridge(
        stream, url=private_redis.url, forward=["tests.bridge.Job"], receive=["tests.bridge.Ping"]
    )
    start = trio.current_time()
    async with open_bus(bridge, drain_timeout=0.5) as bus:
        await trio.to_thread.run_sync(private_redis.stop)
        for n in range(10):
            await bus.emit(Job(n))
        await wait_until(lambda: bridge.stats().forwarded == 0 and not bridge._link.up, "the loss")  # type: ignore[union-attr]
    assert trio.current_time() - start < 5
    assert bridge.stats().not_forwarded == 10
    assert any("10 events were not forwarded" in r.getMessage() for r in caplog.records)


# -- dead letters --------------------------------------------------------------------------


async def test_poison_entry_lands_in_dead_letter_after_max_deliveries(
    names: Any, client: Any
) -> None:
    stream, group = names("poison"), names("g")
    attempts: dict[int, int] = {}
    handled: list[int] = []
    consumer = make_bridge(
        stream, group=group, receive=["tests.bridge.Job"], max_deliveries=3, claim_idle=0.1
    )
    async with open_bus(consumer) as bus:

        @bus.listener(Job)
        def handle(event: Job) -> None:
            attempts[event.n] = attempts.get(event.n, 0) + 1
            if event.n == 3:
                raise RuntimeError("job 3 cannot be handled")
            handled.append(event.n)

        codec = Codec()
        for n in range(10):
            await client.xadd(stream, codec.encode(Job(n), b"test-producer"))
        await wait_until(lambda: consumer.stats().dead_lettered == 1, "the dead letter")
        await wait_until(lambda: len(handled) == 9, "the other jobs")
        for n in range(10, 13):  # the consumer keeps going
            await client.xadd(stream, codec.encode(Job(n), b"test-producer"))
        await wait_until(lambda: len(handled) == 12, "the later jobs")

    assert attempts[3] == 3
    assert sorted(handled) == [n for n in range(13) if n != 3]
    (entry, *rest) = await client.xrange(f"{stream}:dead")
    assert not rest
    dead = entry.field_values
    assert dead[b"name"] == b"tests.bridge.Job"
    assert dead[b"stream"] == stream.encode()
    assert dead[b"deliveries"] == b"3"
    reason = dead[b"reason"].decode()
    assert "max_deliveries=3" in reason
    assert "job 3 cannot be handled" in reason
    assert Codec().decode(dead)[1] == Job(3)
    pending = await client.xpending(stream, group)
    assert pending.pending == 0, "nothing left unacknowledged"


async def test_undecodable_entries_go_to_dead_letter_and_reading_goes_on(
    names: Any, client: Any
) -> None:
    stream = names("garbage")
    handled: list[int] = []
    consumer = make_bridge(stream, group=names("g"), receive=["tests.bridge.*"])
    async with open_bus(consumer) as bus:

        @bus.listener(Job)
        def handle(event: Job) -> None:
            handled.append(event.n)

        good = Codec().encode(Job(1), b"elsewhere")
        await client.xadd(stream, {"hello": "world"})
        await client.xadd(stream, {**good, b"name": b"tests.bridge.Nope"})
        await client.xadd(stream, {**good, b"data": b"{not json"})
        await client.xadd(stream, {**good, b"data": b'{"n": "many"}'})
        await client.xadd(stream, {**good, b"v": b"99"})
        await client.xadd(stream, {**good, b"name": b"somewhere.Else"})  # not received: skipped
        await client.xadd(stream, good)
        await wait_until(lambda: handled == [1], "the good entry")
        await wait_until(lambda: consumer.stats().dead_lettered == 5, "5 dead letters")
    dead = await client.xrange(f"{stream}:dead")
    reasons = [entry.field_values[b"reason"].decode() for entry in dead]
    assert "field 'v' is missing" in reasons[0]
    assert "unknown event name 'tests.bridge.Nope'" in reasons[1]
    assert "not JSON" in reasons[2]
    assert "does not structure" in reasons[3]
    assert "schema version 99" in reasons[4]
    assert consumer.stats().skipped == 1


async def test_a_malformed_origin_goes_to_dead_letter_once_the_name_is_known(
    names: Any, client: Any
) -> None:
    """The reader's shortcut for names it has seen must still check the origin."""
    stream = names("origin")
    handled: list[int] = []
    consumer = make_bridge(stream, group=names("g"), receive=["tests.bridge.*"])
    async with open_bus(consumer) as bus:

        @bus.listener(Job)
        def handle(event: Job) -> None:
            handled.append(event.n)

        await client.xadd(stream, Codec().encode(Job(1), b"elsewhere"))
        await wait_until(lambda: handled == [1], "the first entry")
        await client.xadd(stream, {**Codec().encode(Job(2), b"elsewhere"), b"origin": b"\xff\xfe"})
        await client.xadd(stream, Codec().encode(Job(3), b"elsewhere"))
        await wait_until(lambda: handled == [1, 3], "the entry after the bad one")
        await wait_until(lambda: consumer.stats().dead_lettered == 1, "the dead letter")
    (dead,) = await client.xrange(f"{stream}:dead")
    assert "malformed envelope" in dead.field_values[b"reason"].decode()


async def test_a_refused_command_is_retried_not_fatal(
    names: Any, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The dead-letter key holds a string (WRONGTYPE) until someone deletes it."""
    stream = names("refused")
    await client.set(f"{stream}:dead", "not a stream")
    consumer = make_bridge(stream, group=names("g"), receive=ALL, claim_idle=0.1)
    async with open_bus(consumer):
        await client.xadd(stream, {"garbage": "1"})
        await wait_until(
            lambda: any("Redis refused a command" in r.getMessage() for r in caplog.records),
            "the refusal",
        )
        await client.delete([f"{stream}:dead"])
        await wait_until(lambda: consumer.stats().dead_lettered == 1, "the dead letter")
    assert await client.xlen(f"{stream}:dead") == 1


# -- what is forwarded ---------------------------------------------------------------------


async def test_remote_events_are_not_forwarded_again_but_follow_ups_are(
    names: Any, client: Any
) -> None:
    """B stamps remote Pings in a pipe (a new object) and answers some with a new Ping."""
    stream = names("relay")
    a = make_bridge(stream, group=names("a"), forward=ALL, receive=ALL)
    b = make_bridge(stream, group=names("b"), forward=ALL, receive=ALL)
    seen_by_b: list[tuple[int, Delivery | None]] = []
    async with open_bus(a) as bus_a, open_bus(b) as bus_b:

        @bus_b.pipe(Ping)
        def stamp(event: Ping) -> Ping:
            return attrs.evolve(event, n=event.n + 1000) if event.n < 1000 else event

        @bus_b.listener(Ping)
        async def answer(event: Ping) -> None:
            seen_by_b.append((event.n, current_delivery()))
            if event.n == 1001:
                await bus_b.emit(Ping(7))  # a new, local event: forwarded

        await bus_a.emit(Ping(1))
        await wait_until(lambda: a.stats().received == 1, "A receives B's follow-up")
        await trio.sleep(0.2)  # time for any wrong re-forwarding to show
    entries = await client.xrange(stream)
    assert [Codec().decode(e.field_values)[1] for e in entries] == [Ping(1), Ping(1007)]
    (n, delivery), (follow_up, _) = seen_by_b
    assert (n, follow_up) == (1001, 1007)
    assert delivery is not None
    assert (delivery.stream, delivery.id) == (stream, entries[0].identifier.decode())
    assert delivery.origin == a.origin
    assert delivery.deliveries == 1
    assert b.stats().forwarded == 1
    assert current_delivery() is None


async def test_rejected_entries_are_acknowledged(names: Any, client: Any) -> None:
    stream, group = names("reject"), names("g")
    consumer = make_bridge(stream, group=group, receive=ALL, claim_idle=0.05)
    async with open_bus(consumer) as bus:

        @bus.pipe(Job)
        def refuse(event: Job) -> Job:
            raise eventbus.Rejected("not today")

        await client.xadd(stream, Codec().encode(Job(1), b"elsewhere"))
        await wait_until(lambda: consumer.stats().rejected == 1, "the rejection")
        await trio.sleep(0.2)  # several claim sweeps: nothing comes back
    assert consumer.stats().rejected == 1
    assert (await client.xpending(stream, group)).pending == 0


async def test_stopping_forwards_what_is_queued(names: Any, client: Any) -> None:
    stream = names("drain")
    bridge = make_bridge(stream, forward=ALL, batch=7)
    async with open_bus(bridge, checkpoint="cancel") as bus:
        # Emits that do not yield: the events wait in the hook's queue.
        for n in range(500):
            await bus.emit(Job(n))
        assert bridge.stats().forwarded < 500
    entries = await client.xrange(stream)
    assert [Codec().decode(e.field_values)[1] for e in entries] == [Job(n) for n in range(500)]


async def test_an_event_that_does_not_encode_fails_the_hook_and_the_others_go(
    names: Any, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stream = names("encode")
    bridge = make_bridge(stream, forward=ALL)
    async with open_bus(bridge) as bus:
        await bus.emit(Job(1))
        await bus.emit(Opaque(object()))  # the emit itself succeeds: the hook fails later
        await bus.emit(Job(2))
    entries = await client.xrange(stream)
    assert [Codec().decode(e.field_values)[1] for e in entries] == [Job(1), Job(2)]
    failed = [r for r in caplog.records if "failed handling" in r.getMessage()]
    assert len(failed) == 1
    assert "Opaque" in failed[0].getMessage()
    assert failed[0].exc_info is not None
    assert failed[0].exc_info[0] is TypeError


# -- Redis Cluster -------------------------------------------------------------------------


async def test_works_against_a_redis_cluster(private_cluster: Any) -> None:
    import coredis

    streams = {"tests.bridge.Ping": "cluster:pings", "*": "cluster:other"}
    common: dict[str, Any] = {
        "url": private_cluster.url,
        "cluster": True,
        "forward": ALL,
        "receive": ALL,
        "max_deliveries": 2,
        "claim_idle": 0.1,
    }
    a = make_bridge(streams, group="a", **common)
    b = make_bridge(streams, group="b", **common)
    got: list[Any] = []
    async with open_bus(a) as bus_a, open_bus(b) as bus_b:

        @bus_b.listener(TestEvent)
        def handle(event: Any) -> None:
            if event == Ping(3):
                raise RuntimeError("poison")
            got.append(event)

        for n in range(50):
            await bus_a.emit(Ping(n))
            await bus_a.emit(Job(n))
        await wait_until(lambda: len(got) == 99 and b.stats().dead_lettered == 1, "all")
    assert sorted(e.n for e in got if isinstance(e, Ping)) == [n for n in range(50) if n != 3]
    assert sorted(e.n for e in got if isinstance(e, Job)) == list(range(50))
    assert a.stats().received == 0  # nothing came back to A
    node = coredis.connection.TCPLocation("127.0.0.1", private_cluster.ports[0])
    async with coredis.RedisCluster(startup_nodes=[node]) as cluster:
        assert await cluster.xlen("cluster:pings") == 50
        assert await cluster.xlen("cluster:other") == 50
        assert await cluster.xlen("cluster:pings:dead") == 1


# -- configuration -------------------------------------------------------------------------


async def test_configured_by_path_in_a_toml_file(
    names: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="eventbus")
    stream = names("toml")
    config = tmp_path / "eventbus.toml"
    config.write_text(
        f"""
[plugins.bridge]
path = "eventbus.bridges.redis:RedisBridge"
url = "{URL}"
stream = {{ "tests.bridge.*" = "{stream}" }}
group = "{names("toml-group")}"
forward = ["tests.bridge.Job"]
receive = ["tests.bridge.Ping"]
block = 0.05
"""
    )
    got: list[Ping] = []
    async with (
        eventbus.open_bus(config, discover=False) as bus,
        open_bus(make_bridge(stream, forward=ALL)) as other,
    ):
        (info,) = bus.plugins
        assert (info.name, info.state) == ("bridge", "running")
        bus.listener(Ping)(got.append)
        await other.emit(Ping(5))
        await bus.emit(Job(6))
        await wait_until(lambda: got == [Ping(5)], "the Ping")
    bridge_logs = [r for r in caplog.records if r.name == "eventbus.plugin.bridge"]
    assert any("connected to Redis" in r.getMessage() for r in bridge_logs)
    assert any("stopped: forwarded 1, received 1" in r.getMessage() for r in bridge_logs)


async def test_the_documented_worker_runs_under_eventbus_run(
    names: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/examples/bridge/worker.toml under `eventbus run` answers a shop; SIGTERM stops it."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from shop_billing import InvoiceSent, OrderPlaced

    stream, group = names("shop"), names("billing")
    config = tmp_path / "worker.toml"
    text = (EXAMPLES / "worker.toml").read_text()
    config.write_text(
        text.replace('"shop:events"', f'"{stream}"').replace('"billing"', f'"{group}"')
    )
    invoices: list[int] = []
    shop = make_bridge(stream, forward=["shop.OrderPlaced"], receive=["shop.InvoiceSent"])
    async with open_bus(shop) as bus:
        bus.listener(InvoiceSent)(lambda event: invoices.append(event.order))
        command = [sys.executable, "-m", "eventbus", "run", "--config", str(config)]
        worker = await trio.lowlevel.open_process(
            command, stderr=subprocess.PIPE, env=peer_env(), cwd=EXAMPLES
        )
        try:
            assert worker.stderr is not None
            log = bytearray()
            with trio.fail_after(20):
                while b"ready" not in log:
                    chunk = await worker.stderr.receive_some()
                    assert chunk, f"the worker exited: {bytes(log).decode()}"
                    log.extend(chunk)
            for n in range(5):
                await bus.emit(OrderPlaced(n, 10.0 * n))
            await wait_until(lambda: sorted(invoices) == list(range(5)), "the invoices")
            worker.send_signal(signal.SIGTERM)
            with trio.fail_after(20):
                while chunk := await worker.stderr.receive_some():
                    log.extend(chunk)
                assert await worker.wait() == 0, bytes(log).decode()
        finally:
            with trio.CancelScope(shield=True):
                if worker.returncode is None:
                    worker.kill()
                await worker.wait()
    output = bytes(log).decode()
    assert "stopped: forwarded 5, received 5" in output
    assert "eventbus.plugin.bridge" in output


async def test_the_documented_example_prints_what_the_page_says(names: Any) -> None:
    """docs/examples/bridge/distributed_1.py, on a stream and group of this test's own."""
    source = (EXAMPLES / "distributed_1.py").read_text()
    expected = [line.removeprefix("# ") for line in source.split("# Output:\n")[1].splitlines()]
    code = source.replace('"demo:orders"', repr(names("orders")))
    code = code.replace('group="billing"', f"group={names('billing')!r}")
    result = await trio.run_process(
        [sys.executable, "-c", code], capture_stdout=True, capture_stderr=True, env=peer_env()
    )
    assert result.stdout.decode().splitlines() == expected, result.stderr.decode()


async def test_start_fails_clearly_when_redis_does_not_answer() -> None:
    from conftest import free_port

    bridge = RedisBridge(RedisOptions(url=f"redis://127.0.0.1:{free_port()}/0", receive=ALL))
    with pytest.raises(eventbus.PluginError) as info:
        async with open_bus(bridge):
            pass  # pragma: no cover - it does not open
    assert info.value.phase == "start"
    assert "cannot reach Redis at redis://127.0.0.1:" in str(info.value)


async def test_bad_options_are_a_config_error() -> None:
    table = {
        "path": "eventbus.bridges.redis:RedisBridge",
        "batch": 0,
        "url": "http://nope",
    }
    with pytest.raises(eventbus.PluginError) as info:
        async with eventbus.open_bus({"plugins": {"bridge": table}}, discover=False):
            pass  # pragma: no cover - it does not open
    assert info.value.phase == "config"
    assert "plugins.bridge" in str(info.value)
