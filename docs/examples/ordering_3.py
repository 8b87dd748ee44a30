import attrs
import trio

import eventbus


@attrs.frozen
class Payment(eventbus.Event):
    amount: int


def passthrough(event: Payment) -> Payment:
    return event


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        bus.subscribe(Payment, passthrough, kind="pipe", owner="fraud", before="ledger")
        bus.subscribe(Payment, passthrough, kind="pipe", owner="ledger", before="notify")
        try:
            bus.subscribe(Payment, passthrough, kind="pipe", owner="notify", before="fraud")
        except eventbus.OrderError as exc:
            print(f"OrderError: {exc}")
            print(f"owners: {exc.owners}")
        # The failed subscribe registered nothing: the bus works as before.
        pipes = [s.owner for s in bus.stats() if s.kind == "pipe"]
        print(f"pipes: {pipes}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# OrderError: cannot order the pipes of __main__.Payment: before/after constraints form a cycle (ledger -> notify -> fraud -> ledger). Remove one of the before=/after= options of: 'ledger', 'notify', 'fraud'.
# owners: ('ledger', 'notify', 'fraud')
# pipes: ['fraud', 'ledger']
