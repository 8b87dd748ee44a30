"""Configuration: BusConfig from mappings and TOML files, plugin options (DESIGN section 9)."""

from __future__ import annotations

import dataclasses
import enum
import math
import pickle
import string
from typing import TYPE_CHECKING, Any, Literal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventbus import ConfigError
from eventbus._config import BusConfig, PluginConfig, load_config, structure_options

if TYPE_CHECKING:
    from pathlib import Path

# --- defaults and mappings -------------------------------------------------------------


def test_defaults_match_design_section_15():
    config = BusConfig()
    assert config.autoload is True
    assert config.enable is None
    assert config.disable == ()
    assert config.strict is True
    assert config.checkpoint == "full"
    assert (config.pipe_timeout, config.listener_timeout, config.hook_timeout) == (None,) * 3
    assert (config.start_timeout, config.stop_timeout) == (30.0, 30.0)
    assert config.drain_timeout == 10.0
    assert config.hook_capacity == 1024
    assert config.plugins == {}
    assert config.source is None
    assert load_config({}) == config


def test_busconfig_is_frozen_and_keyword_only():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        BusConfig().strict = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        BusConfig(True)  # type: ignore[misc]


def test_a_busconfig_is_returned_as_is():
    config = BusConfig(strict=False)
    assert load_config(config) is config


def test_every_key_from_a_mapping():
    config = load_config(
        {
            "autoload": False,
            "enable": ["audit", "storage"],
            "disable": ["noisy"],
            "strict": False,
            "checkpoint": "cancel",
            "pipe_timeout": 2,
            "listener_timeout": 1.5,
            "hook_timeout": 0,
            "start_timeout": 5,
            "stop_timeout": 6.0,
            "drain_timeout": 0.5,
            "hook_capacity": 8,
            "plugins": {
                "audit": {"retries": 5, "enabled": True},
                "bridge": {"path": "pkg.mod:Bridge", "url": "redis://x"},
            },
        }
    )
    assert config.autoload is False
    assert config.enable == ("audit", "storage")
    assert config.disable == ("noisy",)
    assert config.checkpoint == "cancel"
    assert config.pipe_timeout == 2.0
    assert isinstance(config.pipe_timeout, float)
    assert config.hook_timeout == 0.0
    assert (config.start_timeout, config.stop_timeout, config.drain_timeout) == (5.0, 6.0, 0.5)
    assert config.hook_capacity == 8
    assert config.plugins["audit"] == PluginConfig(enabled=True, options={"retries": 5})
    bridge = config.plugins["bridge"]
    assert bridge.path == "pkg.mod:Bridge"
    assert bridge.enabled is None
    assert bridge.options == {"url": "redis://x"}


def test_the_config_does_not_share_the_callers_dicts():
    options = {"retries": 1}
    config = load_config({"plugins": {"audit": options}})
    options["retries"] = 2
    assert config.plugins["audit"].options == {"retries": 1}


def test_wrong_argument_type_is_a_type_error():
    with pytest.raises(TypeError, match="config must be"):
        load_config(42)  # type: ignore[arg-type]


# --- messages --------------------------------------------------------------------------


def problems_of(data: Any) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        load_config(data)
    return info.value.problems


def test_unknown_key_suggests_the_close_one():
    assert problems_of({"pipe_timeot": 1}) == (
        "pipe_timeot: unknown key; did you mean 'pipe_timeout'?",
    )


def test_unknown_key_without_a_close_one_lists_the_valid_keys():
    (problem,) = problems_of({"zzz": 1})
    assert problem.startswith("zzz: unknown key (valid keys: autoload, checkpoint, disable,")


