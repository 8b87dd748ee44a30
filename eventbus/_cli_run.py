"""``eventbus run``: serve the bus and its plugins until SIGINT or SIGTERM.

The bus is opened by ``open_bus`` with the configuration, as an application
opens it: the plugins start in requirement order (the lifecycle logs
``starting plugin ...`` and ``plugin ... started``), then a ``ready`` line.
Signals arrive through ``trio.open_signal_receiver``:

- the first SIGINT or SIGTERM ends the bus's block normally, so the plugins
  stop as they do in an application: last started first, hook queues drained,
  each lifespan exited within ``stop_timeout`` (``stopping plugin ...``,
  ``plugin ... stopped``); the exit status is then 0, or 1 if a plugin failed
  to stop. A signal during the start cancels it; what had started stops the
  same way.
- a second signal exits at once (status 128 + the signal number: 130 for
  SIGINT, 143 for SIGTERM), without waiting for the plugins: the stop is
  shielded from cancellation, so only leaving the process can cut it short.

Log lines go to standard error, one per line, coloured on a terminal.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Final, Literal, final

import trio

from ._cli_text import Style, shown_path
from ._config import load_config
from ._errors import ConfigError, PluginError
from ._open import open_bus

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ._bus import Bus
    from ._config import BusConfig

__all__ = ["serve"]

logger = logging.getLogger("eventbus.cli")

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1

_LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_LEVEL_CODES: Final = {
    logging.DEBUG: "2",
    logging.INFO: "32",
    logging.WARNING: "33",
    logging.ERROR: "31",
    logging.CRITICAL: "1;31",
}


class _Formatter(logging.Formatter):
    """``12:00:01.123 INFO    eventbus.plugin.audit: starting plugin 'audit' (...)``."""

    def __init__(self, style: Style, *, tracebacks: bool) -> None:
        super().__init__()
        self._paint = style
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        style = self._paint
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        stamp = f"{stamp}.{int(record.msecs):03d}"
        level = style.paint(_LEVEL_CODES.get(record.levelno, ""), f"{record.levelname:<7}")
        line = f"{style.dim(stamp)} {level} {style.dim(record.name + ':')} {record.getMessage()}"
        if record.exc_info and self._tracebacks:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _setup_logging(level_name: str, *, color: bool) -> None:
    level = _LEVELS[level_name]
    handler = logging.StreamHandler(sys.stderr)
    # The messages name the cause already; tracebacks are for --log-level debug.
    handler.setFormatter(_Formatter(Style(color=color), tracebacks=level <= logging.DEBUG))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(level, logging.WARNING))
    logging.getLogger("eventbus").setLevel(level)


@final
class _Server:
    """Where the run stands, for the signal watcher."""

    __slots__ = ("phase", "signalled", "start_scope", "stop")

    def __init__(self) -> None:
        self.phase: Literal["starting", "serving"] = "starting"
        self.signalled = False
        self.stop = trio.Event()
        # Cancelled by a signal that arrives before the bus is ready.
        self.start_scope = trio.CancelScope()


def _force_exit(signum: int) -> None:
    logger.warning(
        "%s received again: exiting now, without waiting for the plugins to stop",
        signal.Signals(signum).name,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    # The stop is shielded (clean-up must not be cut short by cancellation),
    # so leaving the process is the only way to cut it short.
    os._exit(128 + signum)


async def _watch(signals: AsyncIterator[int], server: _Server) -> None:
    async for signum in signals:
        name = signal.Signals(signum).name
        if server.signalled:
            _force_exit(signum)
        server.signalled = True
        if server.phase == "starting":
            logger.info("%s received while starting: stopping what has started", name)
            server.start_scope.cancel()
        else:
            logger.info(
                "%s received: stopping the plugins, last started first (send it again to "
                "exit at once)",
                name,
            )
            server.stop.set()


def _ready(bus: Bus) -> None:
    running = [info.name for info in bus.plugins if info.state == "running"]
    failed = [info.name for info in bus.plugins if info.state == "failed"]
    what = (
        f"{len(running)} plugin{'' if len(running) == 1 else 's'} running ({', '.join(running)})"
        if running
        else "no plugin running"
    )
    if failed:
        what += f", {len(failed)} failed ({', '.join(failed)})"
    logger.info("ready: %s; press Ctrl-C or send SIGTERM to stop", what)


async def _serve(config: BusConfig) -> int:
    server = _Server()
    code = EXIT_OK
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch, signals, server)
            try:
                with server.start_scope:
                    async with open_bus(config) as bus:
                        server.phase = "serving"
                        _ready(bus)
                        await server.stop.wait()
            except PluginError as exc:
                logger.error("%s", exc, exc_info=exc)
                code = EXIT_FAILED
            finally:
                nursery.cancel_scope.cancel()
    if code == EXIT_OK:
        logger.info("stopped")
    else:
        logger.error("stopped, with errors")
    return code


def serve(config_file: str | None, *, log_level: str = "info", color: bool = False) -> int:
    """Run ``eventbus run``: serve until a signal, stop, return the exit status.

    Args:
        config_file: The ``--config`` file; None looks in the working directory.
        log_level: The least severe log level shown: ``"debug"``, ``"info"``...
        color: Colour the log lines.
    """
    _setup_logging(log_level, color=color)
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        logger.error("%s", exc)
        return EXIT_FAILED
    logger.info("config: %s", shown_path(config.source) or "none found, using the defaults")
    code: int = trio.run(_serve, config)
    return code
