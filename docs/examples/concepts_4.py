import logging

import attrs
import trio
import trio.testing

import eventbus


class PrintHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(f"log {record.levelname} {record.name}: {record.getMessage()}")


@attrs.frozen
class CacheStale(eventbus.Event):
    key: str


async def main() -> None:
    logging.getLogger("eventbus").addHandler(PrintHandler())
    async with eventbus.open_bus(discover=False) as bus:

        @bus.listener(CacheStale)
        async def refresh(event: CacheStale) -> None:
            if event.key == "broken":
                raise KeyError(event.key)
            print(f"refreshed {event.key}")

        bus.emit_soon(CacheStale("users"))  # sync: returns at once
        print("emit_soon returned")
        await trio.testing.wait_all_tasks_blocked()  # let it run
        bus.emit_soon(CacheStale("broken"))  # its failure is logged, not raised
    print("bus closed: background emits finished")


if __name__ == "__main__":
    trio.run(main)

# Output:
# emit_soon returned
# refreshed users
# log ERROR eventbus: emit_soon of a __main__.CacheStale event failed
# bus closed: background emits finished
