"""eventbus-audit: an example trio-eventbus plugin.

Emitting ``DocumentCreating`` runs the ``stamp`` pipe (the event comes back
with ``created_at`` set); emitting ``DocumentCreated`` runs the ``index``
listener (the emitter waits for it) and queues the ``audit`` hook (it runs in
the background). The audit log is opened by the plugin's lifespan and closed
when the bus closes, after the hook's queue has drained.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import attrs
import trio

import eventbus

__all__ = ["AuditLog", "AuditOptions", "AuditPlugin", "DocumentCreated", "DocumentCreating"]


@attrs.frozen
class DocumentCreating(eventbus.Event):
    """A document is about to be created; pipes may change it."""

    title: str
    created_at: float | None = None


@attrs.frozen
class DocumentCreated(eventbus.Event):
    """A document was created."""

    title: str
    created_at: float


@attrs.frozen
class AuditOptions:
    """The ``[plugins.audit]`` table of the bus configuration."""

    table: str = "audit"
    retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))


class AuditLog:
    """An in-memory stand-in for a database table."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.rows: list[tuple[str, str]] = []
        self.closed = False

    def write(self, action: str, title: str) -> None:
        if self.closed:
            raise RuntimeError(f"audit log {self.table!r} is closed")
        self.rows.append((action, title))
        print(f"[{self.table}] {action}: {title}")


class AuditPlugin(eventbus.Plugin):
    """Stamps documents as they are created, indexes and audits them."""

    name = "audit"
    Options = AuditOptions

    def __init__(self, options: AuditOptions) -> None:
        super().__init__(options)
        self.options: AuditOptions = options
        self.log: AuditLog | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        self.log = AuditLog(self.options.table)
        print(f"[{self.options.table}] opened (retries={self.options.retries})")
        try:
            yield
        finally:
            self.log.closed = True
            print(f"[{self.options.table}] closed after {len(self.log.rows)} rows")

    @eventbus.pipe(DocumentCreating, order=-10, timeout=2.0)
    async def stamp(self, event: DocumentCreating) -> DocumentCreating:
        return attrs.evolve(event, created_at=trio.current_time())

    @eventbus.listener(DocumentCreated)
    async def index(self, event: DocumentCreated) -> None:
        assert self.log is not None
        self.log.write("indexed", event.title)

    @eventbus.hook(DocumentCreated)
    async def audit(self, event: DocumentCreated) -> None:
        await trio.sleep(0.01)  # a slow write, off the emitter's path
        assert self.log is not None
        self.log.write("audited", event.title)
