import threading
import time

import attrs
import trio

import eventbus


@attrs.frozen
class Export(eventbus.Event):
    rows: int


async def main() -> None:
    finished = threading.Event()
    async with eventbus.open_bus(discover=False) as bus:

        def inline(event: Export) -> None:  # plain function: runs inline, to the end
            time.sleep(0.05)

        with bus.subscribe(Export, inline, kind="listener", timeout=0.01):
            start = trio.current_time()
            await bus.emit(Export(10))
            took = trio.current_time() - start
            print(f"inline: not interrupted, emit took >= 0.05 s: {took >= 0.05}")

        @bus.pipe(Export, thread=True, timeout=0.05)
        def in_thread(event: Export) -> Export:  # runs in a worker thread
            time.sleep(0.2)
            finished.set()
            return event

        start = trio.current_time()
        try:
            await bus.emit(Export(10))
        except eventbus.HandlerTimeout:
            took = trio.current_time() - start
            print(f"thread=True: HandlerTimeout after < 0.2 s: {took < 0.2}")
            print(f"the abandoned thread is still running: {not finished.is_set()}")
        await trio.to_thread.run_sync(finished.wait)
        print("the thread finished on its own; its result was discarded")


if __name__ == "__main__":
    trio.run(main)

# Output:
# inline: not interrupted, emit took >= 0.05 s: True
# thread=True: HandlerTimeout after < 0.2 s: True
# the abandoned thread is still running: True
# the thread finished on its own; its result was discarded
