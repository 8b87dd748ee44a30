import attrs
import trio
import trio.testing

import eventbus


@attrs.frozen
class JobDone(eventbus.Event):
    job_id: int
    ok: bool = True


async def consume(bus: eventbus.Bus, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    async with bus.stream(JobDone) as events:
        task_status.started()  # subscribed: the caller may emit now
        async for event in events:
            print(f"stream got job {event.job_id}")
            if event.job_id == 3:
                break


async def main() -> None:
    async with eventbus.open_bus(discover=False) as bus, trio.open_nursery() as nursery:
        await nursery.start(consume, bus)
        for job_id in (1, 2, 3):
            await bus.emit(JobDone(job_id))

        async def emit_later() -> None:
            await trio.testing.wait_all_tasks_blocked()  # until wait_for is waiting
            await bus.emit(JobDone(4, ok=True))
            await bus.emit(JobDone(5, ok=False))

        nursery.start_soon(emit_later)
        failed = await bus.wait_for(JobDone, where=lambda e: not e.ok, timeout=5)
        print(f"wait_for returned {failed}")


if __name__ == "__main__":
    trio.run(main)

# Output:
# stream got job 1
# stream got job 2
# stream got job 3
# wait_for returned JobDone(job_id=5, ok=False)
