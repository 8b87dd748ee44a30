import threading
import time

import attrs
import trio
import trio.lowlevel

import eventbus


@attrs.frozen
class Resize(eventbus.Event):
    path: str


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.listener(Resize)
        def plain(event: Resize) -> None:  # called inline, in the trio thread
            print(f"plain function, main thread: {in_main_thread()}")

        @bus.listener(Resize)
        async def coroutine(event: Resize) -> None:  # awaited in a task
            await trio.lowlevel.checkpoint()
            print(f"async function, main thread: {in_main_thread()}")

        @bus.listener(Resize, thread=True, timeout=5)
        def blocking(event: Resize) -> None:  # trio.to_thread.run_sync
            time.sleep(0.01)  # blocking I/O is fine here
            print(f"thread=True, main thread: {in_main_thread()}")

        await bus.emit(Resize("cat.png"))


if __name__ == "__main__":
    trio.run(main)

# Output:
# plain function, main thread: True
# async function, main thread: True
# thread=True, main thread: False
