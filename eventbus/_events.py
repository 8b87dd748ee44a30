"""Events: the optional base class and wire names."""

from __future__ import annotations

import attrs

__all__ = ["Event", "wire_name"]


@attrs.frozen(slots=True)
class Event:
    """An empty frozen, slotted attrs base class for events.

    Any object can be emitted; inheriting from ``Event`` lets one subscription
    to ``Event`` receive every event of an application.
    """


def wire_name(event_type: type) -> str:
    """The name of an event type outside the process: config, CLI, bridges.

    ``__event_name__`` when the class sets it, else ``module.QualName``.
    """
    if not isinstance(event_type, type):
        raise TypeError(f"wire_name() takes an event class, got {event_type!r}")
    name = event_type.__dict__.get("__event_name__")
    if isinstance(name, str):
        return name
    return f"{event_type.__module__}.{event_type.__qualname__}"
