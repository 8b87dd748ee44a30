"""The strict cattrs converter behind configuration, and its error messages.

Configuration is structured with one cattrs converter
(``forbid_extra_keys=True``, detailed validation) made strict where cattrs is
lenient on purpose: a TOML ``"5"`` is not an int, ``"false"`` is not a bool and
``"abc"`` is not a list of three names, so a typo never slips through as a value.

When structuring fails, cattrs raises a tree of exception groups whose notes
carry the field names and indices. :func:`problems` walks that tree once and
returns one line per leaf, with its dotted path, what was expected and the bad
value (looked up in the input, since cattrs' exceptions do not keep it)::

    plugins.audit.retries: expected int, got 'x'
    pipe_timeot: unknown key; did you mean 'pipe_timeout'?
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import re
import reprlib
import types
import typing
from collections.abc import (
    Callable,
    Mapping,
    MutableMapping,
    MutableSequence,
    MutableSet,
    Sequence,
)
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from ._errors import ConfigError

if TYPE_CHECKING:
    import cattrs

# cattrs is imported on first use (importing it costs more than the rest of
# `import eventbus`): a bus opened without config or options never needs it.

#: Per class, field names that are not keys of its table (hidden from
#: "did you mean" suggestions). Filled in by the modules that define the classes.
HIDDEN_KEYS: dict[type, frozenset[str]] = {}


class Invalid(ValueError):
    """A value failed a check; ``problem`` is the message, without the path."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6
_repr.maxlevel = 2


def show(value: object) -> str:
    """A short repr of a bad value (a config may hold big tables)."""
    return _repr.repr(value)


def type_label(tp: Any) -> str:
    """``int``, ``str or None``, ``one of 'full', 'cancel'``, ``list[str]``."""
    if tp is type(None) or tp is None:
        return "None"
    if isinstance(tp, type) and not typing.get_args(tp):
        if attrs.has(tp) or dataclasses.is_dataclass(tp):
            return "a table"
        return tp.__qualname__
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_label(a) for a in args)
    return repr(tp).replace("typing.", "").replace("collections.abc.", "")


def mismatch(expected: str, value: object) -> Invalid:
    """``expected int, got 'x'``."""
    return Invalid(f"expected {expected}, got {show(value)}")


# --- strict hooks ------------------------------------------------------------------


def _structure_int(value: object, _: object) -> int:
    # bool is an int subclass; ``retries = true`` is a typo, not 1.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise mismatch("int", value)


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise mismatch("float", value)


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise mismatch("str", value)


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise mismatch("bool (true or false)", value)


def structure_literal(value: object, tp: Any) -> Any:
    """The choice of ``Literal[...]`` equal to ``value``, type included."""
    for choice in typing.get_args(tp):
        # ``1 == True`` in Python: compare the types too, a literal is exact.
        if value == choice and type(value) is type(choice):
            return choice
    raise mismatch(type_label(tp), value)


def _is_plain_literal(tp: Any) -> bool:
    return typing.get_origin(tp) is Literal and not any(
        isinstance(a, enum.Enum) for a in typing.get_args(tp)
    )


_SIMPLE: Final = (int, float, str, bool, type(None))


def _is_simple_union(tp: Any) -> bool:
    """``int | str``, ``float | None``, ``Literal["a"] | int``: cattrs has no hook for
    most of these; structure them by trying each member (all of them are exact)."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return False
    return all(a in _SIMPLE or _is_plain_literal(a) for a in typing.get_args(tp))


def _is_structured_class(tp: Any) -> bool:
    return isinstance(tp, type) and (attrs.has(tp) or dataclasses.is_dataclass(tp))


def note_index(exc: Exception, index: object, elem_type: Any) -> Exception:
    """Tag ``exc`` with its position, the way cattrs' own collection hooks do."""
    from cattrs.errors import IterableValidationNote

    exc.__notes__ = [
        *getattr(exc, "__notes__", []),
        IterableValidationNote(f"@ {index!r}", index, elem_type),  # type: ignore[arg-type]
    ]
    return exc


_COLLECTIONS: Final[Mapping[Any, Callable[[list[Any]], Any]]] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    MutableSequence: list,
    Sequence: tuple,
    MutableSet: set,
    AbstractSet: frozenset,
}


