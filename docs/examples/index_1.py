import attrs
import trio

import eventbus


# --8<-- [start:event]
@attrs.frozen
class OrderPlaced(eventbus.Event):
    order_id: int
    total: float = 0.0
    # --8<-- [end:event]


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(OrderPlaced)  # in order; returns the event to pass on
        async def price(event: OrderPlaced) -> OrderPlaced:
            return attrs.evolve(event, total=9.5)

        @bus.listener(OrderPlaced)  # all at once; emit waits for them
        async def confirm(event: OrderPlaced) -> None:
            print(f"order {event.order_id} confirmed: {event.total}")

        print(await bus.emit(OrderPlaced(order_id=1)))


trio.run(main)

# Output:
# order 1 confirmed: 9.5
# OrderPlaced(order_id=1, total=9.5)
