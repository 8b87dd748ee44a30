import contextlib
import logging

import attrs
import trio

import eventbus


class PrintHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(f"log {record.levelname} {record.name}: {record.getMessage()}")


@attrs.frozen
class Ping(eventbus.Event):
    n: int


class Tracer(eventbus.Instrument):  # the base class is optional: it documents the methods
    def emit_started(self, bus, event):
        print(f"emit_started     {event}")

    def emit_finished(self, bus, event, error):
        print(f"emit_finished    {event} error={type(error).__name__ if error else None}")

    def handler_started(self, subscription, event):
        print(f"handler_started  {subscription.kind} {subscription.handler.__name__}")

    def handler_finished(self, subscription, event, seconds):
        print(f"handler_finished {subscription.kind} {subscription.handler.__name__}")

    def handler_failed(self, subscription, event, error):
        print(f"handler_failed   {subscription.kind} {subscription.handler.__name__}: {error!r}")


class Broken:
    def __repr__(self) -> str:
        return "<Broken>"

    def emit_started(self, bus, event):
        raise RuntimeError("instrument bug")


async def main() -> None:
    logging.getLogger("eventbus").addHandler(PrintHandler())
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(Ping)
        def stamp(event: Ping) -> Ping:
            return event

        @bus.listener(Ping)
        def check(event: Ping) -> None:
            if event.n == 2:
                raise ValueError("two")

        bus.add_instrument(Tracer())
        bus.add_instrument(Broken())  # raises on first use: removed and logged
        await bus.emit(Ping(1))
        with contextlib.suppress(eventbus.ListenerError):
            await bus.emit(Ping(2))


if __name__ == "__main__":
    trio.run(main)

# Output:
# emit_started     Ping(n=1)
# log ERROR eventbus: instrument <Broken> raised in emit_started and was removed from the bus
# handler_started  pipe stamp
# handler_finished pipe stamp
# handler_started  listener check
# handler_finished listener check
# emit_finished    Ping(n=1) error=None
# emit_started     Ping(n=2)
# handler_started  pipe stamp
# handler_finished pipe stamp
# handler_started  listener check
# handler_failed   listener check: ValueError('two')
# emit_finished    Ping(n=2) error=ListenerError
