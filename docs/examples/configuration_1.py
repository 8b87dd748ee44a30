import attrs
import trio

import eventbus


@attrs.frozen
class Greet(eventbus.Event):
    name: str


@attrs.frozen
class GreeterOptions:
    greeting: str = "Hello"
    punctuation: str = "!"


class Greeter(eventbus.Plugin):
    name = "greeter"
    Options = GreeterOptions  # [plugins.greeter] is structured into this

    def __init__(self, options: GreeterOptions) -> None:
        super().__init__(options)
        self.options: GreeterOptions = options

    @eventbus.listener(Greet)
    def greet(self, event: Greet) -> None:
        print(f"{self.options.greeting}, {event.name}{self.options.punctuation}")


async def main() -> None:
    # A path is read as TOML. Greeter is passed as a class, so the bus creates
    # it from its table; discover=False (keyword arguments win over the file's
    # `autoload`) keeps plugins installed on your machine out of the example.
    async with eventbus.open_bus(
        "docs/examples/eventbus.toml", plugins=[Greeter], discover=False
    ) as bus:
        settings = bus.settings
        print(f"pipe_timeout={settings.pipe_timeout} listener_timeout={settings.listener_timeout}")
        print(f"hook_timeout={settings.hook_timeout} hook_capacity={settings.hook_capacity}")
        for info in bus.plugins:
            print(f"plugin {info.name}: {info.state}, from {info.source}")
        await bus.emit(Greet("Ada"))  # greeting from the file, punctuation by default


if __name__ == "__main__":
    trio.run(main)

# Output:
# pipe_timeout=2.0 listener_timeout=5.0
# hook_timeout=None hook_capacity=1024
# plugin greeter: running, from __main__:Greeter
# Hi, Ada!
