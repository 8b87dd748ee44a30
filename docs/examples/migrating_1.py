import attrs
import trio

import eventbus


@attrs.frozen
class OrderPlaced(eventbus.Event):  # the hookspec: a typed event
    order_id: int
    total: float


class Mailer(eventbus.Plugin):
    name = "mailer"

    @eventbus.listener(OrderPlaced)
    def order_placed(self, event: OrderPlaced) -> None:
        order_id, total = event.order_id, event.total
        print(f"mailer: order {order_id} confirmed, {total:.2f}")


class Audit(eventbus.Plugin):
    name = "audit"

    @eventbus.listener(OrderPlaced, order=-1)  # tryfirst=True
    def order_placed(self, event: OrderPlaced) -> None:
        print(f"audit: order {event.order_id}")


async def main() -> None:
    # Without discover=False, open_bus() also runs the installed plugins
    # (entry points "eventbus.plugins"): load_setuptools_entrypoints.
    plugins = [Mailer(), Audit()]
    async with eventbus.open_bus(plugins=plugins, discover=False) as bus:
        await bus.emit(OrderPlaced(order_id=1, total=9.5))


if __name__ == "__main__":
    trio.run(main)

# Output:
# audit: order 1
# mailer: order 1 confirmed, 9.50
