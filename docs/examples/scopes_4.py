import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Render(eventbus.Event):
    page: str


def now() -> str:
    return f"t={trio.current_time():g}"


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(Render)  # subscribed on the bus, no timeout of its own
        async def template(event: Render) -> Render:
            if event.page == "slow":
                await trio.sleep(2)
            return event

        @bus.hook(Render)  # subscribed on the bus: runs in the bus's background
        async def bus_hook(event: Render) -> None:
            await trio.sleep(2)

        await bus.emit(Render("slow"))
        print(f"{now()} emit on the bus: the 2 s pipe finished")

        async with bus.scope("request", timeout=1) as request:

            @request.hook(Render)  # subscribed in the scope: the scope's 1 s applies
            async def scope_hook(event: Render) -> None:
                await trio.sleep(2)

            try:
                await request.emit(Render("slow"))  # the bus's pipe, limited to 1 s
            except eventbus.HandlerTimeout as exc:
                print(f"{now()} emit on the scope: {exc.handler} stopped after {exc.limit:g} s")
            await request.emit(Render("fast"))  # queued to both hooks
        print(f"{now()} scope closed")
    print(f"{now()} bus closed")
    for s in (*request.stats(), *bus.stats()):
        if s.kind == "hook":
            print(f"{s.handler}: calls={s.calls} timeouts={s.timeouts}")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# t=2 emit on the bus: the 2 s pipe finished
# t=3 emit on the scope: main.<locals>.template stopped after 1 s
# t=4 scope closed
# t=6 bus closed
# main.<locals>.scope_hook: calls=1 timeouts=1
# main.<locals>.bus_hook: calls=2 timeouts=0
