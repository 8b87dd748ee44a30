import attrs
import trio

import eventbus


@attrs.frozen
class Document(eventbus.Event):
    trail: tuple[str, ...] = ()


@attrs.frozen
class DocumentSaved(Document):
    pass


def step(name: str):
    def handler(event: Document) -> Document:
        print(f"  {name}")
        return attrs.evolve(event, trail=(*event.trail, name))

    return handler


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        # "audit" asks to run early...
        bus.subscribe(DocumentSaved, step("audit pipe"), kind="pipe", owner="audit", order=-10)
        # ...but "auth" must see the document first, whatever the orders. The
        # constraint holds across event types in one plan: Document is a base
        # of DocumentSaved.
        bus.subscribe(Document, step("auth pipe"), kind="pipe", owner="auth", before="audit")
        bus.subscribe(DocumentSaved, step("index pipe"), kind="pipe", owner="index", after="auth")

        # before=/after= only relate subscriptions of the same kind: these
        # listeners follow their orders, the pipes' constraints do not apply.
        bus.subscribe(DocumentSaved, step("audit listener"), owner="audit", order=-10)
        bus.subscribe(Document, step("auth listener"), owner="auth")

        print("emit DocumentSaved")
        await bus.emit(DocumentSaved())


if __name__ == "__main__":
    trio.run(main)

# Output:
# emit DocumentSaved
#   auth pipe
#   audit pipe
#   index pipe
#   audit listener
#   auth listener
