"""The connection's state: which errors mean "Redis went away", backoff, log lines.

Every task of a bridge (the forwarder, one reader per stream) talks to Redis
through the same client. When Redis goes away each task retries on its own,
with exponential backoff and jitter; :class:`Link` turns their failures and
successes into one log line per state change: a warning when the connection
is lost, an info line when it is back (with how long it was gone), debug lines
for the attempts in between.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final, final

import trio

if TYPE_CHECKING:
    import logging

__all__ = ["Backoff", "Link", "transient_errors"]

#: Backoff: first delay, growth factor and ceiling, in seconds.
FIRST_DELAY: Final = 0.05
FACTOR: Final = 2.0
MAX_DELAY: Final = 5.0


def transient_errors() -> tuple[type[BaseException], ...]:
    """The errors after which a retry can succeed: Redis is away or busy.

    A dropped or refused connection, a timeout, a server still loading its
    data, a cluster that is reconfiguring, a replica promoted mid-command.
    """
    from coredis.exceptions import (
        BusyLoadingError,
        ClusterDownError,
        ConnectionError,
        ReadOnlyError,
        TryAgainError,
    )

    return (
        ConnectionError,
        BusyLoadingError,
        ClusterDownError,
        TryAgainError,
        ReadOnlyError,
        TimeoutError,
        OSError,
        trio.BrokenResourceError,
    )


@final
class Backoff:
    """Delays for one task's retries: 0.05 s doubling up to 5 s, with jitter."""

    __slots__ = ("_delay",)

    def __init__(self) -> None:
        self._delay = FIRST_DELAY

    def next(self) -> float:
        """The next delay (half fixed, half random, so retries spread out)."""
        delay = self._delay
        self._delay = min(delay * FACTOR, MAX_DELAY)
        return delay / 2 + random.random() * delay / 2

    def reset(self) -> None:
        self._delay = FIRST_DELAY


@final
class Link:
    """Whether Redis answers, as every task of the bridge last saw it."""

    __slots__ = ("_attempts", "_log", "_lost_at", "_where", "reconnects")

    def __init__(self, log: logging.Logger, where: str) -> None:
        self._log = log
        self._where = where
        self._lost_at: float | None = None
        self._attempts = 0
        #: Times the connection came back after being lost.
        self.reconnects = 0

    @property
    def up(self) -> bool:
        return self._lost_at is None

    def failed(self, exc: BaseException, doing: str, delay: float) -> None:
        """A task could not reach Redis while ``doing``; it retries in ``delay`` s."""
        self._attempts += 1
        if self._lost_at is None:
            self._lost_at = trio.current_time()
            self._log.warning(
                "lost the connection to Redis at %s while %s (%s: %s); retrying with "
                "backoff (up to %g s between attempts), nothing is acknowledged meanwhile",
                self._where,
                doing,
                type(exc).__name__,
                str(exc),
                MAX_DELAY,
            )
        else:
            self._log.debug(
                "Redis still unreachable while %s (%s: %s); next attempt in %.2f s",
                doing,
                type(exc).__name__,
                str(exc),
                delay,
            )

    def ok(self) -> None:
        """A task talked to Redis successfully."""
        if self._lost_at is None:
            return
        gone = trio.current_time() - self._lost_at
        self._log.info(
            "reconnected to Redis at %s after %.1f s (%d failed attempts)",
            self._where,
            gone,
            self._attempts,
        )
        self._lost_at = None
        self._attempts = 0
        self.reconnects += 1
