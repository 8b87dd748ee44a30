"""The bridge's codec, registry and options: no Redis server needed.

The round-trip property: for generated attrs events (generated classes too),
``structure(unstructure(e)) == e``, and the same through a whole stream entry
(JSON bytes and the envelope).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis_events import Job, Ping

import eventbus
from eventbus._config import structure_options
from eventbus.bridges.redis import (
    SCHEMA_VERSION,
    Codec,
    DecodeError,
    EventRegistry,
    RedisBridge,
    RedisOptions,
)


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@attrs.frozen
class Inner:
    x: int
    label: str = ""


#: Field types of generated events, with a strategy for their values.
FIELD_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (int, st.integers()),
    (float, st.floats(allow_nan=False)),
    (str, st.text()),
    (bool, st.booleans()),
    (bytes, st.binary()),
    (datetime.datetime, st.datetimes(timezones=st.none() | st.just(datetime.UTC))),
    (datetime.date, st.dates()),
    (uuid.UUID, st.uuids()),
    (decimal.Decimal, st.decimals(allow_nan=False, allow_infinity=False)),
    (Colour, st.sampled_from(Colour)),
    (int | None, st.none() | st.integers()),
    (list[int], st.lists(st.integers())),
    (tuple[str, ...], st.lists(st.text()).map(tuple)),
    (frozenset[int], st.frozensets(st.integers())),
    (dict[str, float], st.dictionaries(st.text(), st.floats(allow_nan=False))),
    (dict[int, str], st.dictionaries(st.integers(), st.text())),
    (Inner, st.builds(Inner, st.integers(), st.text())),
    (list[Inner], st.lists(st.builds(Inner, st.integers(), st.text()), max_size=3)),
]


@st.composite
def generated_events(draw: st.DrawFn) -> Any:
    """An instance of a freshly generated frozen attrs class with random fields."""
    chosen = draw(st.lists(st.sampled_from(range(len(FIELD_TYPES))), min_size=0, max_size=6))
    fields = {f"f{i}": attrs.field(type=FIELD_TYPES[t][0]) for i, t in enumerate(chosen)}
    cls = attrs.make_class(f"Generated{len(chosen)}", fields, frozen=True)
    cls.__event_name__ = f"tests.generated.{uuid.uuid4().hex}"
    values = {f"f{i}": draw(FIELD_TYPES[t][1]) for i, t in enumerate(chosen)}
    return cls(**values)


@attrs.frozen
class Everything(eventbus.Event):
    __event_name__ = "tests.bridge.Everything"
    number: int
    ratio: float
    text: str
    flag: bool
    blob: bytes
    when: datetime.datetime
    day: datetime.date
    ident: uuid.UUID
    amount: decimal.Decimal
    colour: Colour
    maybe: int | None
    items: list[int]
    names: tuple[str, ...]
    tags: frozenset[int]
    inner: Inner
    inners: list[Inner]


@given(generated_events())
def test_round_trip_of_generated_events(event: Any) -> None:
    codec = Codec(EventRegistry([type(event)]))
    assert codec.structure(codec.unstructure(event), type(event)) == event
    entry = codec.encode(event, b"origin")
    header, decoded = codec.decode(entry)
    assert decoded == event
    # The per-class functions of the forwarder and the reader: the same.
    assert codec.encoder(type(event), b"origin")(event) == entry
    assert codec.decoder(type(event))(entry) == event
    assert header.name == eventbus.wire_name(type(event))
    assert header.origin == "origin"
    assert header.version == SCHEMA_VERSION


attrs.resolve_types(Everything)
STRATEGIES = dict(FIELD_TYPES)


@given(st.builds(Everything, **{a.name: STRATEGIES[a.type] for a in attrs.fields(Everything)}))
def test_round_trip_of_an_event_with_every_supported_type(event: Everything) -> None:
    codec = Codec()
    assert codec.structure(codec.unstructure(event), Everything) == event
    assert codec.decode(codec.encode(event, b"o"))[1] == event


def test_an_entry_is_four_flat_fields() -> None:
    entry = Codec().encode(Job(3, "x"), b"me")
    assert entry == {
        b"v": b"1",
        b"name": b"tests.bridge.Job",
        b"origin": b"me",
        b"data": b'{"n":3,"payload":"x"}',
    }


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({b"v": None}, "field 'v' is missing"),
        ({b"v": b"2"}, "schema version 2 is not supported"),
        ({b"v": b"one"}, "malformed envelope"),
        ({b"name": b"no.such.Event"}, "unknown event name 'no.such.Event'"),
        ({b"data": None}, "field 'data' is missing"),
        ({b"data": b"[1,"}, "data is not JSON"),
        ({b"data": b'{"n": "x"}'}, "does not structure into"),
        ({b"data": b"{}"}, "does not structure into"),
    ],
)
def test_decode_errors_say_why(change: dict[bytes, bytes | None], reason: str) -> None:
    entry: dict[bytes, bytes] = dict(Codec().encode(Job(1), b"o"))
    for key, value in change.items():
        if value is None:
            del entry[key]
        else:
            entry[key] = value
    with pytest.raises(DecodeError, match=reason.replace("(", r"\(")):
        Codec().decode(entry)


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        (b'{"n": 1}', True),
        (b' {"n": 1}', True),  # whitespace around is JSON too
        (b'{"n": 1}\n', True),
        ('{"n": 1, "payload": "\u00e9t\u00e9"}'.encode(), True),
        (b'{"n": 1} {"n": 2}', False),
        (b"", False),
        (b"\xff", False),
    ],
)
def test_json_data_is_parsed_strictly(data: bytes, ok: bool) -> None:
    entry = Codec().encode(Job(1), b"o")
    entry[b"data"] = data
    if ok:
        assert Codec().decode(entry)[1].n == 1
    else:
        with pytest.raises(DecodeError, match="data is not JSON"):
            Codec().decode(entry)


def test_unknown_fields_are_ignored_for_compatibility() -> None:
    entry = Codec().encode(Ping(1), b"o")
    entry[b"data"] = b'{"n": 1, "added_later": true}'
    assert Codec().decode(entry)[1] == Ping(1)


@attrs.frozen
class Basket:
    __event_name__ = "tests.bridge.Basket"
    counts: tuple[int, ...]
    labels: tuple[str, ...] = ()


@pytest.mark.parametrize(
    ("data", "result"),
    [
        (b'{"counts": [1, 2], "labels": ["a"]}', Basket((1, 2), ("a",))),
        (b'{"counts": []}', Basket(())),
        (b'{"counts": [1, "x", 3, "y"]}', r"expected int @ \$\.counts\[1\]; .* @ \$\.counts\[3\]"),
        (b'{"counts": 5}', r"expected tuple @ \$\.counts"),
    ],
)
def test_tuples_structure_as_cattrs_does(data: bytes, result: Basket | str) -> None:
    """The default converter's faster ``tuple[X, ...]`` hook: same values, same errors."""
    codec = Codec(EventRegistry([Basket]))
    entry = codec.encode(Basket((0,)), b"o")
    entry[b"data"] = data
    if isinstance(result, Basket):
        assert codec.decode(entry)[1] == result
    else:
        with pytest.raises(DecodeError, match=result):
            codec.decode(entry)


