"""A hypothesis state machine against a plain Python model of the bus.

Rules subscribe (random kind, order, before/after owners, scope, sync or async),
unsubscribe, open and close scopes and emit. Each rule updates the model and
records an operation; teardown replays the operations on a real bus in one
`trio.run` and compares every handler's deliveries, every pipe chain and every
emit's outcome with the model.

DESIGN sections 1-5 and 10.
"""

import heapq
from collections import defaultdict

import attrs
import trio
import trio.testing
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

import eventbus


@attrs.frozen
class Alpha(eventbus.Event):
    emit: int
    trail: tuple[int, ...] = ()


@attrs.frozen
class Gamma(eventbus.Event):
    emit: int
    trail: tuple[int, ...] = ()


EVENT_TYPES = {"Alpha": Alpha, "Gamma": Gamma, "Event": eventbus.Event}
OWNERS = ("p0", "p1", "p2")
ORDERS = (-2, -1, 0, 1, 2)


def owner_of(order):
    # subscriptions with the same order share an owner, so owner rank (not
    # part of this model) never decides between two of them
    return OWNERS[order % len(OWNERS)]


@attrs.define
class ModelScope:
    sid: int
    parent: int | None
    depth: int
    open: bool = True


@attrs.define
class ModelSub:
    id: int
    scope: int
    kind: str
    type_name: str
    order: int
    owner: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    reject: bool
    is_async: bool
    active: bool = True


class BusModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.scopes = {0: ModelScope(0, None, 0)}
        self.subs: list[ModelSub] = []
        self.ops = []
        self.expected_outcomes = []
        self.expected_deliveries = defaultdict(list)
        self.emits = 0

    # -- helpers --------------------------------------------------------------------------

    def open_scopes(self):
        return sorted(sid for sid, scope in self.scopes.items() if scope.open)

    def lineage(self, sid):
        chain = []
        while sid is not None:
            chain.append(sid)
            sid = self.scopes[sid].parent
        return chain

    def descendants(self, sid):
        return [
            other.sid
            for other in self.scopes.values()
            if other.open and other.sid != sid and sid in self.lineage(other.sid)
        ]

    def chain(self, pipes):
        """A topological sort of the before/after constraints, ties by (order, depth, sequence)."""
        preds = {p.id: set() for p in pipes}
        for x in pipes:
            for y in pipes:
                if x is not y and (y.owner in x.before or x.owner in y.after):
                    preds[y.id].add(x.id)
        key = {p.id: (p.order, self.scopes[p.scope].depth, p.id) for p in pipes}
        ready = [key[p.id] for p in pipes if not preds[p.id]]
        heapq.heapify(ready)
        result = []
        while ready:
            _, _, pid = heapq.heappop(ready)
            result.append(pid)
            for other, before in preds.items():
                if pid in before:
                    before.discard(pid)
                    if not before:
                        heapq.heappush(ready, key[other])
        assert len(result) == len(pipes), "the model made a cycle"
        return result

    # -- rules ------------------------------------------------------------------------------

    @rule(
        data=st.data(),
        kind=st.sampled_from(["pipe", "listener", "hook"]),
        order=st.sampled_from(ORDERS),
        reject=st.sampled_from([False, False, False, False, True]),
        is_async=st.booleans(),
    )
    def subscribe(self, data, kind, order, reject, is_async):
        scope = data.draw(st.sampled_from(self.open_scopes()), label="scope")
        owner = owner_of(order)
        index = OWNERS.index(owner)
        before = after = ()
        if kind == "pipe":
            type_name = data.draw(st.sampled_from(["Alpha", "Gamma"]), label="type")
            # edges only from a lower owner index to a higher one: never a cycle
            later, earlier = OWNERS[index + 1 :], OWNERS[:index]
            if later:
                before = tuple(sorted(data.draw(st.sets(st.sampled_from(later)), label="before")))
            if earlier:
                after = tuple(sorted(data.draw(st.sets(st.sampled_from(earlier)), label="after")))
        else:
            type_name = data.draw(st.sampled_from(["Alpha", "Gamma", "Event"]), label="type")
            reject = False
        sub = ModelSub(
            id=len(self.subs),
            scope=scope,
            kind=kind,
            type_name=type_name,
            order=order,
            owner=owner,
            before=before,
            after=after,
            reject=reject,
            is_async=is_async,
        )
        self.subs.append(sub)
        self.ops.append(("subscribe", sub))

    @precondition(lambda self: any(sub.active for sub in self.subs))
    @rule(data=st.data())
    def unsubscribe(self, data):
        sub = data.draw(st.sampled_from([s for s in self.subs if s.active]), label="sub")
        sub.active = False
        self.ops.append(("cancel", sub.id))

    @precondition(lambda self: len(self.open_scopes()) < 6)
    @rule(data=st.data())
    def open_scope(self, data):
        parent = data.draw(st.sampled_from(self.open_scopes()), label="parent")
        sid = len(self.scopes)
        self.scopes[sid] = ModelScope(sid, parent, self.scopes[parent].depth + 1)
        self.ops.append(("open", sid, parent))

    @precondition(lambda self: len(self.open_scopes()) > 1)
    @rule(data=st.data())
    def close_scope(self, data):
        sid = data.draw(st.sampled_from(self.open_scopes()[1:]), label="scope")
        closing = sorted([*self.descendants(sid), sid], key=lambda s: -self.scopes[s].depth)
        for s in closing:
            self.scopes[s].open = False
        for sub in self.subs:
            if sub.scope in closing:
                sub.active = False
        self.ops.append(("close", tuple(closing)))

    @rule(data=st.data(), type_name=st.sampled_from(["Alpha", "Gamma"]))
    def emit(self, data, type_name):
        sid = data.draw(st.sampled_from(sorted(self.scopes)), label="scope")
        emit_id = self.emits
        self.emits += 1
        self.ops.append(("emit", emit_id, sid, type_name))
        if not self.scopes[sid].open:
            self.expected_outcomes.append((emit_id, "closed"))
            return
        lineage = self.lineage(sid)
        visible = [
            s
            for s in self.subs
            if s.active and s.scope in lineage and s.type_name in (type_name, "Event")
        ]
        pipes = {s.id: s for s in visible if s.kind == "pipe"}
        trail = ()
        for pid in self.chain(list(pipes.values())):
            self.expected_deliveries[pid].append((emit_id, trail))
            if pipes[pid].reject:
                self.expected_outcomes.append((emit_id, "rejected"))
                return
            trail = (*trail, pid)
        self.expected_outcomes.append((emit_id, "ok", trail))
        for s in visible:
            if s.kind != "pipe":
                self.expected_deliveries[s.id].append((emit_id, trail))

    def teardown(self):
        outcomes, deliveries, calls = trio.run(replay, self.ops)
        assert outcomes == self.expected_outcomes
        expected = {k: v for k, v in self.expected_deliveries.items() if v}
        assert dict(deliveries) == expected
        expected_calls = {f"h{s.id}": len(expected.get(s.id, ())) for s in self.subs if s.active}
        assert calls == expected_calls