def _is_homogeneous_collection(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin not in _COLLECTIONS:
        return False
    args = typing.get_args(tp)
    if origin is tuple:
        # tuple[X, ...] only; fixed-shape tuples keep cattrs' own handling.
        return len(args) == 2 and args[1] is Ellipsis
    return len(args) == 1


def _is_mapping(tp: Any) -> bool:
    return typing.get_origin(tp) in (dict, Mapping, MutableMapping)


@functools.cache
def get_converter() -> cattrs.Converter:
    """The one strict converter (made on first use; cattrs caches its hooks)."""
    import cattrs
    from cattrs.errors import IterableValidationError
    from cattrs.gen import make_dict_structure_fn

    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook_factory(_is_plain_literal, lambda _tp: structure_literal)

    def _hook_for(tp: Any) -> Callable[[Any, Any], Any]:
        # Resolved now, so that a type cattrs cannot handle fails when the hook
        # is made, not as one bad value per element.
        try:
            return conv.get_structure_hook(tp)
        except RecursionError:  # a recursive type: bind late, as cattrs does
            return conv.structure

    def enum_factory(tp: Any) -> Callable[[object, Any], Any]:
        label = "one of " + ", ".join(repr(member.value) for member in tp)

        def structure(value: object, _: Any) -> Any:
            try:
                return tp(value)
            except ValueError:
                raise mismatch(label, value) from None

        return structure

    def union_factory(tp: Any) -> Callable[[object, Any], Any]:
        members = typing.get_args(tp)
        label = type_label(tp)

        def structure(value: object, _: Any) -> Any:
            if value is None and type(None) in members:
                return None
            for member in members:
                if member is type(None):
                    continue
                try:
                    return conv.structure(value, member)
                except Invalid:
                    continue
            raise mismatch(label, value)

        return structure

    def collection_factory(tp: Any) -> Callable[[object, Any], Any]:
        build = _COLLECTIONS[typing.get_origin(tp)]
        elem_type = typing.get_args(tp)[0]
        label = type_label(tp)
        hook = _hook_for(elem_type)

        def structure(value: object, _: Any) -> Any:
            # A str is iterable: without this check "abc" would become ('a', 'b', 'c').
            if not isinstance(value, list | tuple | set | frozenset):
                raise mismatch(f"a list ({label})", value)
            errors: list[Exception] = []
            items: list[Any] = []
            for index, item in enumerate(value):
                try:
                    items.append(hook(item, elem_type))
                except Exception as exc:  # every element's problem is reported
                    errors.append(note_index(exc, index, elem_type))
            if errors:
                raise IterableValidationError(f"While structuring {label}", errors, tp)
            return build(items)

        return structure

    def mapping_factory(tp: Any) -> Callable[[object, Any], Any]:
        args = typing.get_args(tp)
        key_type, value_type = args if len(args) == 2 else (Any, Any)
        key_hook, value_hook = _hook_for(key_type), _hook_for(value_type)

        def structure(value: object, _: Any) -> dict[Any, Any]:
            if not isinstance(value, Mapping):
                raise mismatch("a table", value)
            errors: list[Exception] = []
            result: dict[Any, Any] = {}
            for key, item in value.items():
                try:
                    new_key = key_hook(key, key_type)
                except Exception as exc:
                    problem = exc.problem if isinstance(exc, Invalid) else str(exc)
                    errors.append(note_index(Invalid(f"bad key: {problem}"), key, key_type))
                    continue
                try:
                    result[new_key] = value_hook(item, value_type)
                except Exception as exc:
                    errors.append(note_index(exc, key, value_type))
            if errors:
                raise IterableValidationError("While structuring a table", errors, tp)
            return result

        return structure

    def class_factory(cls: Any) -> Callable[[object, Any], Any]:
        return table_hook(cls, make_dict_structure_fn(cls, conv))

    conv.register_structure_hook_factory(
        lambda tp: isinstance(tp, type) and issubclass(tp, enum.Enum), enum_factory
    )
    conv.register_structure_hook_factory(_is_simple_union, union_factory)
    conv.register_structure_hook_factory(_is_homogeneous_collection, collection_factory)
    conv.register_structure_hook_factory(_is_mapping, mapping_factory)
    conv.register_structure_hook_factory(_is_structured_class, class_factory)
    return conv


def table_hook(cls: Any, generated: Callable[[Any, Any], Any]) -> Callable[[object, Any], Any]:
    """Wrap cattrs' generated hook for ``cls`` with a check that the input is a table."""

    def structure(value: object, _: Any) -> Any:
        # cattrs would fail on a non-mapping with an AttributeError about .keys().
        if not isinstance(value, Mapping):
            raise mismatch("a table", value)
        return generated(value, cls)

    return structure


@functools.cache
def structure_errors() -> tuple[type[Exception], ...]:
    """The exceptions :func:`problems` knows how to read."""
    from cattrs.errors import ClassValidationError, IterableValidationError

    return (ClassValidationError, IterableValidationError, ValueError)


# --- turning cattrs' exception groups into one line per problem --------------------

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_ABSENT: Final = object()


class _Index(int):
    """A position in a list, rendered ``[2]`` (a mapping key 2 renders ``2``)."""

    __slots__ = ()


def render_path(path: Sequence[object]) -> str:
    """TOML style: ``plugins.audit.retries``, ``disable[2]``, ``plugins."a b".x``."""
    out = ""
    for part in path:
        if isinstance(part, _Index):
            out += f"[{int(part)}]"
            continue
        text = part if isinstance(part, str) else repr(part)
        if not _BARE_KEY.fullmatch(text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out


def split_path(path: str | Sequence[object]) -> tuple[object, ...]:
    """``"plugins.audit"`` -> ``("plugins", "audit")``; a sequence is kept as is."""
    if isinstance(path, str):
        return tuple(p for p in path.split(".") if p)
    return tuple(path)


def _child(node: object, key: object) -> object:
    try:
        if isinstance(node, Mapping):
            return node[key]
        if isinstance(node, list | tuple) and isinstance(key, int):
            return node[key]
    except (KeyError, IndexError, TypeError):
        pass
    return _ABSENT


def _allowed_keys(cls: type) -> list[str]:
    if attrs.has(cls):
        names = [a.name for a in attrs.fields(cls)]
    elif dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
    else:  # pragma: no cover - only attrs classes and dataclasses are structured
        names = []
    hidden = HIDDEN_KEYS.get(cls, frozenset())
    return [n for n in names if n not in hidden]


def _unknown_key(key: object, allowed: list[str]) -> str:
    if isinstance(key, str):
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            return f"unknown key; did you mean {close[0]!r}?"
    if allowed:
        return f"unknown key (valid keys: {', '.join(sorted(allowed))})"
    return "unknown key (this table takes no keys)"


def _describe(exc: BaseException, expected: Any, value: object) -> str:
    """One leaf problem, without its path."""
    if isinstance(exc, Invalid):
        return exc.problem
    if isinstance(exc, KeyError) and value is _ABSENT:
        return "required key missing"
    detail = str(exc)
    if expected is not None:
        text = f"expected {type_label(expected)}"
        if value is not _ABSENT:
            text += f", got {show(value)}"
        return f"{text} ({type(exc).__name__}: {detail})" if detail else text
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


Found = list[tuple[tuple[object, ...], str]]


def _collect(
    exc: BaseException, path: tuple[object, ...], node: object, expected: Any, out: Found
) -> None:
    """Walk a cattrs exception tree, appending ``(path, problem)`` for every leaf."""
    from cattrs.errors import (
        ClassValidationError,
        ForbiddenExtraKeysError,
        IterableValidationError,
    )

    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            _collect(sub, (*path, note.name), _child(node, note.name), note.type, out)
        for sub in without:
            if isinstance(sub, ForbiddenExtraKeysError):
                allowed = _allowed_keys(sub.cl)
                for key in sorted(sub.extra_fields, key=repr):
                    out.append(((*path, key), _unknown_key(key, allowed)))
            else:
                # Raised by the class itself: an attrs validator, __attrs_post_init__.
                _collect_init_error(sub, path, out)
    elif isinstance(exc, IterableValidationError):
        with_inotes, without_inotes = exc.group_exceptions()
        for sub, inote in with_inotes:
            step = inote.index if isinstance(node, Mapping) else _Index(inote.index)
            _collect(sub, (*path, step), _child(node, inote.index), inote.type, out)
        for sub in without_inotes:
            _collect(sub, path, node, None, out)
    else:
        out.append((path, _describe(exc, expected, node)))


def _collect_init_error(exc: BaseException, path: tuple[object, ...], out: Found) -> None:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    # attrs.validators.instance_of raises TypeError(msg, attribute, type, value).
    if isinstance(exc, TypeError) and len(args) == 4 and isinstance(args[1], attrs.Attribute):
        expected = args[2]
        label = (
            " or ".join(type_label(t) for t in expected)
            if isinstance(expected, tuple)
            else type_label(expected)
        )
        out.append(((*path, args[1].name), f"expected {label}, got {show(args[3])}"))
    elif isinstance(exc, ConfigError):
        out.extend((path, problem) for problem in exc.problems)
    elif isinstance(exc, ValueError | TypeError) and str(exc):
        out.append((path, str(exc)))
    else:
        out.append((path, _describe(exc, None, _ABSENT)))


def problems(exc: BaseException, data: object, prefix: Sequence[object] = ()) -> list[str]:
    """One ``path: problem`` line per leaf of a structuring failure.

    Args:
        exc: What the converter raised.
        data: The input it was structuring (bad values are looked up in it).
        prefix: The path of ``data`` itself, e.g. ``("plugins", "audit")``.
    """
    found: Found = []
    _collect(exc, tuple(prefix), data, None, found)
    lines = []
    for path, problem in found:
        where = render_path(path)
        lines.append(f"{where}: {problem}" if where else problem)
    return lines
