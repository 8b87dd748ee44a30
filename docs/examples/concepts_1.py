from typing import ClassVar

import attrs
import trio

import eventbus


@attrs.frozen
class OrderEvent(eventbus.Event):
    order_id: int


@attrs.frozen
class OrderPlaced(OrderEvent):
    total: float


@attrs.frozen
class OrderShipped(OrderEvent):
    __event_name__: ClassVar[str] = "shop.order.shipped"
    carrier: str


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.listener(eventbus.Event)  # every event that subclasses Event
        def log_all(event: eventbus.Event) -> None:
            print(f"  log_all: {type(event).__name__}")

        @bus.listener(OrderEvent)  # OrderPlaced and OrderShipped
        def orders(event: OrderEvent) -> None:
            print(f"  orders: order {event.order_id}")

        @bus.listener(OrderShipped)
        def shipped(event: OrderShipped) -> None:
            print(f"  shipped: by {event.carrier}")

        print("emit OrderPlaced")
        await bus.emit(OrderPlaced(1, total=12.0))
        print("emit OrderShipped")
        await bus.emit(OrderShipped(1, carrier="post"))

    print(eventbus.wire_name(OrderPlaced))
    print(eventbus.wire_name(OrderShipped))


if __name__ == "__main__":
    trio.run(main)

# Output:
# emit OrderPlaced
#   log_all: OrderPlaced
#   orders: order 1
# emit OrderShipped
#   log_all: OrderShipped
#   orders: order 1
#   shipped: by post
# __main__.OrderPlaced
# shop.order.shipped
