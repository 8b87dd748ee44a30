"""Hypothesis strategies for events: ``events(T)`` and ``event_streams(*types)``.

``events(T)`` reads the attrs fields of ``T`` and their annotations, and
builds a strategy for each field once, when it is called: a field whose type
it cannot build is a ``TypeError`` at that line, naming the field (with its
dotted path through nested classes) and the fix, never a surprise in the
middle of a test run.

Supported field types: ``bool``, ``int``, ``float`` (no NaN: an event equal
to itself is what the mutation check compares), ``str``, ``bytes``,
``Decimal``, ``Fraction``, ``UUID``, ``datetime``, ``date``, ``time``,
``timedelta``, ``None``, enums, ``Literal[...]``, unions and ``Optional``,
``list``, ``tuple`` (``tuple[X, ...]`` and fixed ``tuple[X, Y]``), ``set``,
``frozenset``, ``dict`` and their ``collections.abc`` counterparts,
``Annotated`` and ``NewType`` (their base type), and nested attrs classes,
recursive ones included (three levels deep at most). A field with a default
sometimes keeps it (tried first, so shrinking goes there); a field with a
default whose type is not supported always keeps it. Values that a field's
attrs validator rejects are filtered out; ``in_(...)`` and the number bounds
(``ge``, ``gt``, ``le``, ``lt``) are met by construction.
"""

from __future__ import annotations

import collections.abc
import datetime
import decimal
import enum
import fractions
import math
import sys
import types
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeVar

import attrs
from hypothesis import reject
from hypothesis import strategies as st

__all__ = ["event_streams", "events"]

T = TypeVar("T")

#: Collections stay small: events are values, and failures shrink anyway.
_MAX_ITEMS: Final = 8

#: How deep a recursive class nests (a tree of Nodes: three levels).
_MAX_DEPTH: Final = 3

#: Nothing can be drawn (a recursion too deep); a collection of it is empty.
_NOTHING: Final = st.nothing()

#: Stands for "leave this argument out": attrs then applies the default.
_OMIT: Final = object()

_SCALARS: Final[Mapping[object, Callable[[], st.SearchStrategy[Any]]]] = {
    bool: st.booleans,
    int: st.integers,
    float: lambda: st.floats(allow_nan=False),
    str: st.text,
    bytes: st.binary,
    decimal.Decimal: lambda: st.decimals(allow_nan=False, allow_infinity=False),
    fractions.Fraction: st.fractions,
    uuid.UUID: st.uuids,
    datetime.datetime: st.datetimes,
    datetime.date: st.dates,
    datetime.time: st.times,
    datetime.timedelta: st.timedeltas,
}

_LISTS: Final = (list, collections.abc.MutableSequence)
_TUPLES: Final = (tuple, collections.abc.Sequence)
_SETS: Final = (set, collections.abc.MutableSet)
_FROZENSETS: Final = (frozenset, collections.abc.Set)
_DICTS: Final = (dict, collections.abc.Mapping, collections.abc.MutableMapping)
#: Origins and the collection built for them; an abstract Sequence is a tuple.
_COLLECTIONS: Final = ((_LISTS, list), (_TUPLES, tuple), (_SETS, set), (_FROZENSETS, frozenset))


