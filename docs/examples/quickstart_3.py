import attrs
import trio

import eventbus


@attrs.frozen
class Audit(eventbus.Event):
    action: str


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.listener(Audit)
        def everywhere(event: Audit) -> None:
            print(f"bus listener: {event.action}")

        async with bus.scope("request-42", timeout=5) as sub:

            @sub.listener(Audit)
            def record(event: Audit) -> None:
                print(f"request-42 listener: {event.action}")

            await sub.emit(Audit("read"))  # runs the scope's listener and the bus's

        await bus.emit(Audit("write"))  # the scope is gone: `record` does not run


if __name__ == "__main__":
    trio.run(main)

# Output:
# bus listener: read
# request-42 listener: read
# bus listener: write