def test_source_is_not_a_config_key():
    (problem,) = problems_of({"source": "x"})
    assert problem.startswith("source: unknown key")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"autoload": "yes"}, "autoload: expected bool (true or false), got 'yes'"),
        ({"strict": 1}, "strict: expected bool (true or false), got 1"),
        ({"checkpoint": "fast"}, "checkpoint: expected one of 'full', 'cancel', got 'fast'"),
        ({"enable": "audit"}, "enable: expected a list of plugin names, got 'audit'"),
        ({"disable": ["a", 3]}, "disable[1]: expected str (a plugin name), got 3"),
        ({"pipe_timeout": -1}, "pipe_timeout: expected a finite number of seconds >= 0, got -1"),
        (
            {"listener_timeout": math.nan},
            "listener_timeout: expected a finite number of seconds >= 0, got nan",
        ),
        (
            {"hook_timeout": math.inf},
            "hook_timeout: expected a finite number of seconds >= 0, got inf",
        ),
        ({"hook_timeout": True}, "hook_timeout: expected a number of seconds, got True"),
        ({"start_timeout": None}, "start_timeout: expected a number of seconds, got None"),
        ({"stop_timeout": "1"}, "stop_timeout: expected a number of seconds, got '1'"),
        ({"hook_capacity": 0}, "hook_capacity: expected an int >= 1, got 0"),
        ({"hook_capacity": 2.0}, "hook_capacity: expected int, got 2.0"),
        ({"hook_capacity": False}, "hook_capacity: expected int, got False"),
        ({"plugins": []}, "plugins: expected a table, got []"),
        ({"plugins": {"audit": 5}}, "plugins.audit: expected a table, got 5"),
        ({"plugins": {"audit": {"path": 1}}}, "plugins.audit.path: expected str or None, got 1"),
        (
            {"plugins": {"audit": {"enabled": "no"}}},
            "plugins.audit.enabled: expected bool or None, got 'no'",
        ),
        (
            {"plugins": {"my plugin": {"enabled": 0}}},
            'plugins."my plugin".enabled: expected bool or None, got 0',
        ),
        ({"plugins": {3: {}}}, "plugins.3: bad key: expected str, got 3"),
    ],
)
def test_one_problem_message(data, expected):
    assert problems_of(data) == (expected,)


def test_every_problem_is_reported_at_once():
    problems = problems_of(
        {
            "pipe_timeot": 1,
            "strict": "no",
            "hook_capacity": -3,
            "disable": [1, "ok", None],
            "plugins": {"audit": {"enabled": "x"}, "b": []},
        }
    )
    assert set(problems) == {
        "pipe_timeot: unknown key; did you mean 'pipe_timeout'?",
        "strict: expected bool (true or false), got 'no'",
        "hook_capacity: expected an int >= 1, got -3",
        "disable[0]: expected str (a plugin name), got 1",
        "disable[2]: expected str (a plugin name), got None",
        "plugins.audit.enabled: expected bool or None, got 'x'",
        "plugins.b: expected a table, got []",
    }


def test_message_layout_and_pickle():
    with pytest.raises(ConfigError) as info:
        load_config({"strict": "no", "pipe_timeot": 1})
    err = info.value
    assert isinstance(err, ValueError)
    assert str(err).startswith("invalid configuration (2 problems):\n  - ")
    assert str(pickle.loads(pickle.dumps(err))) == str(err)


def test_long_values_are_shortened():
    (problem,) = problems_of({"checkpoint": "x" * 500})
    assert len(problem) < 150


