import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Frame(eventbus.Event):
    n: int


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus, trio.open_nursery() as nursery:

        async def producer(scope: eventbus.Bus) -> None:
            # A task outside the scope's block may emit on it...
            try:
                await scope.emit(Frame(1))
            except eventbus.BusClosed as exc:
                # ...and the scope's close cancels that emit's work.
                print(f"{trio.current_time():g} producer: BusClosed: {exc}")

        async with bus.scope("connection") as connection:

            @connection.listener(Frame)
            async def decode(event: Frame) -> None:
                try:
                    await trio.sleep(10)
                finally:
                    print(f"{trio.current_time():g} decode: cancelled")

            nursery.start_soon(producer, connection)
            await trio.sleep(1)
            print(f"{trio.current_time():g} closing the scope")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# 1 closing the scope
# 1 decode: cancelled
# 1 producer: BusClosed: cannot emit on the scope 'connection': it is closed. Emit and subscribe only inside its 'async with' block.
