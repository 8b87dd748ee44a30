"""The Plugin base class and the method decorators (DESIGN sections 6 and 15)."""

from __future__ import annotations

import contextlib
import dataclasses

import attrs
import pytest

import eventbus
from eventbus._plugins import HandlerSpec, Plugin, handler_specs, hook, listener, pipe


@attrs.frozen
class Created(eventbus.Event):
    id: int = 0


@attrs.frozen
class Creating(eventbus.Event):
    id: int = 0


def test_handlers_are_collected_in_class_body_order():
    class Audit(Plugin):
        name = "audit"

        @pipe(Creating, order=-10, timeout=2.0)
        async def stamp(self, event):
            return event

        @listener(Created)
        async def index(self, event):
            pass

        def not_a_handler(self, event):
            pass

        @hook(Created, capacity=8, concurrency=2, overflow="drop")
        def notify(self, event):
            pass

    specs = handler_specs(Audit)
    assert [(s.method, s.kind, s.event_type) for s in specs] == [
        ("stamp", "pipe", Creating),
        ("index", "listener", Created),
        ("notify", "hook", Created),
    ]
    assert specs[0].options == {
        "order": -10,
        "before": (),
        "after": (),
        "timeout": 2.0,
        "thread": False,
    }
    assert specs[2].options["capacity"] == 8
    assert specs[2].options["concurrency"] == 2
    assert specs[2].options["overflow"] == "drop"
    assert handler_specs(Audit()) == specs
    assert isinstance(specs[0], HandlerSpec)


def test_the_decorated_function_is_returned_unchanged():
    async def stamp(self, event):
        return event

    assert pipe(Creating)(stamp) is stamp


async def test_decorated_methods_stay_callable():
    class Audit(Plugin):
        @pipe(Creating)
        async def stamp(self, event):
            return Creating(event.id + 1)

        @listener(Created, thread=True)
        def sync(self, event):
            return event.id

    plugin = Audit()
    assert await plugin.stamp(Creating(1)) == Creating(2)
    assert plugin.sync(Created(5)) == 5


def test_stacked_decorators_give_one_handler_each_top_first():
    class Both(Plugin):
        @listener(Created)
        @listener(Creating, order=1)
        async def seen(self, event):
            pass

    assert [(s.method, s.event_type) for s in handler_specs(Both)] == [
        ("seen", Created),
        ("seen", Creating),
    ]


def test_inherited_handlers_come_first():
    class Base(Plugin):
        @listener(Created)
        async def base_one(self, event):
            pass

        @listener(Created)
        async def base_two(self, event):
            pass

    class Child(Base):
        @listener(Created)
        async def child_one(self, event):
            pass

    assert [s.method for s in handler_specs(Child)] == ["base_one", "base_two", "child_one"]
    assert [s.method for s in handler_specs(Base)] == ["base_one", "base_two"]


def test_an_undecorated_override_drops_the_handler():
    class Base(Plugin):
        @listener(Created)
        async def one(self, event):
            pass

        @listener(Created)
        async def two(self, event):
            pass

    class Quiet(Base):
        async def one(self, event):  # an override without a decorator: not a handler
            pass

    class Loud(Base):
        @hook(Created)
        async def one(self, event):
            pass

    assert [s.method for s in handler_specs(Quiet)] == ["two"]
    assert [(s.method, s.kind) for s in handler_specs(Loud)] == [
        ("two", "listener"),
        ("one", "hook"),
    ]


def test_multiple_inheritance_follows_the_mro():
    class A(Plugin):
        @listener(Created)
        async def a(self, event):
            pass

    class B(Plugin):
        @listener(Created)
        async def b(self, event):
            pass

    class C(A, B):
        @listener(Created)
        async def c(self, event):
            pass

    assert [s.method for s in handler_specs(C)] == ["b", "a", "c"]


def test_a_mixin_that_is_not_a_plugin_contributes_handlers():
    class Mixin:
        @listener(Created)
        async def from_mixin(self, event):
            pass

    class P(Mixin, Plugin):
        pass

    assert [s.method for s in handler_specs(P)] == ["from_mixin"]


def test_class_attributes_and_defaults():
    class P(Plugin):
        pass

    assert P.name is None
    assert P.requires == ()
    assert P.Options is None
    assert P().options is None
    assert P(options=3).options == 3
    assert handler_specs(P) == ()
    assert repr(P()) == f"<{P.__qualname__}>"

    class Named(Plugin):
        name = "named"
        requires = ["a", "b"]  # noqa: RUF012 - a list is accepted and made a tuple

    assert Named.requires == ("a", "b")
    assert repr(Named()).endswith(" 'named'>")


async def test_the_default_lifespan_does_nothing():
    class P(Plugin):
        pass

    async with P().lifespan(None) as value:  # type: ignore[arg-type]
        assert value is None


# --- errors at class creation -----------------------------------------------------


def raises_naming(match: str):
    return pytest.raises((TypeError, ValueError), match=match)


def test_handler_must_take_self_and_event():
    with raises_naming(r"on .*Bad\.only_self: a handler method must take exactly \(self, event\)"):

        class Bad(Plugin):
            @listener(Created)
            async def only_self(self):
                pass

    with raises_naming(
        r"Bad2\.extra: a handler method must take exactly \(self, event\), but it is defined as extra\(self, event, more\)"
    ):

        class Bad2(Plugin):
            @listener(Created)
            async def extra(self, event, more):
                pass

    with raises_naming(r"Bad3\.kwonly: a handler method must take exactly"):

        class Bad3(Plugin):
            @listener(Created)
            def kwonly(self, *, event):
                pass


