"""``open_bus``: the one way to get a bus, with its configuration and plugins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from ._bus import Bus, BusSettings, _Tree
from ._config import BusConfig, load_config
from ._discovery import autoload_disabled_by_env
from ._errors import PluginError
from ._lifecycle import start_plugins, stop_error, stop_plugins
from ._scope import close_node, own_nursery
from ._subscription import check_positive_int, check_timeout

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["open_bus"]


def _pick(keyword: Any, configured: Any) -> Any:
    # None for a keyword means "not given": the configuration's value applies.
    return configured if keyword is None else keyword


@asynccontextmanager
async def open_bus(
    config: BusConfig | Mapping[str, Any] | str | PathLike[str] | None = None,
    *,
    plugins: Iterable[object] = (),
    discover: bool | None = None,
    strict: bool | None = None,
    checkpoint: Literal["full", "cancel"] | None = None,
    pipe_timeout: float | None = None,
    listener_timeout: float | None = None,
    hook_timeout: float | None = None,
    start_timeout: float | None = None,
    stop_timeout: float | None = None,
    drain_timeout: float | None = None,
    hook_capacity: int | None = None,
) -> AsyncIterator[Bus]:
    """Open an event bus, with its plugins, for the ``async with`` block.

    Args:
        config: A ``BusConfig``, a mapping, or a path to a TOML file; None reads
            ``eventbus.toml`` in the working directory, else ``[tool.eventbus]``
            of ``pyproject.toml`` there, else uses the defaults.
        plugins: Plugin instances (or ``Plugin`` subclasses) to run besides the
            discovered ones; one replaces a discovered plugin of the same name.
        discover: Load the plugins installed through the ``eventbus.plugins``
            entry points (default: the config's ``autoload``, true).
            ``EVENTBUS_DISABLE_PLUGIN_AUTOLOAD=1`` turns it off whatever is set.
        strict: A plugin that fails to load, configure or start stops the bus
            from opening (default: the config's ``strict``, true); false skips
            and logs it.
        checkpoint: ``"full"`` (every emit is a cancellation and a schedule
            point) or ``"cancel"`` (only a cancellation point).
        pipe_timeout: Default limit of each pipe call, in seconds.
        listener_timeout: Default limit of each listener call, in seconds.
        hook_timeout: Default limit of each hook call, in seconds.
        start_timeout: Limit for entering one plugin's ``lifespan``.
        stop_timeout: Limit for exiting one plugin's ``lifespan``.
        drain_timeout: Limit for draining hook queues and ``emit_soon`` work
            when the bus closes.
        hook_capacity: Default queue size of hooks and streams.

    Each of ``checkpoint`` to ``hook_capacity`` is the config key of the same
    name (see ``BusConfig``); None, the default, takes the config's value.

    Keyword arguments win over the configuration's values. Plugins start in
    ``requires`` order before the block runs and stop in reverse after it,
    once the ``emit_soon`` work in flight has finished (so its events reach
    them). On exit, hook queues and ``emit_soon`` work drain, waiting for
    the plugins included, for up to ``drain_timeout`` seconds in all;
    anything left is cancelled, counted and logged as lost.

    Raises:
        ConfigError: The configuration is invalid (every problem listed).
        PluginError: With ``strict``: a plugin failed to load, configure, order
            or start (nothing is left running), or, after the block, to stop.
    """
    if checkpoint not in (None, "full", "cancel"):
        raise ValueError(f"checkpoint must be 'full' or 'cancel', got {checkpoint!r}")
    for key, value in (
        ("pipe_timeout", pipe_timeout),
        ("listener_timeout", listener_timeout),
        ("hook_timeout", hook_timeout),
        ("start_timeout", start_timeout),
        ("stop_timeout", stop_timeout),
        ("drain_timeout", drain_timeout),
    ):
        check_timeout(value, f"open_bus({key}=...)")
    if hook_capacity is not None:
        check_positive_int(hook_capacity, "open_bus(hook_capacity=...)")
    for key, flag in (("discover", discover), ("strict", strict)):
        if flag is not None and not isinstance(flag, bool):
            raise TypeError(f"open_bus({key}=...) must be True, False or None, got {flag!r}")
    instances = list(plugins)
    loaded = load_config(config)
    is_strict: bool = _pick(strict, loaded.strict)
    autoload: bool = _pick(discover, loaded.autoload) and not autoload_disabled_by_env()
    settings = BusSettings(
        checkpoint=_pick(checkpoint, loaded.checkpoint),
        pipe_timeout=_pick(pipe_timeout, loaded.pipe_timeout),
        listener_timeout=_pick(listener_timeout, loaded.listener_timeout),
        hook_timeout=_pick(hook_timeout, loaded.hook_timeout),
        drain_timeout=_pick(drain_timeout, loaded.drain_timeout),
        hook_capacity=_pick(hook_capacity, loaded.hook_capacity),
    )
    tree = _Tree(settings)
    failures: list[PluginError] = []
    start_error: PluginError | None = None
    async with own_nursery() as nursery:
        bus = Bus(tree, nursery)
        tree.root = bus
        try:
            try:
                await start_plugins(
                    bus,
                    loaded,
                    instances,
                    autoload=autoload,
                    strict=is_strict,
                    start_timeout=_pick(start_timeout, loaded.start_timeout),
                    stop_timeout=_pick(stop_timeout, loaded.stop_timeout),
                )
            except PluginError as exc:
                # Raised below, outside the nursery, so that its cause stays chained.
                start_error = exc
            else:
                try:
                    yield bus
                except BaseException as exc:
                    # The block's own error goes on; stop failures ride along as notes.
                    for failure in await stop_plugins(bus):  # noqa: ASYNC102 - shielded, each step bounded
                        exc.add_note(f"while stopping the plugins: {failure}")
                    raise
                failures = await stop_plugins(bus)
        finally:
            # Running lifespans are shielded: they end only when stopped, so
            # stop them on every way out (a no-op when done above).
            failures += await stop_plugins(bus)  # noqa: ASYNC102 - shielded, each step bounded
            await close_node(bus)  # noqa: ASYNC102 - shields itself, bounded by drain_timeout
    if start_error is not None:
        raise start_error
    if failures and is_strict:
        raise stop_error(failures)
