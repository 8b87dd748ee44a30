"""A pytest test: run it with `pytest timeouts_5.py` (pytest-trio) or as a script."""

import attrs
import pytest
import trio
import trio.testing

import eventbus


@attrs.frozen
class Charge(eventbus.Event):
    cents: int


async def test_a_slow_gateway_times_out_in_no_time(autojump_clock: trio.testing.MockClock) -> None:
    async with eventbus.open_bus(discover=False, pipe_timeout=30) as bus:

        @bus.pipe(Charge)
        async def gateway(event: Charge) -> Charge:
            await trio.sleep(3600)  # a gateway that hangs
            return event

        with pytest.raises(eventbus.HandlerTimeout) as info:
            await bus.emit(Charge(100))

    assert info.value.limit == 30
    assert trio.current_time() == 30  # virtual seconds: the test took milliseconds


if __name__ == "__main__":
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(test_a_slow_gateway_times_out_in_no_time, clock, clock=clock)
    print("passed")

# Output:
# passed
