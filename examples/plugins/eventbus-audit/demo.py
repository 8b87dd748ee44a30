"""Open a bus in an environment where eventbus-audit is installed, and use it.

No plugin is named here: ``open_bus`` finds ``audit`` through its entry point.
"""

from __future__ import annotations

import trio
from eventbus_audit import DocumentCreated, DocumentCreating

import eventbus


async def main() -> None:
    config = {"plugins": {"audit": {"table": "documents", "retries": 5}}}
    async with eventbus.open_bus(config) as bus:
        for info in bus.plugins:
            print(f"plugin {info.name}: {info.distribution} {info.version} {info.state}")
            print(f"  from {info.source}")
            for sub in info.subscriptions:
                print(f"  {sub.kind} {sub.event_type.__name__} -> {sub.handler.__name__}")
        creating = await bus.emit(DocumentCreating(title="report.pdf"))
        print(f"stamped: {creating.created_at is not None}")
        assert creating.created_at is not None
        await bus.emit(DocumentCreated(title=creating.title, created_at=creating.created_at))
        print("emitted DocumentCreated")
    print(f"after close: {[(p.name, p.state) for p in bus.plugins]}")


if __name__ == "__main__":
    trio.run(main)
