import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Sync(eventbus.Event):
    pass


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.listener(Sync, timeout=10)
        async def upload(event: Sync) -> None:
            try:
                await trio.sleep(5)
            finally:
                print(f"t={trio.current_time():g} upload: cancelled")

        @bus.pipe(Sync)
        async def prepare(event: Sync) -> Sync:
            return event

        with trio.move_on_after(1) as cancel_scope:  # the caller's own deadline
            await bus.emit(Sync())
        print(f"t={trio.current_time():g} cancelled_caught={cancel_scope.cancelled_caught}")

        try:
            with trio.fail_after(1):
                await bus.emit(Sync())
        except trio.TooSlowError:
            print(f"t={trio.current_time():g} trio.TooSlowError, not an eventbus error")


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

# Output:
# t=1 upload: cancelled
# t=1 cancelled_caught=True
# t=2 upload: cancelled
# t=2 trio.TooSlowError, not an eventbus error