# --- direct construction -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"pipe_timeout": -1.0}, "pipe_timeout: expected a finite number of seconds >= 0"),
        ({"start_timeout": math.nan}, "start_timeout: expected a finite number"),
        ({"hook_capacity": 0}, "hook_capacity: expected an int >= 1"),
        ({"checkpoint": "fast"}, "checkpoint: expected one of 'full', 'cancel'"),
        ({"strict": "yes"}, "strict: expected bool"),
        ({"disable": "noisy"}, "disable: expected a list of plugin names"),
    ],
)
def test_busconfig_checks_its_values(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        BusConfig(**kwargs)


# --- files -----------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


EXAMPLE_TOML = """
autoload = true
disable = ["noisy"]
pipe_timeout = 2.0
[plugins.audit]
retries = 5
[plugins.bridge]
path = "eventbus.bridges.redis:RedisBridge"
url = "redis://127.0.0.1:6379/0"
"""


def test_design_example_from_a_toml_file(tmp_path):
    path = write(tmp_path / "bus.toml", EXAMPLE_TOML)
    config = load_config(path)
    assert config.disable == ("noisy",)
    assert config.pipe_timeout == 2.0
    assert config.plugins["audit"].options == {"retries": 5}
    assert config.plugins["bridge"].path == "eventbus.bridges.redis:RedisBridge"
    assert config.plugins["bridge"].options == {"url": "redis://127.0.0.1:6379/0"}
    assert config.source == str(path)
    assert config.plugins["audit"].source == str(path)
    assert load_config(str(path)) == config


def test_errors_in_a_file_name_the_file(tmp_path):
    path = write(tmp_path / "bus.toml", "pipe_timeot = 1\n[plugins.audit]\nenabled = 'x'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.source == str(path)
    assert f"in {path}" in str(info.value)
    assert set(info.value.problems) == {
        "pipe_timeot: unknown key; did you mean 'pipe_timeout'?",
        "plugins.audit.enabled: expected bool or None, got 'x'",
    }


def test_invalid_toml(tmp_path):
    path = write(tmp_path / "bus.toml", "pipe_timeout = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(path)
    assert info.value.source == str(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_a_directory_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)


def test_pyproject_path_reads_tool_eventbus(tmp_path):
    path = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "app"\n[tool.eventbus]\nstrict = false\n'
        "[tool.eventbus.plugins.audit]\nretries = 2\n",
    )
    config = load_config(path)
    assert config.strict is False
    assert config.plugins["audit"].options == {"retries": 2}
    assert config.source == str(path)


def test_pyproject_problems_have_the_full_path(tmp_path):
    path = write(
        tmp_path / "pyproject.toml",
        "[tool.eventbus]\nstrict = 'no'\n[tool.eventbus.plugins.audit]\nenabled = 1\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert set(info.value.problems) == {
        "tool.eventbus.strict: expected bool (true or false), got 'no'",
        "tool.eventbus.plugins.audit.enabled: expected bool or None, got 1",
    }


def test_pyproject_tool_eventbus_must_be_a_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool]\neventbus = 3\n")
    with pytest.raises(ConfigError, match=r"tool.eventbus: the configuration must be a table"):
        load_config(path)


def test_pyproject_without_the_table_gives_defaults(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "app"\n')
    assert load_config(path) == BusConfig()


def test_none_reads_eventbus_toml_in_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path / "eventbus.toml", "strict = false\n")
    write(tmp_path / "pyproject.toml", "[tool.eventbus]\nhook_capacity = 3\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config.strict is False
    assert config.hook_capacity == 1024  # eventbus.toml wins; pyproject is not merged
    assert config.source == str(tmp_path / "eventbus.toml")


def test_none_falls_back_to_pyproject(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.eventbus]\nhook_capacity = 3\n")
    config = load_config(None, cwd=tmp_path)
    assert config.hook_capacity == 3
    assert config.source == str(tmp_path / "pyproject.toml")


def test_none_with_a_pyproject_without_the_table_gives_defaults(tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "app"\n')
    assert load_config(None, cwd=tmp_path) == BusConfig()


def test_none_with_nothing_gives_defaults(tmp_path):
    assert load_config(None, cwd=tmp_path) == BusConfig()
    assert load_config(cwd=str(tmp_path)).source is None


# --- plugin options ------------------------------------------------------------------------


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


@attrs.frozen
class Endpoint:
    host: str
    port: int = 80


@attrs.frozen
class AuditOptions:
    table: str
    retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    ratio: float = 1.0
    verbose: bool = False
    tags: tuple[str, ...] = ()
    limits: dict[str, int] = attrs.Factory(dict)
    level: Level = Level.LOW
    mode: Literal["sync", "async"] = "sync"
    backup: Endpoint | None = None
    mirrors: list[Endpoint] = attrs.Factory(list)
    key: str | int = 0


def test_options_are_structured():
    options = structure_options(
        AuditOptions,
        {
            "table": "events",
            "retries": 5,
            "ratio": 2,
            "tags": ["a", "b"],
            "limits": {"x": 1},
            "level": "high",
            "mode": "async",
            "backup": {"host": "db"},
            "mirrors": [{"host": "m1", "port": 1}],
            "key": "k",
        },
        path_prefix="plugins.audit",
    )
    assert options == AuditOptions(
        table="events",
        retries=5,
        ratio=2.0,
        tags=("a", "b"),
        limits={"x": 1},
        level=Level.HIGH,
        mode="async",
        backup=Endpoint("db"),
        mirrors=[Endpoint("m1", 1)],
        key="k",
    )


def test_design_example_message():
    with pytest.raises(ConfigError) as info:
        structure_options(AuditOptions, {"table": "t", "retries": "x"}, path_prefix="plugins.audit")
    assert info.value.problems == ("plugins.audit.retries: expected int, got 'x'",)
    assert str(info.value) == "invalid configuration: plugins.audit.retries: expected int, got 'x'"


def test_every_options_problem_at_once():
    with pytest.raises(ConfigError) as info:
        structure_options(
            AuditOptions,
            {
                "retries": True,
                "ratio": "1",
                "verbose": "true",
                "tags": "abc",
                "limits": {"x": "1", "y": 2},
                "level": "medium",
                "mode": "both",
                "backup": {"hots": "db"},
                "mirrors": [{"host": "ok"}, 7, {"host": 1}],
                "key": 1.5,
                "tabel": "t",
            },
            path_prefix="plugins.audit",
            source="eventbus.toml",
        )
    err = info.value
    assert err.source == "eventbus.toml"
    assert "in eventbus.toml" in str(err)
    assert set(err.problems) == {
        "plugins.audit.table: required key missing",
        "plugins.audit.retries: expected int, got True",
        "plugins.audit.ratio: expected float, got '1'",
        "plugins.audit.verbose: expected bool (true or false), got 'true'",
        "plugins.audit.tags: expected a list (tuple[str, ...]), got 'abc'",
        "plugins.audit.limits.x: expected int, got '1'",
        "plugins.audit.level: expected one of 'low', 'high', got 'medium'",
        "plugins.audit.mode: expected one of 'sync', 'async', got 'both'",
        "plugins.audit.backup.host: required key missing",
        "plugins.audit.backup.hots: unknown key; did you mean 'host'?",
        "plugins.audit.mirrors[1]: expected a table, got 7",
        "plugins.audit.mirrors[2].host: expected str, got 1",
        "plugins.audit.key: expected str or int, got 1.5",
        "plugins.audit.tabel: unknown key; did you mean 'table'?",
    }


def test_options_validators_are_reported_with_the_table_path():
    with pytest.raises(ConfigError) as info:
        structure_options(AuditOptions, {"table": "t", "retries": -1}, path_prefix="plugins.audit")
    (problem,) = info.value.problems
    assert problem.startswith("plugins.audit: ")
    assert "'retries' must be >= 0: -1" in problem


def test_options_instance_of_validator_names_the_field():
    @attrs.frozen
    class Checked:
        size: Any = attrs.field(validator=attrs.validators.instance_of(int))

    with pytest.raises(ConfigError) as info:
        structure_options(Checked, {"size": "big"}, path_prefix="plugins.p")
    assert info.value.problems == ("plugins.p.size: expected int, got 'big'",)


def test_dataclass_options():
    @dataclasses.dataclass(frozen=True)
    class Opts:
        retries: int = 3

    assert structure_options(Opts, {"retries": 4}, path_prefix="plugins.x") == Opts(4)
    with pytest.raises(ConfigError, match=r"plugins.x.retries: expected int, got 'x'"):
        structure_options(Opts, {"retries": "x"}, path_prefix="plugins.x")


def test_no_options_class():
    assert structure_options(None, {}, path_prefix="plugins.x") is None
    with pytest.raises(ConfigError) as info:
        structure_options(None, {"a": 1, "b": 2}, path_prefix="plugins.x")
    assert info.value.problems == (
        "plugins.x.a: unknown key (this plugin takes no options)",
        "plugins.x.b: unknown key (this plugin takes no options)",
    )


class Opaque:
    pass


@attrs.frozen
class OpaqueOptions:
    things: list[Opaque | int]


def test_options_class_cattrs_cannot_structure():
    with pytest.raises(ConfigError, match="OpaqueOptions cannot be structured from a table"):
        structure_options(OpaqueOptions, {"things": [1]}, path_prefix="plugins.x")


def test_options_class_with_unresolvable_annotations():
    @attrs.frozen
    class Local:
        thing: LocalOnly  # type: ignore[name-defined]  # noqa: F821 - the point of the test

    with pytest.raises(
        ConfigError, match=r"plugins.x: .*Local cannot be structured from a table: NameError"
    ):
        structure_options(Local, {"thing": 1}, path_prefix="plugins.x")


def test_options_path_prefix_as_tuple_quotes_odd_names():
    with pytest.raises(ConfigError) as info:
        structure_options(AuditOptions, {"table": 1}, path_prefix=("plugins", "a.b"))
    assert info.value.problems == ('plugins."a.b".table: expected str, got 1',)


# --- properties ------------------------------------------------------------------------------

names = st.text(alphabet=string.ascii_lowercase + "_-", min_size=1, max_size=8)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(names, st.integers()), inner, max_size=3),
    ),
    max_leaves=12,
)

