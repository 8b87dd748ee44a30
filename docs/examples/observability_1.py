import contextlib

import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class Signup(eventbus.Event):
    email: str


async def main() -> None:
    gate = trio.Event()
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(Signup, owner="antispam")
        def antispam(event: Signup) -> Signup:
            if event.email.endswith(".test"):
                raise eventbus.Rejected("test address")
            return event

        @bus.listener(Signup)
        def welcome(event: Signup) -> None:
            if event.email.startswith("x"):
                raise ValueError("bad address")

        @bus.hook(Signup, capacity=1, overflow="drop")
        async def crm_sync(event: Signup) -> None:
            await gate.wait()

        async with bus.scope("import") as batch, batch.stream(Signup) as signups:
            await batch.emit(Signup("ada@example.org"))  # crm_sync takes it and waits
            await trio.testing.wait_all_tasks_blocked()
            await batch.emit(Signup("bob@example.org"))  # fills crm_sync's queue
            with contextlib.suppress(eventbus.ListenerError):  # welcome fails
                await batch.emit(Signup("xena@example.org"))  # crm_sync drops it
            with contextlib.suppress(eventbus.Rejected):
                await batch.emit(Signup("bot@example.test"))
            await signups.receive()

            print("scope  kind     handler   calls rejected failures drops queued")
            for s in bus.stats():
                print(
                    f"{s.scope or '-':<6} {s.kind:<8} {s.handler.rsplit('.')[-1]:<9} "
                    f"{s.calls:>5} {s.rejected:>8} {s.failures:>8} {s.drops:>5} {s.queued:>6}"
                )
            gate.set()


if __name__ == "__main__":
    trio.run(main)

# Output:
# scope  kind     handler   calls rejected failures drops queued
# -      pipe     antispam      4        1        0     0      0
# -      listener welcome       3        0        1     0      0
# -      hook     crm_sync      0        0        0     1      1
# import stream   <stream>      1        0        0     0      2
