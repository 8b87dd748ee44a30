from blinker import signal

order_placed = signal("order-placed")


@order_placed.connect
def confirm(sender: str, order_id: int, total: float) -> None:
    print(f"confirm order {order_id} from {sender}")


@order_placed.connect_via("web")  # only what the sender "web" sends
def track(sender: str, order_id: int, total: float) -> None:
    print(f"track web order {order_id}")


def audit(sender: str, order_id: int, total: float) -> None:
    print(f"audit order {order_id}")


def main() -> None:
    order_placed.send("web", order_id=1, total=9.5)
    order_placed.send("api", order_id=2, total=3.0)
    with order_placed.connected_to(audit):  # for this block only
        order_placed.send("api", order_id=3, total=1.0)
    order_placed.send("api", order_id=4, total=1.0)


if __name__ == "__main__":
    main()

# Output:
# confirm order 1 from web
# track web order 1
# confirm order 2 from api
# confirm order 3 from api
# audit order 3
# confirm order 4 from api
