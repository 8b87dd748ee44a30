import attrs
import trio

import eventbus


@attrs.frozen
class OrderPlaced(eventbus.Event):  # the signal; the sender is a field
    sender: str
    order_id: int
    total: float


def audit(event: OrderPlaced) -> None:
    print(f"audit order {event.order_id}")


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.listener(OrderPlaced)
        def confirm(event: OrderPlaced) -> None:
            print(f"confirm order {event.order_id} from {event.sender}")

        @bus.listener(OrderPlaced)
        def track(event: OrderPlaced) -> None:
            if event.sender == "web":  # connect_via("web")
                print(f"track web order {event.order_id}")

        await bus.emit(OrderPlaced("web", order_id=1, total=9.5))
        await bus.emit(OrderPlaced("api", order_id=2, total=3.0))
        with bus.subscribe(OrderPlaced, audit):  # for this block only
            await bus.emit(OrderPlaced("api", order_id=3, total=1.0))
        await bus.emit(OrderPlaced("api", order_id=4, total=1.0))


if __name__ == "__main__":
    trio.run(main)

# Output:
# confirm order 1 from web
# track web order 1
# confirm order 2 from api
# confirm order 3 from api
# audit order 3
# confirm order 4 from api
