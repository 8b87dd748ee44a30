"""Bus configuration: ``BusConfig``, read from a mapping or a TOML file.

A configuration comes from a mapping, a TOML file (``eventbus.toml``, or the
``[tool.eventbus]`` table of a ``pyproject.toml``) or a ready ``BusConfig``.
It is structured with the strict converter of ``_converter``; every problem is
collected and reported at once in one :class:`ConfigError`, one line per
problem with its dotted path::

    plugins.audit.retries: expected int, got 'x'
    pipe_timeot: unknown key; did you mean 'pipe_timeout'?

:func:`structure_options` structures a plugin's ``Options`` class from its
``[plugins.NAME]`` table the same way, with the same messages.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import attrs

from ._converter import (
    HIDDEN_KEYS,
    Invalid,
    get_converter,
    mismatch,
    note_index,
    problems,
    render_path,
    show,
    split_path,
    structure_errors,
    structure_literal,
    table_hook,
)
from ._errors import ConfigError

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "BusConfig",
    "Checkpoint",
    "PluginConfig",
    "load_config",
    "structure_options",
]

T = TypeVar("T")

Checkpoint = Literal["full", "cancel"]

#: Keys of a ``[plugins.NAME]`` table that belong to the bus, not to the plugin.
PLUGIN_RESERVED_KEYS: Final = ("path", "enabled")

_CONFIG_FILE: Final = "eventbus.toml"
_PYPROJECT: Final = "pyproject.toml"


# --- checks of single values -------------------------------------------------------


def _check_seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise mismatch("a number of seconds", value)
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise Invalid(f"expected a finite number of seconds >= 0, got {show(value)}")
    return seconds


def _structure_timeout(value: object, _: object = None) -> float | None:
    """A handler timeout: seconds, or None for no limit."""
    if value is None:
        return None
    return _check_seconds(value)


def _structure_seconds(value: object, _: object = None) -> float:
    """A start/stop/drain limit: always a finite number of seconds."""
    return _check_seconds(value)


def _structure_capacity(value: object, _: object = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise mismatch("int", value)
    if value < 1:
        raise Invalid(f"expected an int >= 1, got {show(value)}")
    return value


def _structure_names(value: object, _: object = None) -> tuple[str, ...]:
    """A list of plugin names (``enable``, ``disable``)."""
    if not isinstance(value, list | tuple):
        raise mismatch("a list of plugin names", value)
    errors: list[Exception] = [
        note_index(mismatch("str (a plugin name)", item), index, str)
        for index, item in enumerate(value)
        if not isinstance(item, str)
    ]
    if errors:
        from cattrs.errors import IterableValidationError

        raise IterableValidationError("While structuring a list of names", errors, tuple)
    return tuple(value)


def _structure_optional_names(value: object, _: object = None) -> tuple[str, ...] | None:
    return None if value is None else _structure_names(value)


def _structure_bool(value: object, _: object = None) -> bool:
    if isinstance(value, bool):
        return value
    raise mismatch("bool (true or false)", value)


# --- attrs validators for direct construction ----------------------------------------
#
# ``BusConfig(...)`` built in code is checked too; the structuring hooks above
# have already checked a structured one, so these never fire twice.


def _validator(
    check: Callable[[object], object],
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def validate(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        try:
            check(value)
        except Invalid as exc:
            raise ConfigError(f"{attribute.name}: {exc.problem}") from None

    return validate


_valid_timeout = _validator(_structure_timeout)
_valid_seconds = _validator(_structure_seconds)
_valid_capacity = _validator(_structure_capacity)
_valid_names = _validator(_structure_names)
_valid_optional_names = _validator(_structure_optional_names)
_valid_bool = _validator(_structure_bool)
_valid_checkpoint = _validator(lambda v: structure_literal(v, Checkpoint))


def _copy_options(value: Mapping[str, Any]) -> dict[str, Any]:
    # A private copy: a frozen config must not change when the caller's dict does.
    return dict(value)


def _copy_plugins(value: Mapping[str, PluginConfig]) -> dict[str, PluginConfig]:
    return dict(value)


# --- the configuration classes --------------------------------------------------------


@attrs.frozen(kw_only=True)
class PluginConfig:
    """One ``[plugins.NAME]`` table.

    Attributes:
        path: Import path ``"pkg.mod:Attr"`` of a plugin that is not installed
            through an entry point, or None.
        enabled: ``false`` disables the plugin, ``true`` enables it even when an
            ``enable`` list leaves it out; None (key absent) follows the lists.
        options: The rest of the table, unstructured: the plugin's ``Options``
            class is structured from it when the plugin is loaded.
        source: Where the table came from (a file name), for messages.
    """

    path: str | None = None
    enabled: bool | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_copy_options, hash=False)
    source: str | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class BusConfig:
    """The bus-level configuration: what ``open_bus(config=...)`` is made into.

    ``open_bus`` also takes a mapping or the path of a TOML file and builds
    one of these from it; build one in code to keep the configuration in
    Python. Every value is checked when it is built: a bad one raises
    ``ConfigError``. Keyword arguments of ``open_bus`` win over these values.
    """

    autoload: bool = attrs.field(default=True, validator=_valid_bool)
    """Discover plugins from the ``eventbus.plugins`` entry points."""
    enable: tuple[str, ...] | None = attrs.field(default=None, validator=_valid_optional_names)
    """Only these discovered plugins are enabled (None: all of them)."""
    disable: tuple[str, ...] = attrs.field(default=(), validator=_valid_names)
    """These plugins are never enabled."""
    strict: bool = attrs.field(default=True, validator=_valid_bool)
    """A plugin that fails to load, configure or start stops the bus from opening."""
    checkpoint: Checkpoint = attrs.field(default="full", validator=_valid_checkpoint)
    """``"full"``: every emit is a cancellation and a schedule point;
    ``"cancel"``: only a cancellation point."""
    pipe_timeout: float | None = attrs.field(default=None, validator=_valid_timeout)
    """Default limit of each pipe call, in seconds (None: no limit)."""
    listener_timeout: float | None = attrs.field(default=None, validator=_valid_timeout)
    """Default limit of each listener call, in seconds (None: no limit)."""
    hook_timeout: float | None = attrs.field(default=None, validator=_valid_timeout)
    """Default limit of each hook call, in seconds (None: no limit)."""
    start_timeout: float = attrs.field(default=30.0, validator=_valid_seconds)
    """Limit for entering one plugin's ``lifespan``, in seconds."""
    stop_timeout: float = attrs.field(default=30.0, validator=_valid_seconds)
    """Limit for exiting one plugin's ``lifespan``, in seconds."""
    drain_timeout: float = attrs.field(default=10.0, validator=_valid_seconds)
    """How long a closing bus or scope drains hook queues and ``emit_soon`` work."""
    hook_capacity: int = attrs.field(default=1024, validator=_valid_capacity)
    """Queue size of a hook or stream that sets no ``capacity``."""
    plugins: Mapping[str, PluginConfig] = attrs.field(
        factory=dict, converter=_copy_plugins, hash=False
    )
    """``[plugins.NAME]`` tables by plugin name."""
    source: str | None = attrs.field(default=None, eq=False)
    """The file this configuration was read from (None: a mapping or defaults)."""


