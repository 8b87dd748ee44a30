import attrs
import trio

import eventbus


@attrs.frozen
class Pricing(eventbus.Event):
    total: float
    discounts: tuple[float, ...] = ()


def take_off(event: Pricing, amount: float) -> Pricing:
    discounts = (*event.discounts, amount)
    return attrs.evolve(event, total=event.total - amount, discounts=discounts)


class Loyalty(eventbus.Plugin):
    name = "loyalty"

    @eventbus.pipe(Pricing, order=-1)  # tryfirst=True
    def discount(self, event: Pricing) -> Pricing:
        return take_off(event, event.total * 0.1)


class Coupon(eventbus.Plugin):
    name = "coupon"

    @eventbus.pipe(Pricing)
    def discount(self, event: Pricing) -> Pricing:
        return take_off(event, 2.0)


async def main() -> None:
    plugins = [Loyalty(), Coupon()]
    async with eventbus.open_bus(plugins=plugins, discover=False) as bus:
        # Each pipe gets the event as the previous one returned it.
        priced = await bus.emit(Pricing(total=20.0))
        print(f"discounts: {list(priced.discounts)}")
        print(f"total: {priced.total:.2f}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# discounts: [2.0, 2.0]
# total: 16.00
