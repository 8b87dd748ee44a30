import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Uploaded(eventbus.Event):
    name: str
    size: int = 0


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(Uploaded)
        async def measure(event: Uploaded) -> Uploaded:
            print(f"t={trio.current_time():g} pipe: measure")
            return attrs.evolve(event, size=len(event.name) * 100)

        @bus.hook(Uploaded)
        async def thumbnail(event: Uploaded) -> None:
            await trio.sleep(5)  # slow background work: the emitter does not wait
            print(f"t={trio.current_time():g} hook: thumbnail of {event.size} bytes done")

        @bus.listener(Uploaded)
        def queue_depth(event: Uploaded) -> None:
            # Hooks are queued before listeners run, with the piped event.
            (hook,) = [s for s in bus.stats() if s.kind == "hook"]
            print(f"t={trio.current_time():g} listener: hook queue holds {hook.queued}")

        @bus.listener(Uploaded)
        async def index(event: Uploaded) -> None:
            await trio.sleep(1)  # the emitter waits for every listener
            print(f"t={trio.current_time():g} listener: index done")

        await bus.emit(Uploaded("cat.png"))
        print(f"t={trio.current_time():g} emit returned")
    print(f"t={trio.current_time():g} bus closed (hooks drained)")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# t=0 pipe: measure
# t=0 listener: hook queue holds 1
# t=1 listener: index done
# t=1 emit returned
# t=5 hook: thumbnail of 700 bytes done
# t=5 bus closed (hooks drained)