TIMEOUT_KEYS = ("pipe_timeout", "listener_timeout", "hook_timeout")
SECONDS_KEYS = ("start_timeout", "stop_timeout", "drain_timeout")

good_seconds = st.one_of(st.integers(0, 100), st.floats(0, 100))
bad_seconds = st.one_of(
    st.integers(max_value=-1),
    st.floats(max_value=-0.001),
    st.just(math.nan),
    st.just(math.inf),
    st.booleans(),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
)
name_lists = st.lists(names, max_size=3)
bad_name_lists = st.one_of(
    st.text(max_size=3),
    st.integers(),
    st.lists(st.one_of(names, st.integers()), min_size=1, max_size=3).filter(
        lambda xs: any(not isinstance(x, str) for x in xs)
    ),
)
bad_bools = st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats(allow_nan=False))

GOOD_AND_BAD: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "autoload": (st.booleans(), bad_bools),
    "strict": (st.booleans(), bad_bools),
    "checkpoint": (st.sampled_from(["full", "cancel"]), st.text(max_size=4)),
    "enable": (st.one_of(st.none(), name_lists), bad_name_lists),
    "disable": (name_lists, st.one_of(bad_name_lists, st.none())),
    "hook_capacity": (
        st.integers(1, 10_000),
        st.one_of(st.integers(max_value=0), st.booleans(), st.text(max_size=3), st.floats()),
    ),
    **{key: (st.one_of(st.none(), good_seconds), bad_seconds) for key in TIMEOUT_KEYS},
    **{key: (good_seconds, st.one_of(bad_seconds, st.none())) for key in SECONDS_KEYS},
}