# -- registry -------------------------------------------------------------------------------


def test_registry_finds_event_subclasses_and_explicit_classes() -> None:
    registry = EventRegistry([Inner])
    assert registry.get("tests.bridge.Ping") is Ping
    assert registry.get(eventbus.wire_name(Inner)) is Inner
    assert registry.get("tests.bridge.Nope") is None
    assert {Ping, Job} <= set(registry.matching(["tests.bridge.P*", "tests.bridge.Job"]))


def test_registry_refuses_two_classes_with_one_wire_name() -> None:
    @attrs.frozen
    class Twin:
        __event_name__ = "tests.bridge.Ping"

    with pytest.raises(ValueError, match=r"set __event_name__ on one of them"):
        EventRegistry([Ping, Twin])


def test_registry_loads_modules_classes_and_default_wire_names() -> None:
    registry = EventRegistry()
    registry.load("eventbus.bridges.redis._delivery:Delivery")
    assert registry.get("eventbus.bridges.redis.Delivery") is not None
    registry.load("redis_events")
    assert registry.get("tests.bridge.Stop") is not None
    assert registry.load_name("eventbus._events.Event") is False  # wire name differs
    assert registry.load_name("not.a.module.Thing") is False
    with pytest.raises(ImportError):
        registry.load("no_such_module_here")