def test_handler_signature_may_have_defaults_or_star_args():
    class Fine(Plugin):
        @listener(Created)
        async def with_default(self, event, extra=1):
            pass

        @listener(Created)
        def star(self, *args):
            pass

    assert len(handler_specs(Fine)) == 2


def test_staticmethod_and_classmethod_are_rejected():
    with raises_naming(r"not a staticmethod; remove @staticmethod"):

        class Bad(Plugin):
            @listener(Created)
            @staticmethod
            def handler(event):
                pass

    with raises_naming(r"not a classmethod"):

        class Bad2(Plugin):
            @listener(Created)
            @classmethod
            def handler(cls, event):
                pass


def test_only_functions_can_be_decorated():
    with raises_naming(r"decorate a method"):
        listener(Created)(print)


def test_async_generator_is_rejected():
    with raises_naming(
        r"@eventbus.hook\(.*Created\) on .*Bad\.gen: the method is an async generator"
    ):

        class Bad(Plugin):
            @hook(Created)
            async def gen(self, event):
                yield event


def test_thread_true_on_an_async_method_is_rejected():
    with raises_naming(r"Bad\.handler: thread=True runs a plain function"):

        class Bad(Plugin):
            @listener(Created, thread=True)
            async def handler(self, event):
                pass


def test_unknown_option_names_class_method_and_valid_options():
    with raises_naming(
        r"@eventbus.pipe\(.*Creating\) on .*Bad\.stamp: unknown option 'capacity'; "
        r"valid options: order, before, after, timeout, thread"
    ):

        class Bad(Plugin):
            @pipe(Creating, capacity=3)  # type: ignore[call-arg]
            async def stamp(self, event):
                return event

    with raises_naming(r"unknown options 'colour', 'size'"):

        class Bad2(Plugin):
            @listener(Created, size=1, colour="red")  # type: ignore[call-arg]
            async def handler(self, event):
                pass


def test_owner_is_not_allowed():
    with raises_naming(r"Bad\.handler: owner= is not allowed on a plugin's handler"):

        class Bad(Plugin):
            @listener(Created, owner="other")  # type: ignore[call-arg]
            async def handler(self, event):
                pass


@pytest.mark.parametrize(
    ("decorator", "match"),
    [
        (lambda: listener(Created, order="first"), r"Bad\.handler: order must be an int"),
        (lambda: listener(Created, order=True), r"order must be an int"),
        (lambda: listener(Created, timeout=-1), r"Bad\.handler: timeout must be >= 0"),
        (lambda: listener(Created, timeout="1"), r"timeout must be a number"),
        (lambda: listener(Created, thread="yes"), r"thread must be True or False"),
        (lambda: listener(Created, before=3), r"before= takes a plugin name"),
        (lambda: listener(Created, after=[1]), r"after= takes plugin names"),
        (lambda: hook(Created, capacity=0), r"capacity \(queue size\) must be an int >= 1"),
        (lambda: hook(Created, concurrency=0), r"concurrency \(workers\) must be an int >= 1"),
        (lambda: hook(Created, overflow="spill"), r"overflow must be 'wait' or 'drop'"),
        (lambda: listener("Created"), r"the event type must be a class"),
    ],
)
def test_bad_option_values(decorator, match):
    with raises_naming(match):

        class Bad(Plugin):
            @decorator()
            async def handler(self, event):
                pass


def test_before_and_after_accept_one_name_or_several():
    class P(Plugin):
        @listener(Created, before="storage", after=["a", "b"])
        async def handler(self, event):
            pass

    (spec,) = handler_specs(P)
    assert spec.options["before"] == "storage"  # normalised by the bus at subscribe time
    assert spec.options["after"] == ["a", "b"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"name": ""}, r"name must be a non-empty str"),
        ({"name": 3}, r"name must be a non-empty str"),
        ({"requires": "storage"}, r"requires must be a tuple .*write requires = \('storage',\)"),
        ({"requires": ("ok", 3)}, r"requires holds plugin names"),
        ({"Options": dict}, r"Options must be an attrs class or a dataclass"),
        ({"Options": 3}, r"Options must be an attrs class"),
    ],
)
def test_bad_class_attributes(body, match):
    with pytest.raises(TypeError, match=r"plugin class .*Bad: " + match):
        type("Bad", (Plugin,), body)


def test_options_may_be_attrs_or_dataclass():
    @attrs.frozen
    class A:
        x: int = 1

    @dataclasses.dataclass
    class D:
        x: int = 1

    type("WithAttrs", (Plugin,), {"Options": A})
    type("WithDataclass", (Plugin,), {"Options": D})


def test_an_undecorated_lifespan_generator_is_rejected():
    with pytest.raises(
        TypeError, match=r"lifespan is an async generator function; .*asynccontextmanager"
    ):

        class Bad(Plugin):
            async def lifespan(self, bus):
                yield

    with pytest.raises(TypeError, match=r"lifespan is a coroutine function"):

        class Bad2(Plugin):
            async def lifespan(self, bus):
                pass

    class Good(Plugin):
        @contextlib.asynccontextmanager
        async def lifespan(self, bus):
            yield

    assert Good
