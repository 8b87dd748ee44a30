import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Chunk(eventbus.Event):
    n: int


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus, trio.open_nursery() as nursery:
        async with bus.scope("upload") as upload:

            @upload.hook(Chunk)
            async def store(event: Chunk) -> None:
                await trio.sleep(1)

            async def watchdog() -> None:
                await trio.sleep(0.5)
                print(f"t={trio.current_time():g} watchdog: upload.cancel()")
                upload.cancel()  # sync, from any task

            nursery.start_soon(watchdog)
            for n in range(3):
                await upload.emit(Chunk(n))
            await trio.sleep(10)  # the block body runs inside the scope's cancel scope
            print("not reached")
        print(f"t={trio.current_time():g} after the scope; no exception")
        (stats,) = upload.stats()
        print(f"store: calls={stats.calls} lost={stats.lost}")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# t=0.5 watchdog: upload.cancel()
# t=0.5 after the scope; no exception
# store: calls=0 lost=3
