"""``eventbus demo``: a guided tour of the bus, printed as it happens.

The demo uses only the public API, as an application would, on a private bus
with plugin discovery off, so what is installed does not change what it shows.
It runs on the real clock and takes well under a second: every wait is a few
tenths of a second at most.
"""

from __future__ import annotations

import sys
import time

import attrs
import trio

import eventbus

__all__ = ["run_demo"]

# --- the demo's events ---------------------------------------------------------


@attrs.frozen
class OrderPlaced(eventbus.Event):
    """A customer placed an order; the pipes check it and price it."""

    order_id: int
    item: str
    quantity: int
    total: float | None = None


@attrs.frozen
class PageViewed(eventbus.Event):
    """Someone viewed a page; a hook records it in the background."""

    path: str


@attrs.frozen
class AuditNote(eventbus.Event):
    """A line for the audit log; used to show what a scope sees."""

    text: str


@attrs.frozen
class ReportRequested(eventbus.Event):
    """A report was asked for; its listener is too slow for its timeout."""

    name: str


PRICES = {"teapot": 25.0, "kettle": 40.0}
STOCK = {"teapot": 5, "kettle": 0}

# --- output ----------------------------------------------------------------------


class _Printer:
    """Prints one line per thing that happens, with the time since the start."""

    def __init__(self, *, color: bool) -> None:
        self._color = color
        self._start = time.perf_counter()

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self._color else text

    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def title(self, text: str) -> None:
        print(self._paint("1", text), flush=True)

    def section(self, number: int, title: str, *explanation: str) -> None:
        print()
        print(self._paint("1;36", f"{number}. {title}"))
        for line in explanation:
            print(self._paint("2", f"   {line}"))
        sys.stdout.flush()

    def say(self, who: str, what: str, *, style: str = "") -> None:
        stamp = self._paint("2", f"{self.elapsed():5.2f}s")
        label = f"{who:<26}"
        if style:
            label = self._paint(style, label)
            what = self._paint(style, what)
        print(f"{stamp}  {label} {what}", flush=True)

    def ok(self, who: str, what: str) -> None:
        self.say(who, what, style="32")

    def fail(self, who: str, what: str) -> None:
        self.say(who, what, style="31")


# --- the tour ----------------------------------------------------------------------


async def _pipes(bus: eventbus.Bus, out: _Printer) -> None:
    out.section(
        1,
        "Pipes: an ordered chain that may replace the event",
        "apply_price is subscribed first, but check_stock has order=-10, so it runs first.",
        "Each pipe gets the event as the previous one returned it.",
    )

    @bus.pipe(OrderPlaced)
    async def apply_price(event: OrderPlaced) -> OrderPlaced:
        await trio.sleep(0.01)  # as if asking a pricing service
        total = event.quantity * PRICES[event.item]
        out.say("pipe apply_price", f"order {event.order_id}: total {total:.2f} (attrs.evolve)")
        return attrs.evolve(event, total=total)

    @bus.pipe(OrderPlaced, order=-10)
    def check_stock(event: OrderPlaced) -> OrderPlaced:
        # A plain function: called inline, no task and no thread.
        if event.quantity < 1:
            raise eventbus.Rejected("quantity must be at least 1")
        in_stock = STOCK.get(event.item, 0)
        if in_stock < event.quantity:
            raise eventbus.Rejected(f"only {in_stock} {event.item} in stock")
        out.say(
            "pipe check_stock", f"order {event.order_id}: {event.quantity} x {event.item} in stock"
        )
        return event

    placed = OrderPlaced(order_id=1, item="teapot", quantity=2)
    out.say("emit", repr(placed))
    result = await bus.emit(placed)
    out.ok("emit returned", repr(result))

    out.section(
        2,
        "A pipe rejects an event",
        "check_stock raises eventbus.Rejected(reason): the chain stops, the emitter gets it.",
    )
    kettle = OrderPlaced(order_id=2, item="kettle", quantity=1)
    out.say("emit", repr(kettle))
    try:
        await bus.emit(kettle)
    except eventbus.Rejected as rejected:
        out.fail("emit raised", f"Rejected: {rejected.reason}")
        out.say("", "apply_price never saw order 2")
    else:  # pragma: no cover - the stock table says there is no kettle
        raise AssertionError("check_stock should have rejected order 2")


async def _listeners(bus: eventbus.Bus, out: _Printer) -> None:
    out.section(
        3,
        "Listeners: fan-out, all at once",
        "Three listeners of OrderPlaced run concurrently after the pipe chain;",
        "the emitter waits until all three are done.",
    )

    @bus.listener(OrderPlaced)
    async def send_email(event: OrderPlaced) -> None:
        out.say("listener send_email", "started")
        await trio.sleep(0.15)
        out.say("listener send_email", f"confirmation for order {event.order_id} sent")

    @bus.listener(OrderPlaced)
    async def reserve_stock(event: OrderPlaced) -> None:
        out.say("listener reserve_stock", "started")
        await trio.sleep(0.10)
        out.say("listener reserve_stock", f"{event.quantity} x {event.item} reserved")

    @bus.listener(OrderPlaced)
    async def update_dashboard(event: OrderPlaced) -> None:
        out.say("listener update_dashboard", "started")
        await trio.sleep(0.05)
        out.say("listener update_dashboard", f"revenue +{event.total:.2f}")

    order = OrderPlaced(order_id=3, item="teapot", quantity=1)
    out.say("emit", repr(order))
    started = time.perf_counter()
    await bus.emit(order)
    took = time.perf_counter() - started
    out.ok(
        "emit returned",
        f"after {took:.2f}s: the listeners overlapped (one after another: 0.30s)",
    )


