import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Lookup(eventbus.Event):
    key: str


async def slow(event: Lookup) -> Lookup:
    await trio.sleep(5)
    return event


def now() -> str:
    return f"t={trio.current_time():g}"


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        # A pipe's timeout aborts the chain with HandlerTimeout.
        with bus.subscribe(Lookup, slow, kind="pipe", timeout=1):
            try:
                await bus.emit(Lookup("a"))
            except eventbus.HandlerTimeout as exc:
                print(f"{now()} pipe: {type(exc).__name__}, limit {exc.limit:g} s")

        # A listener's timeout is one failure inside ListenerError.
        with bus.subscribe(Lookup, slow, kind="listener", timeout=1):
            try:
                await bus.emit(Lookup("b"))
            except* eventbus.HandlerTimeout as group:
                print(f"{now()} listener: {group.exceptions[0].handler} timed out")

        # A hook's timeout is reported (log, stats, instruments); the emitter never sees it.
        bus.subscribe(Lookup, slow, kind="hook", timeout=1)
        await bus.emit(Lookup("c"))
        print(f"{now()} hook: emit returned at once")
    (stats,) = bus.stats()
    print(f"{now()} bus closed; hook: calls={stats.calls} timeouts={stats.timeouts}")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# t=1 pipe: HandlerTimeout, limit 1 s
# t=2 listener: slow timed out
# t=2 hook: emit returned at once
# t=3 bus closed; hook: calls=1 timeouts=1
