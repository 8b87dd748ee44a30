import attrs
import trio

import eventbus


@attrs.frozen
class Query(eventbus.Event):
    sql: str


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus:
        bus.subscribe(Query, lambda e: print("  bus: metrics"))
        async with bus.scope("tenant-7") as tenant:
            tenant.subscribe(Query, lambda e: print("  tenant-7: quota"))
            async with tenant.scope("request-1") as request:
                request.subscribe(Query, lambda e: print("  request-1: trace"))
                request.subscribe(Query, lambda e: print("  request-1: early"), order=-1)

                print("emit on request-1 (its own, tenant-7's and the bus's):")
                await request.emit(Query("select 1"))
                print("emit on tenant-7 (request-1's are not visible):")
                await tenant.emit(Query("select 2"))
            async with bus.scope("tenant-8") as other:
                print("emit on tenant-8 (a sibling sees nothing of tenant-7):")
                await other.emit(Query("select 3"))


if __name__ == "__main__":
    trio.run(main)

# Output:
# emit on request-1 (its own, tenant-7's and the bus's):
#   request-1: early
#   bus: metrics
#   tenant-7: quota
#   request-1: trace
# emit on tenant-7 (request-1's are not visible):
#   bus: metrics
#   tenant-7: quota
# emit on tenant-8 (a sibling sees nothing of tenant-7):
#   bus: metrics