async def _hooks(bus: eventbus.Bus, out: _Printer) -> None:
    capacity, views = 2, 5
    out.section(
        4,
        "Hooks: background work behind a bounded queue",
        f"record_view takes 0.05s per event and its queue holds {capacity}. emit does not wait",
        "for the hook, only for room in its queue (overflow='wait': nothing is lost).",
    )
    finished = trio.Event()
    recorded: list[str] = []

    @bus.hook(PageViewed, capacity=capacity)
    async def record_view(event: PageViewed) -> None:
        await trio.sleep(0.05)
        recorded.append(event.path)
        out.say("hook record_view", f"stored {event.path}")
        if len(recorded) == views:
            finished.set()

    def queued() -> int:
        return sum(s.queued for s in bus.stats() if s.kind == "hook" and s.event_type is PageViewed)

    for number in range(1, views + 1):
        path = f"/page/{number}"
        started = time.perf_counter()
        await bus.emit(PageViewed(path))
        waited = time.perf_counter() - started
        out.say("emit", f"PageViewed({path!r}) returned after {waited:.2f}s, queued: {queued()}")

    out.say("", "the emitter is done; the hook drains its queue in the background:")
    with trio.fail_after(2):
        while True:
            out.say("queue", f"{queued()} waiting")
            with trio.move_on_after(0.06):
                await finished.wait()
            if finished.is_set():
                break
    order = "in emit order" if recorded == sorted(recorded) else f"in this order: {recorded}"
    out.ok("hook record_view", f"all {views} views stored, {order}")


async def _scope(bus: eventbus.Bus, out: _Printer) -> None:
    out.section(
        5,
        "Scopes: a sub-bus for one request",
        "A listener subscribed on the scope sees emits on the scope, never the root's;",
        "an emit on the scope also runs the root's listeners. It goes away with the scope.",
    )

    @bus.listener(AuditNote)
    def audit_root(event: AuditNote) -> None:
        out.say("listener audit_root", f"(root) {event.text}")

    async with bus.scope("request-1", timeout=1.0) as request:
        out.say("scope opened", f"name={request.name!r}, timeout=1.0 for its handlers")

        @request.listener(AuditNote)
        def audit_request(event: AuditNote) -> None:
            out.say("listener audit_request", f"(scope {request.name}) {event.text}")

        out.say("emit on the scope", "AuditNote('inside request-1')")
        await request.emit(AuditNote("inside request-1"))
        out.say("emit on the root", "AuditNote('on the root')")
        await bus.emit(AuditNote("on the root"))
    out.say("scope closed", "its subscriptions are gone")
    out.say("emit on the root", "AuditNote('after the scope')")
    await bus.emit(AuditNote("after the scope"))


# ASYNC910: the linter cannot see that bus.emit() always checkpoints, on success and on error.
async def _timeout(bus: eventbus.Bus, out: _Printer) -> None:  # noqa: ASYNC910
    out.section(
        6,
        "Timeouts: a slow listener is cancelled",
        "build_report needs 1s but has timeout=0.2: trio cancels it, and the emitter gets",
        "ListenerError, an ExceptionGroup holding a HandlerTimeout (also a TimeoutError).",
    )

    @bus.listener(ReportRequested, timeout=0.2)
    async def build_report(event: ReportRequested) -> None:
        out.say("listener build_report", f"building {event.name!r}: needs 1s, has 0.2s")
        await trio.sleep(1.0)
        out.say("listener build_report", "done")  # never reached: cancelled at 0.2s

    out.say("emit", "ReportRequested('monthly')")
    try:
        await bus.emit(ReportRequested("monthly"))
    except eventbus.ListenerError as group:
        out.fail("emit raised", f"ListenerError with {len(group.exceptions)} failure(s):")
        for error in group.exceptions:
            also = " (also a TimeoutError)" if isinstance(error, TimeoutError) else ""
            out.fail("", f"{type(error).__name__}{also}: {error}")
    else:  # pragma: no cover - the listener sleeps past its timeout
        raise AssertionError("build_report should have timed out")


def _summary(bus: eventbus.Bus, out: _Printer) -> None:
    out.section(7, "What the bus counted: bus.stats()")
    print(
        f"   {'kind':<9} {'handler':<18} {'calls':>5} {'rejected':>8} {'failures':>8} {'timeouts':>8}"
    )
    for stat in bus.stats():
        handler = stat.handler.rpartition(".")[2]
        print(
            f"   {stat.kind:<9} {handler:<18} {stat.calls:>5} "
            f"{stat.rejected:>8} {stat.failures:>8} {stat.timeouts:>8}"
        )
    sys.stdout.flush()


async def _tour(out: _Printer) -> None:
    out.title("trio-eventbus demo: a private bus, no plugins loaded")
    print("Each line: seconds since the start, who acts, what happens.", flush=True)
    # An empty config: a user's eventbus.toml or [tool.eventbus] must not change the demo.
    async with eventbus.open_bus({}, discover=False) as bus:
        await _pipes(bus, out)
        await _listeners(bus, out)
        await _hooks(bus, out)
        await _scope(bus, out)
        await _timeout(bus, out)
        _summary(bus, out)
    print()
    out.ok("done", "the bus is closed and nothing is left running")


def run_demo(*, color: bool = False) -> int:
    """Run the demo and print it to stdout.

    Args:
        color: Colour the output (the command line decides: ``--color``, a
            terminal, ``NO_COLOR``).

    Returns:
        The exit code, 0.
    """
    trio.run(_tour, _Printer(color=color))
    return 0
