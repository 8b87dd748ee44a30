import pluggy

hookspec = pluggy.HookspecMarker("shop")
hookimpl = pluggy.HookimplMarker("shop")


class ShopSpec:
    @hookspec
    def order_placed(self, order_id: int, total: float) -> None:
        """Called once per order."""


class Mailer:
    @hookimpl
    def order_placed(self, order_id: int, total: float) -> None:
        print(f"mailer: order {order_id} confirmed, {total:.2f}")


class Audit:
    @hookimpl(tryfirst=True)
    def order_placed(self, order_id: int, total: float) -> None:
        print(f"audit: order {order_id}")


def main() -> None:
    pm = pluggy.PluginManager("shop")
    pm.add_hookspecs(ShopSpec)
    pm.register(Mailer(), name="mailer")
    pm.register(Audit(), name="audit")
    # pm.load_setuptools_entrypoints("shop") adds the installed plugins.
    pm.hook.order_placed(order_id=1, total=9.5)


if __name__ == "__main__":
    main()

# Output:
# audit: order 1
# mailer: order 1 confirmed, 9.50
