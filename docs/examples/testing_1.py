"""greeter.py: the plugin this guide tests (run it: python greeter.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import attrs
import trio

import eventbus


@attrs.frozen
class Greet(eventbus.Event):
    name: str


@attrs.frozen
class Greeted(eventbus.Event):
    name: str
    text: str


@attrs.frozen
class GreeterOptions:
    greeting: str = "Hello"
    max_length: int = attrs.field(default=20, validator=attrs.validators.ge(1))


class GreeterPlugin(eventbus.Plugin):
    name = "greeter"
    Options = GreeterOptions

    def __init__(self, options: GreeterOptions) -> None:
        super().__init__(options)
        self.options: GreeterOptions = options
        self.guest_book: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        self.bus = bus  # to emit from the handlers
        yield

    @eventbus.pipe(Greet)
    def tidy(self, event: Greet) -> Greet:
        name = event.name.strip()[: self.options.max_length].strip()
        if not name:
            raise eventbus.Rejected("nobody to greet")
        return attrs.evolve(event, name=name)

    @eventbus.listener(Greet)
    async def reply(self, event: Greet) -> None:
        text = f"{self.options.greeting}, {event.name}!"
        await self.bus.emit(Greeted(event.name, text))

    @eventbus.hook(Greet, timeout=2)
    async def sign(self, event: Greet) -> None:
        await trio.sleep(0.5)  # a slow write, off the emitter's path
        self.guest_book.append(event.name)


async def main() -> None:
    greeter = GreeterPlugin(GreeterOptions())
    async with eventbus.open_bus(plugins=[greeter], discover=False) as bus:
        bus.listener(Greeted)(lambda event: print(event.text))
        await bus.emit(Greet("  Ada  "))
    print(f"guest book: {greeter.guest_book}")  # the hook ran before the bus closed


if __name__ == "__main__":
    trio.run(main)

# Output:
# Hello, Ada!
# guest book: ['Ada']