def make_handler(sub, deliveries):
    record = deliveries[sub.id].append

    if sub.kind == "pipe":
        if sub.is_async:

            async def handler(event):
                await trio.lowlevel.checkpoint()
                record((event.emit, event.trail))
                if sub.reject:
                    raise eventbus.Rejected(f"h{sub.id}")
                return attrs.evolve(event, trail=(*event.trail, sub.id))

        else:

            def handler(event):
                record((event.emit, event.trail))
                if sub.reject:
                    raise eventbus.Rejected(f"h{sub.id}")
                return attrs.evolve(event, trail=(*event.trail, sub.id))

    elif sub.is_async:

        async def handler(event):
            await trio.lowlevel.checkpoint()
            record((event.emit, event.trail))

    else:

        def handler(event):
            record((event.emit, event.trail))

    handler.__name__ = handler.__qualname__ = f"h{sub.id}"
    return handler


async def hold_scope(parent, name, *, task_status=trio.TASK_STATUS_IGNORED):
    close, done = trio.Event(), trio.Event()
    try:
        async with parent.scope(name) as scope:
            task_status.started((scope, close, done))
            await close.wait()
    finally:
        done.set()


async def replay(ops):
    outcomes = []
    deliveries = defaultdict(list)
    with trio.fail_after(60):
        async with eventbus.open_bus(discover=False) as root, trio.open_nursery() as nursery:
            buses = {0: root}
            holders = {}
            subscriptions = {}
            for op in ops:
                if op[0] == "open":
                    _, sid, parent = op
                    buses[sid], *holders[sid] = await nursery.start(
                        hold_scope, buses[parent], f"s{sid}"
                    )
                elif op[0] == "close":
                    for sid in op[1]:
                        close, done = holders.pop(sid)
                        close.set()
                        await done.wait()
                elif op[0] == "subscribe":
                    sub = op[1]
                    subscriptions[sub.id] = buses[sub.scope].subscribe(
                        EVENT_TYPES[sub.type_name],
                        make_handler(sub, deliveries),
                        kind=sub.kind,
                        order=sub.order,
                        owner=sub.owner,
                        before=sub.before,
                        after=sub.after,
                    )
                elif op[0] == "cancel":
                    subscriptions[op[1]].cancel()
                else:
                    _, emit_id, sid, type_name = op
                    try:
                        result = await buses[sid].emit(EVENT_TYPES[type_name](emit_id))
                    except eventbus.Rejected:
                        outcomes.append((emit_id, "rejected"))
                    except eventbus.BusClosed:
                        outcomes.append((emit_id, "closed"))
                    else:
                        outcomes.append((emit_id, "ok", result.trail))
                    await trio.testing.wait_all_tasks_blocked()
            calls = {record.handler: record.calls for record in root.stats()}
            # close what is still open, children (created later) first
            for sid in sorted(holders, reverse=True):
                close, done = holders.pop(sid)
                close.set()
                await done.wait()
    return outcomes, {k: v for k, v in deliveries.items() if v}, calls


TestBusModel = BusModel.TestCase
TestBusModel.settings = settings(
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
