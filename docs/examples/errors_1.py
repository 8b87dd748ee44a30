import attrs
import trio

import eventbus


@attrs.frozen
class Comment(eventbus.Event):
    text: str


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(Comment, owner="moderation")
        def moderate(event: Comment) -> Comment:
            if "spam" in event.text:
                raise eventbus.Rejected("looks like spam")
            if not event.text:
                raise ValueError("empty comment")
            if event.text == "oops":
                return None  # a bug: a pipe must return the event
            return event

        # Rejected: a decision, not a failure.
        try:
            await bus.emit(Comment("buy spam"))
        except eventbus.Rejected as exc:
            print(f"Rejected: reason={exc.reason!r} handler={exc.handler!r} owner={exc.owner!r}")

        # A handler's own exception keeps its type and traceback, plus a note.
        try:
            await bus.emit(Comment(""))
        except ValueError as exc:
            print(f"ValueError: {exc}")
            print(f"  note: {exc.__notes__[0]}")

        # A pipe that returns something else than an event of the emitted type.
        try:
            await bus.emit(Comment("oops"))
        except eventbus.PipeError as exc:
            print(f"PipeError (also a TypeError: {isinstance(exc, TypeError)}):")
            print(f"  {exc}")

        (stats,) = bus.stats()
        print(f"moderate: calls={stats.calls} rejected={stats.rejected} failures={stats.failures}")

    try:
        await bus.emit(Comment("too late"))
    except eventbus.BusClosed as exc:
        print(f"BusClosed (also a RuntimeError): {exc}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# Rejected: reason='looks like spam' handler='main.<locals>.moderate' owner='moderation'
# ValueError: empty comment
#   note: raised by pipe 'main.<locals>.moderate' of plugin 'moderation' handling a __main__.Comment event
# PipeError (also a TypeError: True):
#   pipe 'main.<locals>.moderate' of plugin 'moderation' returned None for a __main__.Comment event; a pipe must return the event to pass on (an instance of __main__.Comment, e.g. attrs.evolve(event, ...)) or raise eventbus.Rejected(reason) to stop the chain.
# moderate: calls=3 rejected=1 failures=2
# BusClosed (also a RuntimeError): cannot emit on the bus: it is closed. Emit and subscribe only inside its 'async with' block.
