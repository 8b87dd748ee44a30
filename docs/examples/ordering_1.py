import attrs
import trio

import eventbus


@attrs.frozen
class Request(eventbus.Event):
    trail: tuple[str, ...] = ()


def step(name: str):
    def pipe(event: Request) -> Request:
        return attrs.evolve(event, trail=(*event.trail, name))

    pipe.__qualname__ = name
    return pipe


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        bus.subscribe(Request, step("bus-b"), kind="pipe")
        bus.subscribe(Request, step("bus-early"), kind="pipe", order=-10)
        bus.subscribe(Request, step("bus-c"), kind="pipe")  # same order: registration sequence
        async with bus.scope("request") as scope:
            scope.subscribe(Request, step("scope-a"), kind="pipe")  # same order: after the bus's
            scope.subscribe(Request, step("scope-first"), kind="pipe", order=-20)
            print("on the scope:", " -> ".join((await scope.emit(Request())).trail))
        print("on the bus:  ", " -> ".join((await bus.emit(Request())).trail))


if __name__ == "__main__":
    trio.run(main)

# Output:
# on the scope: scope-first -> bus-early -> bus-b -> bus-c -> scope-a
# on the bus:   bus-early -> bus-b -> bus-c
