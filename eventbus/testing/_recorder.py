"""``Recorder``: what a bus delivered, in order, and assertions with readable diffs.

A recorder subscribes one plain-function listener per type with the lowest
``order``: the bus calls plain listeners inline, in the emitting task, so
events are recorded in the order of the emits that delivered them, and by
the time ``await bus.emit(...)`` returns its event is in ``recorder.events``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

import attrs

if TYPE_CHECKING:
    import eventbus

__all__ = ["Recorder"]

E = TypeVar("E")

#: Before any other listener, so that what they emit comes after.
_FIRST: Final = -(2**62)
#: The most seen events an assertion message lists.
_SHOWN: Final = 30


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _describe(expected: object) -> str:
    if isinstance(expected, type):
        return f"any {expected.__qualname__}"
    return repr(expected)


def _matches(expected: object, event: object) -> bool:
    if isinstance(expected, type):
        return isinstance(event, expected)
    try:
        return bool(expected == event)
    except Exception:
        return False


def _differences(expected: object, event: object) -> list[str]:
    """The fields in which two events of one attrs class differ."""
    cls = type(event)
    if type(expected) is not cls or not attrs.has(cls):
        return []
    return [
        f"{f.name}: expected {getattr(expected, f.name)!r}, seen {getattr(event, f.name)!r}"
        for f in attrs.fields(cls)
        if getattr(expected, f.name) != getattr(event, f.name)
    ]


@final
class Recorder:
    """Records the events a bus delivers, for assertions.

    ``recorder.subscribe(T)`` starts recording ``T`` events (and its
    subclasses'), as listeners receive them: after the pipes, so a rejected
    event is not recorded.

    Attributes:
        bus: The bus (or scope) it records from.
        events: Every event seen, in order.
    """

    __slots__ = ("_subscriptions", "bus", "events")

    def __init__(self, bus: eventbus.Bus) -> None:
        self.bus = bus
        self.events: list[object] = []
        self._subscriptions: dict[type, eventbus.Subscription[Any]] = {}

    def subscribe(self, *event_types: type) -> None:
        """Record events of these types (and their subclasses) from now on.

        A type already covered by a recorded base class adds nothing, so no
        event is recorded twice.
        """
        for event_type in event_types:
            if not isinstance(event_type, type):
                raise TypeError(f"recorder.subscribe() takes event classes, got {event_type!r}")
            if any(issubclass(event_type, t) for t in self._subscriptions):
                continue
            for covered in [t for t in self._subscriptions if issubclass(t, event_type)]:
                self._subscriptions.pop(covered).cancel()
            self._subscriptions[event_type] = self.bus.subscribe(
                event_type, self._record, kind="listener", order=_FIRST
            )

    def stop(self) -> None:
        """Stop recording (what was recorded stays)."""
        for sub in self._subscriptions.values():
            sub.cancel()
        self._subscriptions.clear()

    def clear(self) -> None:
        """Forget what was recorded so far; keep recording."""
        self.events.clear()

    def _record(self, event: object) -> None:
        self.events.append(event)

    def of(self, event_type: type[E]) -> list[E]:
        """The recorded events that are instances of ``event_type``, in order."""
        return [e for e in self.events if isinstance(e, event_type)]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[object]:
        return iter(self.events)

    def __repr__(self) -> str:
        types = ", ".join(t.__qualname__ for t in self._subscriptions) or "nothing"
        return f"<Recorder of {types}: {_count(len(self.events), 'event')}>"

    # -- assertions ---------------------------------------------------------------

    def assert_seen(self, *expected: object) -> None:
        """Assert that every expected event was seen, in any order.

        Each expected item is an event (compared with ``==``) or a class
        (any instance matches); an event seen once matches one item only.

        Raises:
            AssertionError: Listing what was expected, what matched where, the
                nearest seen event for each miss (with the fields that
                differ) and everything seen.
        """
        used: set[int] = set()
        found: list[int | None] = []
        for item in expected:
            index = next(
                (i for i, e in enumerate(self.events) if i not in used and _matches(item, e)),
                None,
            )
            if index is not None:
                used.add(index)
            found.append(index)
        self._check("assert_seen", expected, found, in_order=False)

    def assert_seen_in_order(self, *expected: object) -> None:
        """Assert that the expected events were seen in this order (others may come between).

        Items are matched as by :meth:`assert_seen`.

        Raises:
            AssertionError: As :meth:`assert_seen`.
        """
        position = 0
        found: list[int | None] = []
        for item in expected:
            index = next(
                (i for i in range(position, len(self.events)) if _matches(item, self.events[i])),
                None,
            )
            if index is not None:
                position = index + 1
            found.append(index)
        self._check("assert_seen_in_order", expected, found, in_order=True)

    def _check(
        self, what: str, expected: tuple[object, ...], found: list[int | None], *, in_order: bool
    ) -> None:
        missing = sum(1 for index in found if index is None)
        if not missing:
            return
        how = " in this order" if in_order else ""
        lines = [
            (
                f"recorder.{what}: {missing} of {_count(len(expected), 'expected event')} "
                f"{'was' if missing == 1 else 'were'} not seen{how}"
            ),
            "expected:",
        ]
        after = -1
        for item, index in zip(expected, found, strict=True):
            if index is not None:
                lines.append(f"  [{index}] {_describe(item)}")
                after = index
                continue
            lines.append(
                f"  MISSING {_describe(item)}"
                + (f" (after [{after}])" if in_order and after >= 0 else "")
            )
            lines.extend(f"      {hint}" for hint in self._nearest(item))
        lines.append(f"seen ({_count(len(self.events), 'event')}; recording {self._recording()}):")
        if not self.events:
            lines.append(
                "  nothing"
                + ("" if self._subscriptions else ": call recorder.subscribe(EventType) first")
            )
        for index, event in enumerate(self.events[:_SHOWN]):
            lines.append(f"  [{index}] {event!r}")
        if len(self.events) > _SHOWN:
            lines.append(f"  ... and {len(self.events) - _SHOWN} more")
        raise AssertionError("\n".join(lines))

    def _recording(self) -> str:
        return ", ".join(t.__qualname__ for t in self._subscriptions) or "no type"

    def _nearest(self, item: object) -> list[str]:
        """The seen event of the same class closest to ``item``, and how it differs."""
        if isinstance(item, type):
            if not any(issubclass(item, t) or issubclass(t, item) for t in self._subscriptions):
                return [f"(the recorder does not record {item.__qualname__}: subscribe to it)"]
            return []
        candidates = [(i, e) for i, e in enumerate(self.events) if type(e) is type(item)]
        if not candidates:
            if not any(isinstance(item, t) for t in self._subscriptions):
                return [
                    f"(the recorder does not record {type(item).__qualname__}: subscribe to it)"
                ]
            return [f"(no {type(item).__qualname__} was seen)"]
        index, nearest = min(candidates, key=lambda c: len(_differences(item, c[1])))
        differences = _differences(item, nearest)
        if not differences:
            return [f"nearest: [{index}] {nearest!r}"]
        return [f"nearest: [{index}] {nearest!r}", *(f"  {d}" for d in differences)]
