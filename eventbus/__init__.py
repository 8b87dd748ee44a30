"""trio-eventbus: an async event bus for trio, extended by plugins.

The public API is re-exported here; everything else lives in private modules.
"""

from __future__ import annotations

from ._bus import Bus as Bus
from ._config import BusConfig as BusConfig
from ._errors import BusClosed as BusClosed
from ._errors import ConfigError as ConfigError
from ._errors import EmitTimeout as EmitTimeout
from ._errors import EventBusError as EventBusError
from ._errors import HandlerTimeout as HandlerTimeout
from ._errors import ListenerError as ListenerError
from ._errors import OrderError as OrderError
from ._errors import PipeError as PipeError
from ._errors import PluginError as PluginError
from ._errors import Rejected as Rejected
from ._errors import WaitTimeout as WaitTimeout
from ._events import Event as Event
from ._events import wire_name as wire_name
from ._instruments import Instrument as Instrument
from ._lifecycle import PluginInfo as PluginInfo
from ._open import open_bus as open_bus
from ._plugins import Plugin as Plugin
from ._plugins import hook as hook
from ._plugins import listener as listener
from ._plugins import pipe as pipe
from ._stats import SubscriptionStats as SubscriptionStats
from ._stream import EventStream as EventStream
from ._subscription import Subscription as Subscription

__all__ = [
    "Bus",
    "BusClosed",
    "BusConfig",
    "ConfigError",
    "EmitTimeout",
    "Event",
    "EventBusError",
    "EventStream",
    "HandlerTimeout",
    "Instrument",
    "ListenerError",
    "OrderError",
    "PipeError",
    "Plugin",
    "PluginError",
    "PluginInfo",
    "Rejected",
    "Subscription",
    "SubscriptionStats",
    "WaitTimeout",
    "hook",
    "listener",
    "open_bus",
    "pipe",
    "wire_name",
]


def _fixup_module_metadata() -> None:
    # Tracebacks and docs say eventbus.HandlerTimeout, not eventbus._errors...
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("eventbus._"):
            obj.__module__ = __name__


_fixup_module_metadata()
del _fixup_module_metadata
