import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Reading(eventbus.Event):
    sensor: str
    value: float


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        async with bus.stream(Reading, capacity=2) as readings:
            for value in (1.0, 2.0):
                await bus.emit(Reading("t1", value))  # queued in the stream, FIFO
            print([(await readings.receive()).value for _ in range(2)])

            with trio.move_on_after(1):  # the queue is full: emit waits for room
                for value in (3.0, 4.0, 5.0):
                    await bus.emit(Reading("t1", value))
                    print(f"t={trio.current_time():g} emitted {value}")
            print(f"t={trio.current_time():g} third emit still waiting: cancelled")

        try:
            await bus.wait_for(Reading, where=lambda r: r.value > 100, timeout=2)
        except eventbus.WaitTimeout as exc:
            print(f"t={trio.current_time():g} {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# [1.0, 2.0]
# t=0 emitted 3.0
# t=0 emitted 4.0
# t=1 third emit still waiting: cancelled
# t=3 WaitTimeout: no matching __main__.Reading event arrived within 2 s; check that something emits it and that where= accepts it.
