import trio
from pyee.trio import TrioEventEmitter


async def main() -> None:
    confirmed: list[int] = []
    async with TrioEventEmitter() as ee:

        @ee.on("order_placed")
        async def confirm(order_id: int, total: float) -> None:
            if total <= 0:
                raise ValueError(f"order {order_id}: bad total {total}")
            confirmed.append(order_id)

        @ee.on("error")  # handler errors are emitted as "error" events
        async def report(exc: Exception) -> None:
            print(f"error: {exc}")

        ee.emit("order_placed", 1, 9.5)  # returns at once; handlers are tasks
        ee.emit("order_placed", 2, -1.0)
    # Leaving the block waited for the handlers' tasks.
    print(f"confirmed: {confirmed}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# error: order 2: bad total -1.0
# confirmed: [1]
