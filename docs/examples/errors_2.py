import attrs
import trio

import eventbus


@attrs.frozen
class Invoice(eventbus.Event):
    number: int


@attrs.frozen
class Refund(eventbus.Event):
    number: int


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.listener(Invoice)
        async def send_pdf(event: Invoice) -> None:
            raise ConnectionError("smtp down")

        @bus.listener(Invoice)
        async def book(event: Invoice) -> None:
            raise KeyError(event.number)

        @bus.listener(Invoice)
        async def archive(event: Invoice) -> None:
            await trio.sleep(0.01)
            print("archive: done (the others' failures do not stop it)")

        try:
            await bus.emit(Invoice(7))
        except* ConnectionError as group:
            for exc in group.exceptions:
                print(f"retry later: {exc!r}")
                print(f"  note: {exc.__notes__[0]}")
        except* KeyError as group:
            for exc in group.exceptions:
                print(f"bug: {exc!r}")

        @bus.listener(Refund)
        def refund(event: Refund) -> None:
            raise RuntimeError("ledger locked")

        try:
            await bus.emit(Refund(8))
        except eventbus.ListenerError as group:  # one failure is a group of one
            print(f"ListenerError: {group.message}")
            print(f"  members: {group.exceptions!r}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# archive: done (the others' failures do not stop it)
# retry later: ConnectionError('smtp down')
#   note: raised by listener 'main.<locals>.send_pdf' handling a __main__.Invoice event
# bug: KeyError(7)
# ListenerError: 1 listener failed handling a __main__.Refund event
#   members: (RuntimeError('ledger locked'),)
