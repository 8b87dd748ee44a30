import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Job(eventbus.Event):
    seconds: float


async def work(event: Job) -> None:
    await trio.sleep(event.seconds)


async def timed(label: str, emit) -> None:
    start = trio.current_time()
    try:
        await emit
        outcome = "done"
    except* eventbus.HandlerTimeout as group:
        outcome = f"HandlerTimeout after {group.exceptions[0].limit:g} s"
    except* eventbus.EmitTimeout as group:
        outcome = f"EmitTimeout after {group.exceptions[0].limit:g} s"
    print(f"{label:<38} {outcome} (took {trio.current_time() - start:g} s)")


async def main() -> None:
    # The bus default for listeners is 2 s (config key listener_timeout).
    async with eventbus.open_bus(discover=False, listener_timeout=2) as bus:
        bus.subscribe(Job, work, kind="listener")  # no timeout= of its own
        bus.subscribe(Job, work, kind="listener", timeout=10, owner="batch")

        await timed("bus default, 3 s job:", bus.emit(Job(3)))
        async with bus.scope("batch", timeout=5) as batch:
            await timed("scope timeout=5, 3 s job:", batch.emit(Job(3)))
        await timed("emit(timeout=1), 1.5 s job:", bus.emit(Job(1.5), timeout=1))
        await timed("emit(timeout=60), 3 s job:", bus.emit(Job(3), timeout=60))


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# bus default, 3 s job:                  HandlerTimeout after 2 s (took 3 s)
# scope timeout=5, 3 s job:              done (took 3 s)
# emit(timeout=1), 1.5 s job:            EmitTimeout after 1 s (took 1 s)
# emit(timeout=60), 3 s job:             HandlerTimeout after 2 s (took 3 s)
