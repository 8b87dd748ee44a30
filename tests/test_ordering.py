"""Chain order: (order, owner rank, sequence), before/after constraints, cycles, determinism.

DESIGN sections 4 and 15.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import pytest

import eventbus

REPO = Path(__file__).resolve().parent.parent


def open_bus(**options):
    options.setdefault("discover", False)
    return eventbus.open_bus(**options)


@attrs.frozen
class Doc(eventbus.Event):
    trail: tuple[str, ...] = ()


@attrs.frozen
class Other(eventbus.Event):
    trail: tuple[str, ...] = ()


def stamp(name):
    def pipe(event):
        return attrs.evolve(event, trail=(*event.trail, name))

    pipe.__name__ = pipe.__qualname__ = f"stamp_{name}"
    return pipe


async def chain(bus, event_type=Doc):
    return (await bus.emit(event_type())).trail


async def test_order_then_registration_sequence():
    async with open_bus() as bus:
        bus.pipe(Doc, order=1)(stamp("b1"))
        bus.pipe(Doc, order=0)(stamp("a1"))
        bus.pipe(Doc, order=1)(stamp("b2"))
        bus.pipe(Doc, order=-3)(stamp("first"))
        bus.pipe(Doc, order=0)(stamp("a2"))
        assert await chain(bus) == ("first", "a1", "a2", "b1", "b2")


async def test_the_same_owner_keeps_registration_sequence():
    async with open_bus() as bus:
        for name in ("x", "y", "z"):
            bus.pipe(Doc, owner="audit")(stamp(name))
        assert await chain(bus) == ("x", "y", "z")


async def test_owner_rank_breaks_ties_before_sequence():
    # plugin ranks come from the plugin start order; until the plugin layer
    # lands, Bus._register_owner (documented for same-package use) gives them
    async with open_bus() as bus:
        bus._register_owner("storage")
        bus._register_owner("audit")
        bus.pipe(Doc, owner="unregistered")(stamp("unregistered"))
        bus.pipe(Doc, owner="audit")(stamp("audit"))
        bus.pipe(Doc, owner="storage")(stamp("storage"))
        bus.pipe(Doc, owner="audit", order=-1)(stamp("audit_early"))
        assert await chain(bus) == ("audit_early", "storage", "audit", "unregistered")


async def test_before_overrides_order():
    async with open_bus() as bus:
        bus.pipe(Doc, owner="storage", order=0)(stamp("storage"))
        bus.pipe(Doc, owner="audit", order=100, before=("storage",))(stamp("audit"))
        assert await chain(bus) == ("audit", "storage")


async def test_after_overrides_order():
    async with open_bus() as bus:
        bus.pipe(Doc, owner="audit", order=-100, after=("storage",))(stamp("audit"))
        bus.pipe(Doc, owner="storage", order=0)(stamp("storage"))
        assert await chain(bus) == ("storage", "audit")


async def test_before_applies_to_every_subscription_of_the_named_owner():
    async with open_bus() as bus:
        bus.pipe(Doc, owner="storage", order=-10)(stamp("storage1"))
        bus.pipe(Doc, owner="storage", order=10)(stamp("storage2"))
        bus.pipe(Doc, order=0)(stamp("anonymous"))
        bus.pipe(Doc, owner="audit", order=50, before=("storage",))(stamp("audit"))
        result = await chain(bus)
    assert result.index("audit") < result.index("storage1")
    assert result.index("audit") < result.index("storage2")
    assert result.index("storage1") < result.index("storage2")
    # a topological sort whose ties go to the lowest (order, rank, sequence):
    # "anonymous" has no predecessor and the lowest order of the free pipes
    assert result == ("anonymous", "audit", "storage1", "storage2")


async def test_constraints_leave_unrelated_pipes_in_key_order():
    async with open_bus() as bus:
        bus.pipe(Doc, order=0)(stamp("zero"))
        bus.pipe(Doc, owner="b", order=5)(stamp("b"))
        bus.pipe(Doc, owner="a", order=9, before=("b",))(stamp("a"))
        bus.pipe(Doc, order=1)(stamp("one"))
        bus.pipe(Doc, order=7)(stamp("seven"))
        result = await chain(bus)
    # a topological sort whose ties go to the lowest (order, rank, sequence):
    # "b" waits for "a", which comes after "seven" by order
    assert result == ("zero", "one", "seven", "a", "b")


async def test_constraints_are_per_event_type():
    async with open_bus() as bus:
        bus.pipe(Doc, owner="audit", order=10, before=("storage",))(stamp("audit"))
        bus.pipe(Other, owner="storage", order=0)(stamp("storage"))
        bus.pipe(Doc, owner="cache", order=0)(stamp("cache"))
        assert await chain(bus) == ("cache", "audit")
        assert await chain(bus, Other) == ("storage",)


async def test_constraint_naming_an_absent_owner_is_not_an_error():
    async with open_bus() as bus:
        bus.pipe(Doc, owner="audit", before=("not-installed",), after=("also-missing",))(
            stamp("audit")
        )
        assert await chain(bus) == ("audit",)


async def test_chain_constraints_are_transitive():
    async with open_bus() as bus:
        bus.pipe(Doc, owner="c", order=-5, after=("b",))(stamp("c"))
        bus.pipe(Doc, owner="b", order=-9, after=("a",))(stamp("b"))
        bus.pipe(Doc, owner="a", order=9)(stamp("a"))
        assert await chain(bus) == ("a", "b", "c")


async def test_a_two_owner_cycle_raises_order_error_naming_both():
    async with open_bus() as bus:
        # the contract does not say whether subscribe or emit finds the cycle
        with pytest.raises(eventbus.OrderError) as excinfo:  # noqa: PT012
            bus.pipe(Doc, owner="alpha", before=("beta",))(stamp("alpha"))
            bus.pipe(Doc, owner="beta", before=("alpha",))(stamp("beta"))
            await bus.emit(Doc())
    message = str(excinfo.value)
    assert "alpha" in message
    assert "beta" in message
    assert isinstance(excinfo.value, eventbus.EventBusError)


async def test_a_longer_cycle_names_every_owner_in_it():
    async with open_bus() as bus:
        # the contract does not say whether subscribe or emit finds the cycle
        with pytest.raises(eventbus.OrderError) as excinfo:  # noqa: PT012
            bus.pipe(Doc, owner="bystander")(stamp("bystander"))
            # alpha -> beta -> gamma -> delta -> alpha, said with before and after
            bus.pipe(Doc, owner="alpha", before=("beta",), after=("delta",))(stamp("alpha"))
            bus.pipe(Doc, owner="beta")(stamp("beta"))
            bus.pipe(Doc, owner="gamma", after=("beta",), before=("delta",))(stamp("gamma"))
            bus.pipe(Doc, owner="delta")(stamp("delta"))
            await bus.emit(Doc())
    message = str(excinfo.value)
    for owner in ("alpha", "beta", "gamma", "delta"):
        assert owner in message, message


async def test_a_cycle_is_refused_at_subscribe_time_and_nothing_is_half_registered():
    async with open_bus() as bus:
        bus.pipe(Doc, owner="alpha", before=("beta",))(stamp("alpha"))
        before = bus.stats()
        with pytest.raises(eventbus.OrderError):
            bus.pipe(Doc, owner="beta", before=("alpha",))(stamp("beta"))
        assert bus.stats() == before
        assert await chain(bus) == ("alpha",)


# -- determinism -----------------------------------------------------------------------


SPEC = [
    # (owner, order, before, after)
    ("p3", 0, (), ()),
    ("p1", 2, ("p3",), ()),
    ("p2", 0, (), ("p4",)),
    ("p4", 1, (), ()),
    ("p5", 0, (), ()),
    (None, 0, (), ()),
    ("p1", 0, (), ()),
    ("p6", -1, ("p5",), ("p3",)),
]


async def build_and_run():
    async with open_bus() as bus:
        for index, (owner, order, before, after) in enumerate(SPEC):
            bus.pipe(Doc, owner=owner, order=order, before=before, after=after)(stamp(f"{index}"))
        first = await chain(bus)
        second = await chain(bus)
    return first, second


async def test_the_same_subscriptions_give_the_same_chain():
    first, second = await build_and_run()
    again, _ = await build_and_run()
    assert first == second == again
    assert sorted(first) == sorted(str(i) for i in range(len(SPEC)))


def test_chain_order_does_not_depend_on_hash_seed():
    script = textwrap.dedent(
        """
        import attrs, trio, eventbus

        @attrs.frozen
        class Doc(eventbus.Event):
            trail: tuple = ()

        SPEC = %r

        async def main():
            async with eventbus.open_bus(discover=False) as bus:
                for i, (owner, order, before, after) in enumerate(SPEC):
                    def pipe(event, i=i):
                        return attrs.evolve(event, trail=event.trail + (str(i),))
                    bus.pipe(Doc, owner=owner, order=order, before=before, after=after)(pipe)
                print(",".join((await bus.emit(Doc())).trail))

        trio.run(main)
        """
    ).replace("%r", repr(SPEC))
    outputs = set()
    for seed in ("0", "1", "12345", "987654"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        env["EVENTBUS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout.strip())
    assert len(outputs) == 1, outputs


async def test_listener_and_hook_order_is_visible_on_subscriptions():
    async with open_bus() as bus:
        sub = bus.subscribe(
            Doc, lambda event: None, kind="listener", order=4, before=("x",), after=("y",)
        )
        assert sub.order == 4
        assert tuple(sub.before) == ("x",)
        assert tuple(sub.after) == ("y",)
