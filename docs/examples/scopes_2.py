import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Message(eventbus.Event):
    text: str


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        async with bus.scope("session") as session:

            @session.hook(Message)
            async def archive(event: Message) -> None:
                await trio.sleep(1)
                print(f"t={trio.current_time():g} archived {event.text!r}")

            await session.emit(Message("hello"))
            await session.emit(Message("bye"))
            print(f"t={trio.current_time():g} leaving the scope")
        # The block exit drained the scope's hook queue (within drain_timeout).
        print(f"t={trio.current_time():g} scope closed: {session.closed}, bus closed: {bus.closed}")
        try:
            await session.emit(Message("late"))
        except eventbus.BusClosed as exc:
            print(f"BusClosed: {exc}")
        await bus.emit(Message("still fine"))  # the parent is unaffected
        print("the bus still emits")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# t=0 leaving the scope
# t=1 archived 'hello'
# t=2 archived 'bye'
# t=2 scope closed: True, bus closed: False
# BusClosed: cannot emit on the scope 'session': it is closed. Emit and subscribe only inside its 'async with' block.
# the bus still emits