# -- options --------------------------------------------------------------------------------


def test_option_defaults() -> None:
    options = RedisOptions()
    assert options.url == "redis://127.0.0.1:6379/0"
    assert (options.stream, options.group, options.forward, options.receive) == (
        "eventbus",
        "eventbus",
        (),
        (),
    )
    assert (options.batch, options.block, options.claim_idle) == (100, 1.0, 30.0)
    assert (options.max_deliveries, options.maxlen, options.dead_letter) == (5, 100_000, None)
    assert options.dead_letter_for("orders") == "orders:dead"
    assert options.consumer_name().endswith(f"-{__import__('os').getpid()}")


def test_maxlen_zero_never_trims() -> None:
    assert RedisOptions(maxlen=0).maxlen is None
    assert RedisOptions(maxlen=None).maxlen is None


def test_stream_may_be_a_table_of_patterns() -> None:
    options = structure_options(
        RedisOptions, {"stream": {"shop.orders.*": "orders", "*": "events"}}
    )
    assert options is not None
    assert options.stream_for("shop.orders.Placed") == "orders"
    assert options.stream_for("shop.users.Joined") == "events"
    assert options.streams() == ("orders", "events")


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"batch": 0}, "batch: expected an int >= 1, got 0"),
        ({"batch": "x"}, "plugins.bridge.batch: expected int, got 'x'"),
        ({"block": 0}, "block: expected a number of seconds > 0"),
        ({"url": "http://h"}, "url: expected redis://"),
        ({"stream": 3}, "stream: expected a stream name or a table"),
        ({"stream": {"a.*": 1}}, "stream.a.*: expected a stream name"),
        ({"forward": "x"}, "plugins.bridge.forward: expected a list"),
        ({"max_deliveries": 0}, "max_deliveries: expected an int >= 1"),
        ({"maxlen": -1}, "maxlen: expected an int >= 0 (0: never trim)"),
        ({"stram": "x"}, "did you mean 'stream'"),
    ],
)
def test_bad_options_name_the_key(table: dict[str, Any], problem: str) -> None:
    with pytest.raises(eventbus.ConfigError) as info:
        structure_options(RedisOptions, table, path_prefix="plugins.bridge")
    assert problem in str(info.value)


def test_passwords_stay_out_of_reprs_and_logs() -> None:
    options = RedisOptions(url="redis://user:s3cret@host:6379/0", password="other")
    assert "s3cret" not in repr(options)
    assert "other" not in repr(options)
    assert options.redacted_url() == "redis://user:***@host:6379/0"


def test_a_bridge_imports_its_events_when_configured() -> None:
    bridge = RedisBridge(RedisOptions(imports=["redis_events"], receive=["tests.bridge.*"]))
    assert bridge.registry.get("tests.bridge.Stop") is not None
    assert bridge.origin.startswith(f"{bridge.consumer}/")
    with pytest.raises(TypeError, match="RedisOptions"):
        RedisBridge({"url": "redis://x"})  # type: ignore[arg-type]


def test_the_documented_worker_configuration_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/examples/bridge/worker.toml: every option valid, both plugins configured."""
    from conftest import EXAMPLES

    from eventbus._config import load_config
    from eventbus._lifecycle import plan_plugins

    monkeypatch.syspath_prepend(str(EXAMPLES))
    config = load_config(EXAMPLES / "worker.toml")
    infos = plan_plugins(config, autoload=False)
    assert [(i.name, i.state, i.error) for i in infos] == [
        ("bridge", "stopped", None),
        ("app", "stopped", None),
    ]
    table = config.plugins["bridge"].options
    assert set(table) | {"password", "consumer", "dead_letter", "capacity"} == {
        a.name for a in attrs.fields(RedisOptions)
    }, "the example lists every option"
