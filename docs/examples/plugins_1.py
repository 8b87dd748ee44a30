import contextlib
from collections.abc import AsyncIterator

import attrs
import trio

import eventbus


@attrs.frozen
class DocumentCreating(eventbus.Event):
    title: str
    created_at: float | None = None


@attrs.frozen
class DocumentCreated(eventbus.Event):
    title: str
    created_at: float


@attrs.frozen
class AuditOptions:
    table: str = "audit"
    retries: int = 3


class AuditPlugin(eventbus.Plugin):
    name = "audit"  # optional: the entry point's name is used otherwise
    requires = ("storage",)  # started after "storage", stopped before it
    Options = AuditOptions  # [plugins.audit] is structured into this

    def __init__(self, options: AuditOptions) -> None:
        super().__init__(options)
        self.options: AuditOptions = options
        self.rows: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        print(f"audit: open table {self.options.table!r}")
        yield  # the plugin runs while this is suspended
        print(f"audit: close table {self.options.table!r}: {self.rows}")

    @eventbus.pipe(DocumentCreating, order=-10, timeout=2.0)
    async def stamp(self, event: DocumentCreating) -> DocumentCreating:
        return attrs.evolve(event, created_at=trio.current_time())

    @eventbus.listener(DocumentCreated)
    async def index(self, event: DocumentCreated) -> None:
        self.rows.append(f"indexed {event.title}")

    @eventbus.hook(DocumentCreated)
    async def notify(self, event: DocumentCreated) -> None:
        await trio.sleep(0.01)  # slow work, off the emitter's path
        self.rows.append(f"notified {event.title}")


class StoragePlugin(eventbus.Plugin):
    name = "storage"  # what AuditPlugin requires: started first, stopped last

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        print("storage: up")
        yield
        print("storage: down")


async def main() -> None:
    # Installed plugins would be found through their entry points; here both
    # are given in code. A class is created from its [plugins.NAME] table.
    config = {"plugins": {"audit": {"table": "documents"}}}
    plugins = [AuditPlugin, StoragePlugin()]
    async with eventbus.open_bus(config, plugins=plugins, discover=False) as bus:
        print(f"started: {[info.name for info in bus.plugins]}")
        creating = await bus.emit(DocumentCreating("report.pdf"))
        assert creating.created_at is not None  # stamped by the pipe
        await bus.emit(DocumentCreated(creating.title, created_at=creating.created_at))


if __name__ == "__main__":
    trio.run(main)

# Output:
# storage: up
# audit: open table 'documents'
# started: ['storage', 'audit']
# audit: close table 'documents': ['indexed report.pdf', 'notified report.pdf']
# storage: down