def collection_of(collection: type, item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A small ``collection`` (list, tuple, set or frozenset) of ``item`` values."""
    if collection is set:
        return st.sets(item, max_size=_MAX_ITEMS)
    if collection is frozenset:
        return st.frozensets(item, max_size=_MAX_ITEMS)
    items = st.lists(item, max_size=_MAX_ITEMS)
    return items if collection is list else items.map(collection)


class _Unsupported(TypeError):
    """A type that events() cannot build; the caller names the field."""


def _type_name(tp: object) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


def _field_types(cls: type) -> dict[str, object]:
    """The annotations of ``cls``'s fields, resolved; an unresolvable one is an exception."""
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception:
        pass
    # One name did not resolve (a class defined in a function, say): resolve the
    # fields one by one, so that only the fields that need it are in error.
    module = sys.modules.get(cls.__module__)
    namespace = dict(vars(module)) if module is not None else {}
    resolved: dict[str, object] = {}
    for field in attrs.fields(cls):
        annotation = field.type
        if isinstance(annotation, str):
            try:
                annotation = eval(
                    annotation, namespace, {cls.__name__: cls}
                )  # as typing.get_type_hints does
            except Exception as exc:
                resolved[field.name] = _Unsupported(
                    f"its annotation {field.type!r} does not resolve ({type(exc).__name__}: "
                    f"{exc}); define the class it names at module level"
                )
                continue
        resolved[field.name] = annotation
    return resolved


class _Builder:
    """Builds the strategy of one ``events(T)`` call; remembers classes under way."""

    def __init__(self, root: type) -> None:
        self.root = root
        # Per class: how many of its instances are being built, one inside another.
        self.building: dict[type, int] = {}

    def fail(self, path: str, tp: object, why: str) -> TypeError:
        return TypeError(
            f"events({self.root.__qualname__}): cannot build field {path!r} "
            f"(type {_type_name(tp)}): {why}; pass {path.split('.')[0]}=<a hypothesis "
            f"strategy> to events() to say how"
            + ("" if "." not in path else f" (or give {path.rsplit('.', 1)[0]!r} one)")
        )

    def for_class(
        self, cls: type, path: str, overrides: Mapping[str, st.SearchStrategy[Any]]
    ) -> st.SearchStrategy[Any]:
        depth = self.building.get(cls, 0)
        if depth >= _MAX_DEPTH:
            # A recursive class, this deep already: no more levels. An Optional
            # around the reference gives None, a collection an empty one.
            return _NOTHING
        self.building[cls] = depth + 1
        try:
            fields = [f for f in attrs.fields(cls) if f.init]
            hints = _field_types(cls) if len(overrides) < len(fields) else {}
            parts: dict[str, st.SearchStrategy[Any]] = {}
            for field in fields:
                alias = field.alias or field.name.lstrip("_")
                where = f"{path}.{field.name}" if path else field.name
                if field.name in overrides:
                    parts[alias] = overrides[field.name]
                    continue
                has_default = field.default is not attrs.NOTHING
                try:
                    tp = hints.get(field.name, field.type)
                    if isinstance(tp, _Unsupported):
                        raise tp
                    strategy = self.for_type(tp, where)
                except _Unsupported as exc:
                    if has_default:
                        parts[alias] = st.just(_OMIT)
                        continue
                    raise self.fail(where, hints.get(field.name, field.type), str(exc)) from None
                if field.validator is not None:
                    narrowed = _narrowed(field, tp)
                    if narrowed is not None:
                        strategy = narrowed
                    strategy = strategy.filter(_passes(field))
                if has_default:
                    # The default first: shrinking goes there.
                    strategy = st.one_of(st.just(_OMIT), strategy)
                parts[alias] = strategy
        finally:
            self.building[cls] = depth
        return st.fixed_dictionaries(parts).map(_Construct(cls))

    def for_type(self, tp: object, where: str) -> st.SearchStrategy[Any]:
        if isinstance(tp, typing.NewType):
            return self.for_type(tp.__supertype__, where)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            return self.for_type(args[0], where)
        if tp is None or tp is type(None):
            return st.none()
        if tp is typing.Any or tp is object:
            raise _Unsupported("any value at all cannot be generated")
        if origin is typing.Literal:
            return st.sampled_from(args)
        if origin is typing.Union or origin is types.UnionType:
            # None first, so that Optional fields shrink to None.
            ordered = sorted(args, key=lambda a: a is not type(None))
            return st.one_of(*(self.for_type(a, where) for a in ordered))
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            members = list(tp)
            if not members:
                raise _Unsupported("the enum has no members")
            return st.sampled_from(members)
        if tp in _SCALARS:
            return _SCALARS[tp]()
        if isinstance(tp, type) and attrs.has(tp):
            return self.for_class(tp, where, {})
        if origin is None and tp in (*_LISTS, *_TUPLES, *_SETS, *_FROZENSETS, *_DICTS):
            raise _Unsupported(f"say what it holds, e.g. {_type_name(tp)}[int]")
        if origin in _DICTS:
            keys, values = (self.for_type(a, f"{where}[key]") for a in args)
            if keys is _NOTHING or values is _NOTHING:
                return st.builds(dict)
            return st.dictionaries(keys, values, max_size=_MAX_ITEMS)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if args == ((),):  # tuple[()]
                return st.just(())
            return st.tuples(*(self.for_type(a, f"{where}[{i}]") for i, a in enumerate(args)))
        for origins, collection in _COLLECTIONS:
            if origin in origins:
                item = self.for_type(args[0], f"{where}[item]")
                if item is _NOTHING:
                    return st.builds(collection)
                return collection_of(collection, item)
        if isinstance(tp, type):
            raise _Unsupported(
                "it is neither an attrs class nor a type events() knows "
                "(numbers, str, bytes, dates and times, enums, Literal, unions, "
                "collections)"
            )
        raise _Unsupported("events() does not know this kind of annotation")


_IN: Final[type] = type(attrs.validators.in_(()))
_NUMBER: Final[type] = type(attrs.validators.ge(0))


def _each_validator(validator: object) -> Iterator[object]:
    # and_(...) and a list of validators hold their members in `_validators`.
    members = getattr(validator, "_validators", None)
    if isinstance(members, tuple):
        for member in members:
            yield from _each_validator(member)
    else:
        yield validator


def _narrowed(field: attrs.Attribute[Any], tp: object) -> st.SearchStrategy[Any] | None:
    """A strategy that meets the common validators by construction, not by luck.

    ``in_(options)`` draws from the options; ``ge``/``gt``/``le``/``lt`` bound
    the numbers of an ``int`` or ``float`` field. The field's filter still
    checks every value.
    """
    validators = list(_each_validator(field.validator))
    for validator in validators:
        options = getattr(validator, "options", None) if type(validator) is _IN else None
        if isinstance(options, list | tuple) and options:
            return st.sampled_from(options)
        if isinstance(options, set | frozenset | dict) and options:
            return st.sampled_from(sorted(options, key=repr))
    if tp is not int and tp is not float:
        return None
    low: float | None = None
    high: float | None = None
    for validator in validators:
        bound = getattr(validator, "bound", None)
        op = getattr(validator, "compare_op", None)
        if type(validator) is not _NUMBER or not isinstance(bound, int | float):
            continue
        if tp is int:
            bound = math.ceil(bound) if op in (">=", ">") else math.floor(bound)
        if op in (">=", ">"):
            low = bound if low is None else max(low, bound)
        elif op in ("<=", "<"):
            high = bound if high is None else min(high, bound)
    if low is None and high is None:
        return None
    if tp is int:
        return st.integers(None if low is None else int(low), None if high is None else int(high))
    return st.floats(low, high, allow_nan=False)


def _passes(field: attrs.Attribute[Any]) -> Callable[[object], bool]:
    validator = field.validator
    assert validator is not None

    def passes(value: object) -> bool:
        if value is _OMIT:
            return True
        try:
            validator(None, field, value)
        except (ValueError, TypeError):
            return False
        except Exception:
            # A validator that needs the instance: the constructor decides.
            return True
        return True

    return passes


class _Construct:
    """Call the class with the drawn arguments, leaving out the defaults."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __call__(self, kwargs: dict[str, Any]) -> Any:
        try:
            return self.cls(**{k: v for k, v in kwargs.items() if v is not _OMIT})
        except (ValueError, TypeError):
            # A validator spanning several fields said no: draw again.
            reject()

    def __repr__(self) -> str:
        return self.cls.__qualname__


def events(event_type: type[T], /, **overrides: object) -> st.SearchStrategy[T]:
    """A hypothesis strategy for instances of the attrs class ``event_type``.

    Each field is drawn from a strategy built from its annotation (see the
    module docstring for the supported types); nested attrs classes are
    built the same way.

    Args:
        event_type: An attrs class (``@attrs.frozen``, usually an
            ``eventbus.Event`` subclass).
        **overrides: Per field (by attribute name): a hypothesis strategy for
            its values, or a plain value to use as is.

    Returns:
        The strategy.

    Raises:
        TypeError: ``event_type`` is not an attrs class, an override names no
            field, or a field without a default has a type that cannot be
            built (the message names the field and says what to pass).
    """
    if not attrs.has(event_type):  # False for anything that is not a class, too
        raise TypeError(
            f"events() builds attrs classes (@attrs.frozen, e.g. eventbus.Event "
            f"subclasses), got {event_type!r}; for other types use "
            f"hypothesis.strategies.builds() or from_type()"
        )
    names = [f.name for f in attrs.fields(event_type) if f.init]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise TypeError(
            f"events({event_type.__qualname__}): no field named "
            f"{', '.join(repr(u) for u in unknown)}; its fields are "
            f"{', '.join(names) or '(none)'}"
        )
    strategies = {
        name: value if isinstance(value, st.SearchStrategy) else st.just(value)
        for name, value in overrides.items()
    }
    built: st.SearchStrategy[T] = _Builder(event_type).for_class(event_type, "", strategies)
    return built


def event_streams(
    *types: type | st.SearchStrategy[Any], min_size: int = 0, max_size: int = 20
) -> st.SearchStrategy[list[Any]]:
    """A strategy for lists of events of the given types, mixed, in any order.

    Args:
        *types: attrs event classes (built with :func:`events`) or strategies.
        min_size: The fewest events in a list.
        max_size: The most events in a list.

    Raises:
        TypeError: No type was given, or :func:`events` cannot build one.
    """
    if not types:
        raise TypeError("event_streams() needs at least one event type or strategy")
    each = [t if isinstance(t, st.SearchStrategy) else events(t) for t in types]
    return st.lists(st.one_of(*each), min_size=min_size, max_size=max_size)
