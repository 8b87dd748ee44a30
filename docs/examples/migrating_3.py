import attrs
import trio

import eventbus


@attrs.frozen
class OrderPlaced(eventbus.Event):  # the event name, as a type
    order_id: int
    total: float


class ReportErrors:  # an instrument: what pyee's "error" event is for
    def handler_failed(self, sub: object, event: object, error: Exception) -> None:
        print(f"error: {error}")


async def main() -> None:
    confirmed: list[int] = []
    async with eventbus.open_bus(discover=False) as bus:
        bus.add_instrument(ReportErrors())

        @bus.hook(OrderPlaced)  # in the bus's background: emitters do not wait
        async def confirm(event: OrderPlaced) -> None:
            order_id, total = event.order_id, event.total
            if total <= 0:
                raise ValueError(f"order {order_id}: bad total {total}")
            confirmed.append(event.order_id)

        bus.emit_soon(OrderPlaced(1, 9.5))  # returns at once, like ee.emit
        bus.emit_soon(OrderPlaced(2, -1.0))
    # Leaving the block drained the hook's queue.
    print(f"confirmed: {confirmed}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# error: order 2: bad total -1.0
# confirmed: [1]
