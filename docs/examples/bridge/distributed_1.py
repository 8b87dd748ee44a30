"""Two services, in one process for the demo: `shop` forwards, `billing` receives.

Needs a Redis server on 127.0.0.1:6379 and `pip install 'trio-eventbus[redis]'`.
"""

import attrs
import trio

import eventbus
from eventbus.bridges.redis import RedisBridge, RedisOptions, current_delivery


@attrs.frozen
class OrderPlaced(eventbus.Event):
    __event_name__ = "shop.OrderPlaced"  # the wire name; default: module.QualName
    id: int
    total: float


async def main() -> None:
    shop = RedisBridge(RedisOptions(stream="demo:orders", forward=["shop.*"]))
    billing = RedisBridge(RedisOptions(stream="demo:orders", group="billing", receive=["shop.*"]))
    charged: set[str] = set()
    done = trio.Event()

    async with eventbus.open_bus(plugins=[billing], discover=False) as billing_bus:

        @billing_bus.listener(OrderPlaced)
        async def charge(event: OrderPlaced) -> None:
            delivery = current_delivery()  # the stream entry being handled
            assert delivery is not None
            if delivery.id in charged:
                return  # delivered again (at least once): charged already
            charged.add(delivery.id)
            print(f"billing: charge order {event.id}, {event.total:.2f}")
            if len(charged) == 2:
                done.set()

        async with eventbus.open_bus(plugins=[shop], discover=False) as shop_bus:
            await shop_bus.emit(OrderPlaced(1, 9.5))
            await shop_bus.emit(OrderPlaced(2, 20))
            print("shop: 2 orders placed")
        with trio.fail_after(10):
            await done.wait()


trio.run(main)

# Output:
# shop: 2 orders placed
# billing: charge order 1, 9.50
# billing: charge order 2, 20.00
