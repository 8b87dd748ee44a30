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
    audited = []
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(OrderPlaced)  # an ordered chain: returns the event to pass on
        async def price(event: OrderPlaced) -> OrderPlaced:
            return attrs.evolve(event, total=9.5)

        @bus.listener(OrderPlaced)  # runs concurrently; emit waits for it
        async def confirm(event: OrderPlaced) -> None:
            print(f"confirm order {event.order_id}: {event.total}")

        @bus.hook(OrderPlaced)  # runs in the background; emit does not wait
        async def audit(event: OrderPlaced) -> None:
            audited.append(event.order_id)

        placed = await bus.emit(OrderPlaced(order_id=1))
        print(f"emit returned {placed}")
    print(f"audited by the time the bus closed: {audited}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# confirm order 1: 9.5
# emit returned OrderPlaced(order_id=1, total=9.5)
# audited by the time the bus closed: [1]
