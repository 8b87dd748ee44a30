import attrs
import trio
import trio.lowlevel

import eventbus


@attrs.frozen
class Tick(eventbus.Event):
    n: int


async def other_task_runs(checkpoint: str) -> bool:
    """Emit 100 events nobody subscribed to; does another task get to run meanwhile?"""
    ran = 0

    async def other() -> None:
        nonlocal ran
        while True:
            ran += 1
            await trio.lowlevel.checkpoint()

    async with eventbus.open_bus(discover=False, checkpoint=checkpoint) as bus:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(other)
            for n in range(100):
                await bus.emit(Tick(n))
            ran_during_loop = ran > 0
            nursery.cancel_scope.cancel()
        with trio.CancelScope() as cancel_scope:
            cancel_scope.cancel()
            await bus.emit(Tick(-1))  # raises Cancelled in both modes
        print(f"checkpoint={checkpoint!r}: cancellation point: {cancel_scope.cancelled_caught}")
    return ran_during_loop


async def main() -> None:
    for mode in ("full", "cancel"):
        print(f"checkpoint={mode!r}: other task ran during the loop: {await other_task_runs(mode)}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# checkpoint='full': cancellation point: True
# checkpoint='full': other task ran during the loop: True
# checkpoint='cancel': cancellation point: True
# checkpoint='cancel': other task ran during the loop: False
