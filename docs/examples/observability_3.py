import logging

import attrs
import trio
import trio.testing

import eventbus


class PrintHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(f"t={trio.current_time():g} {record.levelname} {record.name}: {record.getMessage()}")


@attrs.frozen
class Metric(eventbus.Event):
    value: int


async def main() -> None:
    logging.getLogger("eventbus").addHandler(PrintHandler())
    gate = trio.Event()
    async with eventbus.open_bus(discover=False, drain_timeout=1) as bus:
        # owner= names the plugin: its records go to "eventbus.plugin.<owner>".
        @bus.hook(Metric, owner="statsd")
        async def send(event: Metric) -> None:
            if event.value < 0:
                raise ValueError("negative metric")

        @bus.hook(Metric, owner="relay", capacity=1, overflow="drop")
        async def forward(event: Metric) -> None:
            await gate.wait()

        await bus.emit(Metric(-1))  # send fails: ERROR; forward holds it
        await trio.testing.wait_all_tasks_blocked()
        for value in (1, 2, 3):  # 1 fills forward's queue; 2 and 3 are dropped
            await bus.emit(Metric(value))

        gate.set()  # forward catches up: the burst is over
        await trio.testing.wait_all_tasks_blocked()
        gate = trio.Event()
        await bus.emit(Metric(4))  # forward holds it
        await trio.testing.wait_all_tasks_blocked()
        for value in (5, 6):  # 5 is queued, 6 dropped: a new burst, logged again
            await bus.emit(Metric(value))
        print(f"t={trio.current_time():g} leaving the block: 4 and 5 still undelivered")
    # Closing drains for up to drain_timeout=1 s, then gives up.
    for s in bus.stats():
        print(f"{s.owner}: failures={s.failures} drops={s.drops} lost={s.lost}")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# t=0 ERROR eventbus.plugin.statsd: hook 'main.<locals>.send' failed handling a __main__.Metric event; it keeps running for later events
# t=0 WARNING eventbus.plugin.relay: hook 'main.<locals>.forward' dropped a __main__.Metric event: its queue is full (capacity 1, overflow='drop'); further drops are counted in bus.stats() until it has room again
# t=0 WARNING eventbus.plugin.relay: hook 'main.<locals>.forward' dropped a __main__.Metric event: its queue is full (capacity 1, overflow='drop'); further drops are counted in bus.stats() until it has room again
# t=0 leaving the block: 4 and 5 still undelivered
# t=1 WARNING eventbus.plugin.relay: hook 'main.<locals>.forward' lost 2 __main__.Metric events (queued or in delivery) when the bus closed: they were cancelled after drain_timeout=1s; raise drain_timeout or make the handlers faster
# statsd: failures=1 drops=0 lost=0
# relay: failures=0 drops=3 lost=2
