"""``RedisOptions``: the bridge's configuration, as its ``[plugins.NAME]`` table.

Structured by the bus's strict converter (``plugins.bridge.batch: expected int,
got 'x'``); the checks below add the ranges, each message starting with the
option's name. Times are seconds, as everywhere in the bus's configuration.
"""

from __future__ import annotations

import fnmatch
import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import attrs

__all__ = ["DEFAULT_URL", "RedisOptions", "default_consumer"]

DEFAULT_URL: Final = "redis://127.0.0.1:6379/0"
_SCHEMES: Final = ("redis", "rediss", "unix")


def default_consumer() -> str:
    """``<hostname>-<pid>``: unique among the live processes of a group."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _stream(value: object) -> str | dict[str, str]:
    """A stream name, or a table from wire-name patterns to stream names."""
    if isinstance(value, str):
        if not value:
            raise ValueError("stream: expected a stream name, got ''")
        return value
    if isinstance(value, Mapping):
        routes: dict[str, str] = {}
        for pattern, stream in value.items():
            if not isinstance(pattern, str) or not pattern:
                raise ValueError(f"stream: expected wire-name patterns as keys, got {pattern!r}")
            if not isinstance(stream, str) or not stream:
                raise ValueError(f"stream.{pattern}: expected a stream name (str), got {stream!r}")
            routes[pattern] = stream
        if not routes:
            raise ValueError("stream: the table is empty; name at least one stream")
        return routes
    raise ValueError(
        f"stream: expected a stream name or a table of wire-name patterns to stream "
        f"names, got {value!r}"
    )


def _names(option: str, value: str | Iterable[str]) -> tuple[str, ...]:
    items: tuple[object, ...] = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"{option}: expected non-empty strings, got {item!r}")
    return items  # type: ignore[return-value]  # every item was checked above


def _forward(value: str | Iterable[str]) -> tuple[str, ...]:
    return _names("forward", value)


def _receive(value: str | Iterable[str]) -> tuple[str, ...]:
    return _names("receive", value)


def _imports(value: str | Iterable[str]) -> tuple[str, ...]:
    return _names("imports", value)


def _positive_int(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name}: expected an int >= 1, got {value!r}")


def _positive_int_or_none(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _positive_int(instance, attribute, value)


def _maxlen_valid(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"maxlen: expected an int >= 0 (0: never trim), got {value!r}")


def _maxlen(value: int | None) -> int | None:
    # TOML has no null: `maxlen = 0` is how a configuration file says "never trim".
    return None if value == 0 and not isinstance(value, bool) else value


def _positive_seconds(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise ValueError(f"{attribute.name}: expected a number of seconds > 0, got {value!r}")


def _url(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValueError(f"url: expected a str, got {value!r}")
    scheme = urlsplit(value).scheme
    if scheme not in _SCHEMES:
        raise ValueError(
            f"url: expected redis://host:port/db, rediss://... (TLS) or unix:///path, "
            f"got {_redact(value)!r}"
        )


def _non_empty(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{attribute.name}: expected a non-empty str, got {value!r}")


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()


@attrs.frozen(kw_only=True)
class RedisOptions:
    """What ``[plugins.bridge]`` may set; every field has a default.

    Attributes:
        url: ``redis://[user:password@]host:port/db``, ``rediss://`` for TLS
            (certificates as query parameters: ``?ssl_ca_certs=/path/ca.pem``),
            or ``unix:///path/redis.sock``.
        password: Overrides the URL's password (keeps the secret out of the URL).
        cluster: Connect to a Redis Cluster (``url`` names one of its nodes).
        stream: The stream every forwarded event goes to, or a table from
            wire-name patterns to streams (first match wins, in table order).
        group: The consumer group this process reads in. Processes of one
            group share the entries; each group gets every entry.
        consumer: This process's name in the group (None: ``<hostname>-<pid>``).
        forward: Wire names or glob patterns of the event types to send.
        receive: Wire names or glob patterns of the event types to accept.
        imports: Modules (``"app.events"``) or classes (``"app.events:Paid"``)
            to import at start so that their event types are known.
        maxlen: Trim each stream to about this many entries on every add
            (approximate ``MAXLEN ~``); 0 or None never trims.
        batch: Entries per XADD pipeline and per XREADGROUP / XAUTOCLAIM call.
        block: Seconds an XREADGROUP waits for new entries.
        claim_idle: Seconds an entry may stay unacknowledged before another
            consumer (or this one) claims it again with XAUTOCLAIM.
        max_deliveries: Deliveries of one entry before it goes to the
            dead-letter stream.
        dead_letter: The dead-letter stream (None: ``<stream>:dead`` for each
            stream read).
        capacity: Queue size of the forwarding hook (None: the bus's
            ``hook_capacity``); when it is full, emitters wait.
    """

    url: str = attrs.field(default=DEFAULT_URL, validator=_url, repr=lambda url: repr(_redact(url)))
    password: str | None = attrs.field(default=None, repr=False)
    cluster: bool = False
    stream: Any = attrs.field(default="eventbus", converter=_stream, hash=False)
    group: str = attrs.field(default="eventbus", validator=_non_empty)
    consumer: str | None = attrs.field(default=None, validator=_non_empty)
    forward: tuple[str, ...] = attrs.field(default=(), converter=_forward)
    receive: tuple[str, ...] = attrs.field(default=(), converter=_receive)
    imports: tuple[str, ...] = attrs.field(default=(), converter=_imports)
    maxlen: int | None = attrs.field(default=100_000, converter=_maxlen, validator=_maxlen_valid)
    batch: int = attrs.field(default=100, validator=_positive_int)
    block: float = attrs.field(default=1.0, validator=_positive_seconds)
    claim_idle: float = attrs.field(default=30.0, validator=_positive_seconds)
    max_deliveries: int = attrs.field(default=5, validator=_positive_int)
    dead_letter: str | None = attrs.field(default=None, validator=_non_empty)
    capacity: int | None = attrs.field(default=None, validator=_positive_int_or_none)

    def __attrs_post_init__(self) -> None:
        if self.cluster and urlsplit(self.url).scheme == "unix":
            raise ValueError("cluster: a Redis Cluster is reached over TCP: use a redis:// url")

    def routes(self) -> tuple[tuple[str, str], ...]:
        """``(wire-name pattern, stream)`` pairs, in the order they are tried."""
        stream = self.stream
        if isinstance(stream, str):
            return (("*", stream),)
        return tuple(stream.items())

    def streams(self) -> tuple[str, ...]:
        """Every stream named, without repeats, in order."""
        return tuple(dict.fromkeys(stream for _, stream in self.routes()))

    def stream_for(self, name: str) -> str | None:
        """The stream a wire name is forwarded to (None: no pattern matches)."""
        for pattern, stream in self.routes():
            if fnmatch.fnmatchcase(name, pattern):
                return stream
        return None

    def dead_letter_for(self, stream: str) -> str:
        """The dead-letter stream of entries read from ``stream``."""
        return self.dead_letter if self.dead_letter is not None else f"{stream}:dead"

    def consumer_name(self) -> str:
        """``consumer``, or ``<hostname>-<pid>`` when it is not set."""
        return self.consumer if self.consumer is not None else default_consumer()

    def redacted_url(self) -> str:
        """``url`` with its password masked, for logs."""
        return _redact(self.url)


# Resolve the string annotations now, against this module: the package re-labels
# the class as eventbus.bridges.redis.RedisOptions, where cattrs would look them up.
attrs.resolve_types(RedisOptions)
