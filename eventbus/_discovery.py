"""Finding plugins: the ``eventbus.plugins`` entry points, and import paths.

Entry points are read once per process (the scan walks every distribution on
``sys.path``) and nothing is imported until a plugin is enabled and
:meth:`PluginEntry.load` is called. A distribution's name and version are read
from its metadata only when a message or a ``PluginInfo`` needs them.

The scan is ``importlib_metadata.entry_points(group=...)`` minus the work that
group does not need (see :func:`entry_points`): the same distributions, the
same first-on-``sys.path``-wins rule, but only our section of each
``entry_points.txt`` is parsed, and ``METADATA`` is looked at only to break a
tie between two copies of one distribution.

Loading a plugin runs its code: that is what installing it is for.
"""

from __future__ import annotations

import functools
import importlib
import operator
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final, final

import importlib_metadata

from ._errors import PluginError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from importlib_metadata import EntryPoint, IDistribution

__all__ = [
    "ENV_DISABLE_AUTOLOAD",
    "GROUP",
    "PluginEntry",
    "autoload_disabled_by_env",
    "discover",
    "entry_points",
    "load_by_path",
]

#: The entry-point group every plugin distribution declares.
GROUP: Final = "eventbus.plugins"

#: Set to a non-empty value other than ``0``/``false``/``no`` to turn autoload off.
ENV_DISABLE_AUTOLOAD: Final = "EVENTBUS_DISABLE_PLUGIN_AUTOLOAD"

_PATH: Final = re.compile(
    r"(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):(?P<attr>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)"
)


@final
class PluginEntry:
    """One entry point of group ``eventbus.plugins``: found, not yet imported."""

    __slots__ = ("_dist", "_ep", "_meta", "name", "value")

    def __init__(self, ep: EntryPoint, dist: IDistribution | None = None) -> None:
        self._ep = ep
        # The distribution that declares it (``ep.dist`` when not given).
        self._dist = dist if dist is not None else ep.dist
        self.name: str = ep.name
        self.value: str = ep.value
        # (distribution, version), read from the metadata on first use.
        self._meta: tuple[str | None, str | None] | None = None

    @property
    def source(self) -> str:
        """``eventbus.plugins:audit = eventbus_audit:AuditPlugin``."""
        return f"{GROUP}:{self.name} = {self.value}"

    @property
    def distribution(self) -> str | None:
        """The name of the distribution that declares the entry point."""
        return self._metadata()[0]

    @property
    def version(self) -> str | None:
        """The version of that distribution."""
        return self._metadata()[1]

    def _metadata(self) -> tuple[str | None, str | None]:
        if self._meta is None:
            self._meta = _read_metadata(self._dist)
        return self._meta

    def load(self) -> object:
        """Import the entry point's object (a ``Plugin`` subclass or a factory).

        Raises:
            PluginError: ``phase="load"``, naming the entry point, distribution
                and version, chained from what the import raised.
        """
        try:
            if not self.value:
                raise ValueError("the entry point names no object (write 'name = module:attr')")
            return self._ep.load()
        except Exception as exc:
            raise PluginError(
                f"importing {self.value!r} raised {type(exc).__name__}: {exc} "
                f"(entry point {self.source}); fix or uninstall {self.distribution or 'it'}, "
                f"or disable the plugin (config disable = [{self.name!r}])",
                phase="load",
                plugin=self.name,
                distribution=self.distribution,
                version=self.version,
            ) from exc

    def __repr__(self) -> str:
        return f"<PluginEntry {self.source}>"


def _read_metadata(dist: IDistribution | None) -> tuple[str | None, str | None]:
    """The distribution's name and version.

    A wheel-installed distribution says both in its directory's name
    (``eventbus_audit-1.2.0.dist-info``), which the scan has read already; that
    is what importlib_metadata itself relies on for speed. Parsing ``METADATA``
    for every plugin would cost more than the whole scan, so it is only the
    fallback (egg-info, zips, other finders). Names come out normalized, as
    ``pip list`` shows them.
    """
    if dist is None:
        return (None, None)
    path = getattr(dist, "_path", None)
    if path is not None:
        stem, ext = os.path.splitext(os.path.basename(str(path)))
        name, sep, version = stem.partition("-")
        if ext == ".dist-info" and sep and version and "-" not in version:
            return (_normalize(name), version)
    try:
        metadata = dist.metadata
        return (_normalize(metadata["Name"]), metadata["Version"])
    except Exception:  # broken metadata: the plugin may still work, and messages too
        return (None, None)


_SEPARATORS: Final = re.compile(r"[-_.]+")

#: The key ``importlib_metadata`` itself deduplicates distributions by (its
#: ``_unique``): the normalized name, read from a ``*.dist-info`` directory's
#: name without opening a file.
_dist_key: Final = operator.attrgetter("_normalized_name")


def _normalize(name: str) -> str:
    """PEP 503: ``Eventbus_Audit`` -> ``eventbus-audit``."""
    return _SEPARATORS.sub("-", name).lower()


