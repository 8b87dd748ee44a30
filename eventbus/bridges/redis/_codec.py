"""``Codec``: events to stream entries and back, by wire name, with cattrs and JSON.

An entry is a flat map of four fields::

    v       the envelope's schema version ("1")
    name    the event's wire name (eventbus.wire_name)
    origin  the id of the bridge that forwarded it (no echo back to it)
    data    the event, unstructured by cattrs, as JSON

Decoding is two steps so that the reader can skip an entry (its own, or of a
type it does not receive) without structuring it: :meth:`Codec.header`, then
:meth:`Codec.event`. Every problem is a :class:`DecodeError` whose ``reason``
goes to the dead-letter stream.

The converter is ``cattrs.preconf.json``'s (datetimes as ISO 8601, bytes as
base85, sets and tuples as lists, enums by value) plus ``UUID`` and
``Decimal`` as strings; it ignores unknown keys, so that a consumer still
decodes events from a producer that added a field (with a default) to the
class. Pass your own ``cattrs.Converter`` for other types.
"""

from __future__ import annotations

import decimal
import json
import json.encoder
import json.scanner
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple, final

import eventbus

from ._registry import EventRegistry

if TYPE_CHECKING:
    import cattrs

__all__ = ["SCHEMA_VERSION", "Codec", "DecodeError", "Header"]

#: The envelope version written in every entry's ``v`` field.
SCHEMA_VERSION: Final = 1

F_VERSION: Final = b"v"
F_NAME: Final = b"name"
F_ORIGIN: Final = b"origin"
F_DATA: Final = b"data"

#: ``v`` as the reader gets it from Redis.
VERSION_BYTES: Final = str(SCHEMA_VERSION).encode()


class DecodeError(ValueError):
    """An entry that cannot become an event; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __reduce__(self) -> Any:
        return (type(self), (self.reason,))


class Header(NamedTuple):
    """What an entry says about itself, before its event is structured."""

    version: int
    name: str
    origin: str


def make_converter() -> cattrs.Converter:
    """The default converter: ``cattrs.preconf.json`` plus UUID and Decimal."""
    from cattrs.preconf.json import make_converter as json_converter

    converter = json_converter()
    for cls in (uuid.UUID, decimal.Decimal):
        converter.register_unstructure_hook(cls, str)
        converter.register_structure_hook(cls, lambda value, tp: tp(value))
    converter.register_structure_hook_factory(_is_homogeneous_tuple, _homogeneous_tuple)
    return converter


def _is_homogeneous_tuple(tp: Any) -> bool:
    """``tuple[X, ...]`` for a class ``X`` (the immutable sequence of frozen events)."""
    if typing.get_origin(tp) is not tuple:
        return False
    args: tuple[Any, ...] = typing.get_args(tp)
    return (
        len(args) == 2 and args[1] is Ellipsis and args[0] is not Any and isinstance(args[0], type)
    )


def _homogeneous_tuple(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Structure ``tuple[X, ...]`` with ``X``'s hook looked up once.

    cattrs' own tuple hook looks it up on every call, and tracks indexes for
    its error messages on every element: about half the cost of structuring
    a small event with such a field. The same errors are raised here, when
    there is one to report.
    """
    from cattrs.errors import IterableValidationError, IterableValidationNote

    item = tp.__args__[0]
    structure = converter.get_structure_hook(item)
    detailed = converter.detailed_validation

    def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
        try:
            return tuple([structure(element, item) for element in value])
        except Exception as exc:
            if not detailed:
                raise
            failure = exc
        errors = []
        for index, element in enumerate(value):
            try:
                structure(element, item)
            except Exception as exc:
                note = IterableValidationNote(f"Structuring {tp} @ index {index}", index, item)
                exc.__notes__ = [*getattr(exc, "__notes__", []), note]
                errors.append(exc)
        if not errors:  # pragma: no cover - an element that failed only the first time
            raise failure
        raise IterableValidationError(f"While structuring {tp!r}", errors, tp)

    return structure_tuple