@attrs.frozen(kw_only=True)
class _PluginHead:
    """The bus's own keys of a ``[plugins.NAME]`` table, structured by cattrs."""

    path: str | None = None
    enabled: bool | None = None


# Resolve the string annotations now, against this module: eventbus/__init__.py
# re-labels the public classes ``eventbus.BusConfig``, and cattrs would later
# look the names up in the wrong module.
attrs.resolve_types(PluginConfig)
attrs.resolve_types(BusConfig)
attrs.resolve_types(_PluginHead)


# --- structuring ----------------------------------------------------------------------

HIDDEN_KEYS[BusConfig] = frozenset({"source"})


def _structure_plugin_config(value: object, _: Any) -> PluginConfig:
    if not isinstance(value, Mapping):
        raise mismatch("a table", value)
    head = get_converter().structure(
        {k: value[k] for k in PLUGIN_RESERVED_KEYS if k in value}, _PluginHead
    )
    options = {k: v for k, v in value.items() if k not in PLUGIN_RESERVED_KEYS}
    return PluginConfig(path=head.path, enabled=head.enabled, options=options)


@functools.cache
def _converter() -> cattrs.Converter:
    """The strict converter, with the hooks of BusConfig and PluginConfig."""
    from cattrs.gen import make_dict_structure_fn, override

    conv = get_converter()
    conv.register_structure_hook(PluginConfig, _structure_plugin_config)
    generated = make_dict_structure_fn(
        BusConfig,
        conv,
        source=override(omit=True),
        # ``plugins`` is structured on its own (see _structure_bus_config).
        plugins=override(omit=True),
        enable=override(struct_hook=_structure_optional_names),
        disable=override(struct_hook=_structure_names),
        hook_capacity=override(struct_hook=_structure_capacity),
        pipe_timeout=override(struct_hook=_structure_timeout),
        listener_timeout=override(struct_hook=_structure_timeout),
        hook_timeout=override(struct_hook=_structure_timeout),
        start_timeout=override(struct_hook=_structure_seconds),
        stop_timeout=override(struct_hook=_structure_seconds),
        drain_timeout=override(struct_hook=_structure_seconds),
    )
    conv.register_structure_hook(BusConfig, table_hook(BusConfig, generated))
    return conv


# --- public entry points -----------------------------------------------------------------