@functools.cache
def entry_points() -> tuple[PluginEntry, ...]:
    """Every entry point of group ``eventbus.plugins``, scanned once per process.

    Nothing is imported. Distributions found twice on ``sys.path`` count once
    (the first one wins, as for imports; a copy without metadata loses to one
    with it).

    This is what ``importlib_metadata.entry_points(group=GROUP)`` finds, over
    the same ``importlib_metadata.distributions()``, for a fraction of the
    cost: that call parses every section of every distribution's
    ``entry_points.txt`` into ``EntryPoint`` objects and checks every
    distribution for metadata, to keep a handful. Here a file is parsed only
    when it mentions the group at all, and metadata is checked only between
    copies of one distribution.
    """
    copies: dict[str, list[IDistribution]] = {}
    for dist in importlib_metadata.distributions():
        copies.setdefault(_dist_key(dist), []).append(dist)
    entries: list[PluginEntry] = []
    for found in copies.values():
        dist = found[0] if len(found) == 1 else _preferred(found)
        text = dist.read_text("entry_points.txt")
        if text and GROUP in text:
            entries.extend(PluginEntry(ep, dist) for ep in _declared(text))
    return tuple(entries)


def _preferred(copies: list[IDistribution]) -> IDistribution:
    """Of several copies of one distribution, the first that has metadata.

    As ``importlib_metadata`` decides (python/importlib_resources#489): a
    leftover directory without ``METADATA`` does not hide a real install.
    """
    for dist in copies:
        if any(dist.read_text(name) for name in ("METADATA", "PKG-INFO", "")):
            return dist
    return copies[0]


def _declared(text: str) -> Iterator[EntryPoint]:
    """The ``[eventbus.plugins]`` entries of an ``entry_points.txt``.

    Parsed as ``importlib_metadata`` parses the file (stripped lines, ``#``
    comments, ``[group]`` headers, ``name = value``), but only this group: a
    malformed line elsewhere is another tool's business. A line here without
    ``=`` becomes an entry point with no value, which fails when it is loaded,
    naming the plugin, rather than hiding every other plugin.
    """
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if line[0] == "[" and line[-1] == "]":
            group = line.strip("[]")
        elif group == GROUP:
            name, _, value = line.partition("=")
            yield importlib_metadata.EntryPoint(name=name.strip(), value=value.strip(), group=GROUP)


def _clear_cache() -> None:
    """Forget the scan (tests install distributions while the process runs)."""
    entry_points.cache_clear()
    # importlib_metadata keeps its own directory cache, apart from importlib's.
    importlib_metadata.MetadataPathFinder.invalidate_caches()
    importlib.invalidate_caches()


def duplicates(entries: Iterable[PluginEntry]) -> dict[str, list[PluginEntry]]:
    """Names declared by more than one entry point, with every declaration."""
    by_name: dict[str, list[PluginEntry]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(entry)
    return {name: found for name, found in by_name.items() if len(found) > 1}


def duplicate_error(name: str, found: list[PluginEntry]) -> PluginError:
    """The error for a plugin name declared by several distributions."""
    where = "; ".join(
        f"{entry.distribution or '?'} {entry.version or '?'} ({entry.source})" for entry in found
    )
    return PluginError(
        f"the name {name!r} is declared by {len(found)} entry points: {where}. "
        f"Plugin names must be unique: uninstall one of these distributions.",
        phase="load",
        plugin=name,
    )


def discover() -> Mapping[str, PluginEntry]:
    """The discovered plugins by name (nothing imported).

    Raises:
        PluginError: ``phase="load"``: two distributions declare the same name;
            the message names both.
    """
    entries = entry_points()
    clashes = duplicates(entries)
    if clashes:
        name, found = next(iter(clashes.items()))
        raise duplicate_error(name, found)
    return {entry.name: entry for entry in entries}


def load_by_path(path: str, *, name: str | None = None) -> object:
    """Import ``"pkg.mod:Attr"`` (``Attr`` may be dotted: ``"pkg.mod:Outer.Inner"``).

    Args:
        path: The import path, in entry-point syntax.
        name: The plugin's name, for messages.

    Raises:
        PluginError: ``phase="load"``: a malformed path, or the import or the
            attribute look-up failed (chained from the cause).
    """
    match = _PATH.fullmatch(path.strip())
    if match is None:
        raise PluginError(
            f"invalid import path {path!r}: expected 'package.module:Attribute'",
            phase="load",
            plugin=name,
        )
    module_name, attr = match["module"], match["attr"]
    try:
        obj: object = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        raise PluginError(
            f"importing {path!r} raised {type(exc).__name__}: {exc}",
            phase="load",
            plugin=name,
        ) from exc
    return obj


def autoload_disabled_by_env() -> bool:
    """True when ``EVENTBUS_DISABLE_PLUGIN_AUTOLOAD`` turns autoload off."""
    value = os.environ.get(ENV_DISABLE_AUTOLOAD, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")
