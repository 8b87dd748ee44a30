import pluggy

hookspec = pluggy.HookspecMarker("shop")
hookimpl = pluggy.HookimplMarker("shop")


class ShopSpec:
    @hookspec
    def discount(self, total: float) -> float | None:
        """Return an amount to take off the order's total."""


class Loyalty:
    @hookimpl(tryfirst=True)
    def discount(self, total: float) -> float:
        return total * 0.1


class Coupon:
    @hookimpl
    def discount(self, total: float) -> float:
        return 2.0


def main() -> None:
    pm = pluggy.PluginManager("shop")
    pm.add_hookspecs(ShopSpec)
    pm.register(Loyalty(), name="loyalty")
    pm.register(Coupon(), name="coupon")
    total = 20.0
    # Every hookimpl gets the same arguments; the caller adds them up.
    discounts = pm.hook.discount(total=total)
    print(f"discounts: {discounts}")
    print(f"total: {total - sum(discounts):.2f}")


if __name__ == "__main__":
    main()

# Output:
# discounts: [2.0, 2.0]
# total: 16.00
