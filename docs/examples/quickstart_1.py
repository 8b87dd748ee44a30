import attrs
import trio

import eventbus


@attrs.frozen
class UserSignedUp(eventbus.Event):
    email: str
    plan: str = "free"


async def main() -> None:
    welcomed = []
    async with eventbus.open_bus(discover=False) as bus:

        @bus.pipe(UserSignedUp, order=-10)  # lower order runs first
        def normalise(event: UserSignedUp) -> UserSignedUp:  # plain functions work too
            return attrs.evolve(event, email=event.email.strip().lower())

        @bus.pipe(UserSignedUp)
        async def block_test_domains(event: UserSignedUp) -> UserSignedUp:
            if event.email.endswith("@example.test"):
                raise eventbus.Rejected("test domains cannot sign up")
            return event

        @bus.listener(UserSignedUp)
        async def create_account(event: UserSignedUp) -> None:
            print(f"account created for {event.email}")

        @bus.hook(UserSignedUp)
        async def send_welcome_mail(event: UserSignedUp) -> None:
            welcomed.append(event.email)

        # Or without a decorator; the Subscription can be cancelled later.
        sub = bus.subscribe(UserSignedUp, print, kind="listener")
        sub.cancel()

        user = await bus.emit(UserSignedUp("  Ada@Example.ORG "))
        print(f"emit returned {user!r}")

        try:
            await bus.emit(UserSignedUp("bot@example.test"))
        except eventbus.Rejected as exc:
            print(f"rejected by {exc.handler}: {exc.reason}")
    print(f"welcome mails sent: {welcomed}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# account created for ada@example.org
# emit returned UserSignedUp(email='ada@example.org', plan='free')
# rejected by main.<locals>.block_test_domains: test domains cannot sign up
# welcome mails sent: ['ada@example.org']