def _structure_bus_config(
    data: object, *, source: str | None, prefix: tuple[object, ...]
) -> BusConfig:
    if not isinstance(data, Mapping):
        where = f"{render_path(prefix)}: " if prefix else ""
        raise ConfigError(
            f"{where}the configuration must be a table (a mapping), got {show(data)}",
            source=source,
        )
    found: list[str] = []
    config: BusConfig | None = None
    conv = _converter()
    try:
        config = conv.structure(
            {key: value for key, value in data.items() if key != "plugins"}, BusConfig
        )
    except structure_errors() as exc:
        found.extend(problems(exc, data, prefix))
    # ``plugins`` is structured on its own (BusConfig's hook omits it) so that its
    # problems are reported together with the top-level ones.
    plugins: dict[str, PluginConfig] = {}
    if "plugins" in data:
        try:
            plugins = conv.structure(data["plugins"], dict[str, PluginConfig])
        except structure_errors() as exc:
            found.extend(problems(exc, data["plugins"], (*prefix, "plugins")))
    if found or config is None:
        raise ConfigError(found, source=source)
    if not plugins and source is None:
        return config  # nothing to add (open_bus(config={}) and the like)
    plugins = {name: attrs.evolve(p, source=source) for name, p in plugins.items()}
    return attrs.evolve(config, plugins=plugins, source=source)


def structure_options(
    options_cls: type[T] | None,
    mapping: Mapping[str, Any],
    *,
    path_prefix: str | tuple[object, ...] = (),
    source: str | None = None,
) -> T | None:
    """Structure a plugin's ``Options`` class from its config table.

    Args:
        options_cls: The plugin's ``Options`` (an attrs class or a dataclass), or
            None for a plugin that takes no options.
        mapping: The options table (``PluginConfig.options``).
        path_prefix: Dotted path of the table, e.g. ``"plugins.audit"``, put in
            front of every problem's path.
        source: The file the table came from, for the message.

    Returns:
        The structured options, or None when ``options_cls`` is None.

    Raises:
        ConfigError: Listing every problem, e.g.
            ``plugins.audit.retries: expected int, got 'x'``; also when cattrs
            cannot structure a field type of ``options_cls`` at all.
    """
    if options_cls is None and not mapping:
        return None
    prefix = split_path(path_prefix)
    if options_cls is None:
        if mapping:
            raise ConfigError(
                [
                    f"{render_path((*prefix, key))}: unknown key (this plugin takes no options)"
                    for key in mapping
                ],
                source=source,
            )
        return None
    try:
        hook = _converter().get_structure_hook(options_cls)
    except Exception as exc:
        # cattrs cannot structure a field's type (or the annotations do not
        # resolve): the Options class is at fault, not the table.
        where = render_path(prefix) or "options"
        raise ConfigError(
            f"{where}: {options_cls.__qualname__} cannot be structured from a table: "
            f"{type(exc).__name__}: {exc}",
            source=source,
        ) from exc
    try:
        result: T = hook(mapping, options_cls)
    except structure_errors() as exc:
        raise ConfigError(problems(exc, mapping, prefix), source=source) from None
    return result


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when a file is read

    source = os.fspath(path)
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"config file {source!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {source!r}: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from exc


def _from_file(path: Path, data: dict[str, Any] | None = None) -> BusConfig:
    if data is None:
        data = _read_toml(path)
    source = os.fspath(path)
    if path.name == _PYPROJECT:
        tool = data.get("tool", {})
        section = tool.get("eventbus", {}) if isinstance(tool, dict) else {}
        return _structure_bus_config(section, source=source, prefix=("tool", "eventbus"))
    return _structure_bus_config(data, source=source, prefix=())


def load_config(
    config: BusConfig | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
) -> BusConfig:
    """Build a :class:`BusConfig` from whatever ``open_bus(config=...)`` was given.

    Args:
        config: A ``BusConfig`` (returned as is); a mapping; a path to a TOML
            file (a ``pyproject.toml`` is read from its ``[tool.eventbus]``
            table); or None: ``eventbus.toml`` in ``cwd`` if it exists, else
            ``[tool.eventbus]`` of ``pyproject.toml`` there, else the defaults.
        cwd: The directory searched when ``config`` is None (default: the
            working directory).

    Returns:
        The configuration.

    Raises:
        ConfigError: Listing every problem with its dotted path; its ``source``
            names the file when the configuration came from one.
        TypeError: ``config`` is none of the accepted kinds.
    """
    if isinstance(config, BusConfig):
        return config
    if isinstance(config, Mapping):
        return _structure_bus_config(config, source=None, prefix=())
    if isinstance(config, str | os.PathLike):
        return _from_file(Path(config))
    if config is None:
        where = Path.cwd() if cwd is None else Path(cwd)
        candidate = where / _CONFIG_FILE
        if candidate.is_file():
            return _from_file(candidate)
        pyproject = where / _PYPROJECT
        if pyproject.is_file():
            data = _read_toml(pyproject)
            tool = data.get("tool")
            if isinstance(tool, dict) and "eventbus" in tool:
                return _from_file(pyproject, data)
        return BusConfig()
    raise TypeError(
        f"config must be a BusConfig, a mapping, a path to a TOML file or None, "
        f"not {type(config).__qualname__}"
    )
