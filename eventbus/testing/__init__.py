"""eventbus.testing: the testing kit for plugin authors.

- :func:`plugin_harness`: run one plugin (lifespan and requirements
  included) on a private bus; emit to it, see what it emitted.
- The pytest plugin (entry point ``pytest11`` ``eventbus``): fixtures
  ``bus``, ``recorder`` and ``eventbus_config``; see :class:`Recorder`.
- :func:`events` and :func:`event_streams`: hypothesis strategies that build
  attrs events from their field types.
- :func:`check_plugin`: property-based contract checks for a plugin, from
  any sync test.

Install with the ``testing`` extra (``pip install trio-eventbus[testing]``),
which brings hypothesis, pytest and pytest-trio.

The hypothesis-based names are imported on first use: pytest imports this
package at start-up (through the plugin), and a test session that does not
use them should not pay for importing hypothesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from ._harness import PluginHarness as PluginHarness
from ._harness import plugin_harness as plugin_harness
from ._recorder import Recorder as Recorder

if TYPE_CHECKING:
    from ._check import CLAUSES as CLAUSES
    from ._check import check_plugin as check_plugin
    from ._strategies import event_streams as event_streams
    from ._strategies import events as events

__all__ = [
    "CLAUSES",
    "PluginHarness",
    "Recorder",
    "check_plugin",
    "event_streams",
    "events",
    "plugin_harness",
]

#: Public name -> private module, imported on first access.
_LAZY: Final = {
    "CLAUSES": "._check",
    "check_plugin": "._check",
    "event_streams": "._strategies",
    "events": "._strategies",
}


def _fixup(obj: Any) -> Any:
    # Tracebacks and docs say eventbus.testing.Recorder, not eventbus.testing._recorder...
    if getattr(obj, "__module__", "").startswith(f"{__name__}._"):
        obj.__module__ = __name__
    return obj


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _fixup(getattr(importlib.import_module(module, __name__), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in ("PluginHarness", "Recorder", "plugin_harness"):
    _fixup(globals()[_name])
del _name