@st.composite
def config_mappings(draw: st.DrawFn) -> tuple[dict[Any, Any], set[str]]:
    """A config mapping and the paths of its bad keys."""
    data: dict[Any, Any] = {}
    bad: set[str] = set()
    for key, (good, wrong) in GOOD_AND_BAD.items():
        choice = draw(st.sampled_from(["absent", "good", "bad"]))
        if choice == "good":
            data[key] = draw(good)
        elif choice == "bad":
            value = draw(wrong)
            if key == "checkpoint" and value in ("full", "cancel"):
                continue
            data[key] = value
            bad.add(key)
    for key in draw(st.lists(names, max_size=3)):
        if key not in GOOD_AND_BAD and key != "plugins":
            data[key] = draw(anything)
            bad.add(key)
    if draw(st.booleans()):
        plugins: Any = {}
        if draw(st.integers(0, 9)) == 0:
            plugins = draw(st.one_of(scalars, st.lists(scalars, max_size=2)))
            bad.add("plugins")
        else:
            for name in draw(st.lists(names, max_size=3, unique=True)):
                table: Any = draw(st.dictionaries(names, anything, max_size=3))
                if draw(st.integers(0, 5)) == 0:
                    table = draw(scalars)
                    bad.add(f"plugins.{name}")
                else:
                    for key, wrong in (
                        ("path", st.one_of(st.integers(), st.booleans())),
                        ("enabled", st.one_of(st.integers(), st.text(max_size=2))),
                    ):
                        if key in table and not (
                            table[key] is None
                            or (key == "path" and isinstance(table[key], str))
                            or (key == "enabled" and isinstance(table[key], bool))
                        ):
                            bad.add(f"plugins.{name}.{key}")
                        elif draw(st.integers(0, 3)) == 0:
                            table[key] = draw(wrong)
                            bad.add(f"plugins.{name}.{key}")
                plugins[name] = table
        data["plugins"] = plugins
    return data, bad


def attempt(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """The result of ``fn``, or the ConfigError it raised (any other error fails)."""
    try:
        return fn(*args, **kwargs)
    except ConfigError as exc:
        return exc


@given(config_mappings())
def test_property_every_bad_path_is_reported(case):
    data, bad = case
    result = attempt(load_config, data)
    if not bad:
        assert isinstance(result, BusConfig)
        return
    assert isinstance(result, ConfigError)
    reported = {p.split(":", 1)[0].split("[", 1)[0] for p in result.problems}
    assert reported == bad
    message = str(result)
    for path in bad:
        assert f"\n  - {path}" in message or message.startswith(f"invalid configuration: {path}")


@given(anything)
def test_property_arbitrary_data_raises_only_config_error(data):
    result = attempt(load_config, data if isinstance(data, dict) else {"plugins": data})
    if isinstance(result, ConfigError):
        assert result.problems
        assert all(isinstance(p, str) and p for p in result.problems)
    else:
        assert isinstance(result, BusConfig)


@given(st.dictionaries(st.one_of(names, st.integers()), anything, max_size=6))
def test_property_arbitrary_options_raise_only_config_error(data):
    result = attempt(structure_options, AuditOptions, data, path_prefix="plugins.audit")
    if not isinstance(result, ConfigError):
        assert isinstance(result, AuditOptions)
        return
    assert result.problems
    assert all(p.startswith("plugins.audit") for p in result.problems)
    for key in data:
        if key not in attrs.fields_dict(AuditOptions):
            assert any(p.startswith(f"plugins.audit.{key}: unknown key") for p in result.problems)


def test_annotations_are_resolved_at_import():
    # eventbus/__init__.py relabels BusConfig as eventbus.BusConfig; cattrs must
    # not have to look its string annotations up in that module later.
    for cls in (BusConfig, PluginConfig):
        assert all(not isinstance(f.type, str) for f in attrs.fields(cls))
