"""``EventRegistry``: event types by wire name, so that an entry can be decoded.

A stream entry names its event by wire name (``eventbus.wire_name``). The
registry maps names back to classes, from three sources:

1. classes given explicitly: ``RedisBridge(options, types=[...])``, the
   ``imports`` option (``"app.events"`` registers the attrs classes and
   dataclasses defined in that module, ``"app.events:Paid"`` one class), and
   exact ``forward``/``receive`` names of the default ``module.QualName`` form,
   whose module is imported;
2. every subclass of ``eventbus.Event`` already imported, found again when a
   name is not known (a type imported after the bridge started);
3. nothing else: a name that neither source knows is not guessed, and never
   imported on the say-so of an incoming entry.

Explicit classes win over found ones; two explicit classes with one wire name
are an error (give one of them an ``__event_name__``).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
import importlib.util
from collections.abc import Iterable
from typing import Final, final

import attrs

import eventbus

__all__ = ["EventRegistry", "is_pattern", "matches"]

_GLOB_CHARS: Final = frozenset("*?[")


def is_pattern(name: str) -> bool:
    """Whether ``name`` is a glob pattern rather than one wire name."""
    return not _GLOB_CHARS.isdisjoint(name)


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether the wire name ``name`` matches any of the glob ``patterns``."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


@final
class EventRegistry:
    """Event classes by wire name (see the module docstring for the sources).

    Args:
        types: Classes to register explicitly.

    Raises:
        ValueError: Two of ``types`` have the same wire name.
    """

    __slots__ = ("_explicit", "_found", "generation")

    def __init__(self, types: Iterable[type] = ()) -> None:
        self._explicit: dict[str, type] = {}
        self._found: dict[str, type] = {}
        #: Changes whenever a name may map to another class than before:
        #: what is cached by name (the reader's decoders) is stale then.
        self.generation = 0
        for cls in types:
            self.add(cls)

    def add(self, cls: type) -> None:
        """Register ``cls`` under its wire name.

        Raises:
            TypeError: ``cls`` is not a class.
            ValueError: Another registered class has the same wire name.
        """
        name = eventbus.wire_name(cls)
        other = self._explicit.get(name)
        if other is not None and other is not cls:
            raise ValueError(
                f"wire name {name!r} names both {_qualified(other)} and {_qualified(cls)}; "
                f"set __event_name__ on one of them"
            )
        self._explicit[name] = cls
        self.generation += 1

    def get(self, name: str) -> type | None:
        """The class of wire name ``name``, or None if no source knows it."""
        cls = self._explicit.get(name) or self._found.get(name)
        if cls is None:
            self.refresh()
            cls = self._found.get(name)
        return cls

    def refresh(self) -> None:
        """Find the ``eventbus.Event`` subclasses imported so far again."""
        found: dict[str, type] = {}
        stack: list[type] = [eventbus.Event]
        seen: set[type] = set()
        while stack:
            sub: type
            for sub in stack.pop().__subclasses__():
                if sub in seen:
                    continue
                seen.add(sub)
                stack.append(sub)
                # The latest definition wins: a module imported again (a reload,
                # a test) replaces its classes.
                found[eventbus.wire_name(sub)] = sub
        if found != self._found:
            self._found = found
            self.generation += 1

    def known(self) -> dict[str, type]:
        """Every class known now, by wire name (explicit ones win)."""
        self.refresh()
        return {**self._found, **self._explicit}

    def matching(self, patterns: Iterable[str]) -> list[type]:
        """The known classes whose wire names match ``patterns``, by name."""
        chosen = tuple(patterns)
        if not chosen:
            return []
        return [cls for name, cls in sorted(self.known().items()) if matches(name, chosen)]

    def load(self, spec: str) -> None:
        """Import ``"pkg.mod"`` (its attrs classes and dataclasses) or ``"pkg.mod:Class"``.

        Raises:
            ImportError: The module cannot be imported.
            AttributeError: The module has no such class.
            TypeError: The attribute is not a class.
        """
        module_name, _, attr = spec.partition(":")
        module = importlib.import_module(module_name)
        if attr:
            obj: object = module
            for part in attr.split("."):
                obj = getattr(obj, part)
            if not isinstance(obj, type):
                raise TypeError(f"{spec!r} is {obj!r}, not a class")
            self.add(obj)
            return
        for obj in list(vars(module).values()):
            if (
                isinstance(obj, type)
                and obj.__module__ == module.__name__
                and (attrs.has(obj) or dataclasses.is_dataclass(obj))
            ):
                self.add(obj)

    def load_name(self, name: str) -> bool:
        """Register the class of a default wire name (``module.QualName``), if importable.

        Returns:
            Whether a class was found; False for names that are not import
            paths (an ``__event_name__``) or whose module does not exist.
        """
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            try:
                if importlib.util.find_spec(module_name) is None:
                    continue
            except (ImportError, ValueError):
                continue
            module = importlib.import_module(module_name)
            obj: object = module
            try:
                for part in parts[cut:]:
                    obj = getattr(obj, part)
            except AttributeError:
                return False
            if isinstance(obj, type) and eventbus.wire_name(obj) == name:
                self.add(obj)
                return True
            return False
        return False


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
