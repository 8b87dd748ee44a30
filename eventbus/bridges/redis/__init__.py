"""The Redis Streams bridge: events between processes, at least once.

``RedisBridge`` is an ordinary plugin (extra ``redis``: ``pip install
'trio-eventbus[redis]'``; it runs coredis on trio through anyio)::

    [plugins.bridge]
    path = "eventbus.bridges.redis:RedisBridge"
    url = "redis://127.0.0.1:6379/0"
    forward = ["shop.events.*"]
    receive = ["shop.events.*"]

It forwards the chosen local events to streams, and emits locally what other
processes forwarded, acknowledging each entry only after its emit succeeded.
Handlers deduplicate with :func:`current_delivery`. See ``docs/distributed.md``.
"""

from __future__ import annotations

from ._bridge import RedisBridge as RedisBridge
from ._codec import SCHEMA_VERSION as SCHEMA_VERSION
from ._codec import Codec as Codec
from ._codec import DecodeError as DecodeError
from ._codec import make_converter as make_converter
from ._delivery import Delivery as Delivery
from ._delivery import current_delivery as current_delivery
from ._options import RedisOptions as RedisOptions
from ._registry import EventRegistry as EventRegistry
from ._stats import BridgeStats as BridgeStats

__all__ = [
    "SCHEMA_VERSION",
    "BridgeStats",
    "Codec",
    "DecodeError",
    "Delivery",
    "EventRegistry",
    "RedisBridge",
    "RedisOptions",
    "current_delivery",
    "make_converter",
]


def _fixup_module_metadata() -> None:
    # Tracebacks, reprs and docs say eventbus.bridges.redis.RedisBridge.
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith(f"{__name__}._"):
            obj.__module__ = __name__


_fixup_module_metadata()
del _fixup_module_metadata