def _no_default(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_functions() -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    """``(dumps, loads)``: compact JSON, UTF-8 kept as is.

    CPython's C encoder and scanner, made once, cost about half of what
    ``json.dumps`` / ``json.loads`` spend setting them up on every call; that
    is a few microseconds per event on each side of the bridge. Anything the
    fast scanner does not take whole (leading or trailing whitespace, an
    error) goes through ``json.loads``, which parses or raises as usual.
    """
    # Not in typeshed: the C accelerators, None when they are unavailable.
    c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
    c_make_scanner: Any = getattr(json.scanner, "c_make_scanner", None)
    encode_basestring: Any = json.encoder.encode_basestring
    if c_make_encoder is None or c_make_scanner is None:  # pragma: no cover - not CPython
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        return encoder, json.loads
    make_chunks = c_make_encoder(
        None, _no_default, encode_basestring, None, ":", ",", False, False, True
    )
    scan = c_make_scanner(json.JSONDecoder())
    slow_loads = json.loads

    def dumps(value: Any) -> str:
        return "".join(make_chunks(value, 0))

    def loads(text: str) -> Any:
        try:
            value, end = scan(text, 0)
        except StopIteration:
            return slow_loads(text)
        if end != len(text):
            return slow_loads(text)
        return value

    return dumps, loads


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise TypeError(f"expected text, got {type(value).__name__}")


def _describe(exc: BaseException) -> str:
    """One line per structuring problem (cattrs' error groups flattened)."""
    from cattrs import transform_error
    from cattrs.errors import BaseValidationError

    if isinstance(exc, BaseValidationError):
        return "; ".join(transform_error(exc))
    return f"{type(exc).__name__}: {exc}"


@final
class Codec:
    """Encodes events to stream entries and decodes them back.

    Args:
        registry: Where wire names are looked up (default: an empty registry,
            which still finds every imported ``eventbus.Event`` subclass).
        converter: The cattrs converter (default: :func:`make_converter`).
    """

    __slots__ = ("_converter", "_decoders", "_dumps", "_encoders", "_loads", "registry")

    def __init__(
        self,
        registry: EventRegistry | None = None,
        converter: cattrs.Converter | None = None,
    ) -> None:
        self.registry = registry if registry is not None else EventRegistry()
        self._converter = converter if converter is not None else make_converter()
        # Per class, looked up once (cattrs' dispatch costs about as much as
        # the generated hook itself): the wire name and the unstructure hook,
        # and the decoder (JSON, then the structure hook).
        self._encoders: dict[type, tuple[bytes, Callable[[Any], Any]]] = {}
        self._decoders: dict[type, Callable[[Mapping[Any, Any]], Any]] = {}
        self._dumps, self._loads = _json_functions()

    @property
    def converter(self) -> cattrs.Converter:
        """The cattrs converter in use."""
        return self._converter

    # -- events <-> plain data ---------------------------------------------------------

    def unstructure(self, event: object) -> Any:
        """The event as JSON-ready data (dicts, lists, str, numbers, bools, None)."""
        return self._converter.unstructure(event)

    def structure(self, data: Any, cls: type[Any]) -> Any:
        """An instance of ``cls`` from :meth:`unstructure`'s output."""
        return self._converter.structure(data, cls)

    # -- events <-> entries --------------------------------------------------------------

    def encode(self, event: object, origin: bytes) -> dict[bytes, bytes]:
        """The stream entry's fields for ``event``.

        Raises:
            Exception: Whatever the converter or ``json`` raise for an event
                they cannot represent.
        """
        return self.encoder(type(event), origin)(event)

    def encoder(self, cls: type, origin: bytes) -> Callable[[Any], dict[bytes, bytes]]:
        """The function that makes the entry's fields for an event of class ``cls``.

        What it looks up per class (the wire name, the unstructure hook) is
        looked up once, and ``origin`` is bound: the forwarder keeps one per
        class and calls it for every event. It raises what :meth:`encode`
        raises.
        """
        name, unstructure = self._encoding(cls)
        dumps = self._dumps

        def encode(event: Any) -> dict[bytes, bytes]:
            data = dumps(unstructure(event)).encode()
            return {F_VERSION: VERSION_BYTES, F_NAME: name, F_ORIGIN: origin, F_DATA: data}

        return encode

    def _encoding(self, cls: type) -> tuple[bytes, Callable[[Any], Any]]:
        """The wire name (bytes) and the unstructure hook of ``cls``, made once."""
        found = self._encoders.get(cls)
        if found is None:
            name = eventbus.wire_name(cls).encode()
            found = self._encoders[cls] = (name, self._converter.get_unstructure_hook(cls))
        return found

    def header(self, fields: Mapping[Any, Any]) -> Header:
        """Read the envelope of an entry.

        Raises:
            DecodeError: A field is missing, or the version is not one this
                codec reads.
        """
        try:
            version = fields[F_VERSION]
            name = fields[F_NAME]
            origin = fields[F_ORIGIN]
        except KeyError as exc:
            missing = exc.args[0].decode() if isinstance(exc.args[0], bytes) else exc.args[0]
            present = ", ".join(sorted(_safe_text(k) for k in fields)) or "none"
            raise DecodeError(
                f"not an eventbus entry: field {missing!r} is missing (fields: {present})"
            ) from None
        if version == VERSION_BYTES and type(name) is bytes and type(origin) is bytes:
            try:
                return Header(SCHEMA_VERSION, name.decode(), origin.decode())
            except UnicodeDecodeError as exc:
                raise DecodeError(f"malformed envelope: {exc}") from None
        try:
            number = int(_text(version))
            header = Header(number, _text(name), _text(origin))
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"malformed envelope: {exc}") from None
        if number != SCHEMA_VERSION:
            raise DecodeError(
                f"schema version {number} is not supported (this bridge reads version "
                f"{SCHEMA_VERSION}); upgrade trio-eventbus on this consumer"
            )
        return header

    def event(self, name: str, fields: Mapping[Any, Any]) -> object:
        """Structure the event of an entry whose header named ``name``.

        Raises:
            DecodeError: The name is unknown, the data is not JSON, or it does
                not structure into the class.
        """
        cls = self.registry.get(name)
        if cls is None:
            raise DecodeError(
                f"unknown event name {name!r}: no class with this wire name is imported "
                f"here; list its module in the bridge's 'imports' option"
            )
        return self.decoder(cls)(fields)

    def decoder(self, cls: type) -> Callable[[Mapping[Any, Any]], Any]:
        """The function that structures the ``data`` of an entry into ``cls``.

        Made once per class: the reader calls it for every entry of that
        class, without looking anything up again. It raises
        :class:`DecodeError` as :meth:`event` does.
        """
        try:
            return self._decoders[cls]
        except KeyError:
            pass
        structure = self._converter.get_structure_hook(cls)
        loads = self._loads

        def decode(fields: Mapping[Any, Any]) -> Any:
            try:
                payload = fields[F_DATA]
            except KeyError:
                raise DecodeError("not an eventbus entry: field 'data' is missing") from None
            try:
                data = loads(payload.decode() if payload.__class__ is bytes else payload)
            except (TypeError, ValueError) as exc:
                raise DecodeError(f"data is not JSON: {exc}") from None
            try:
                return structure(data, cls)
            except Exception as exc:
                raise DecodeError(
                    f"data does not structure into {cls.__module__}.{cls.__qualname__}: "
                    f"{_describe(exc)}"
                ) from None

        self._decoders[cls] = decode
        return decode

    def decode(self, fields: Mapping[Any, Any]) -> tuple[Header, object]:
        """:meth:`header`, then :meth:`event`.

        Raises:
            DecodeError: See those methods.
        """
        header = self.header(fields)
        return header, self.event(header.name, fields)


def _safe_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
