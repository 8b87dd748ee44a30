"""Install fake plugin distributions for tests: real ``*.dist-info`` directories.

``importlib.metadata`` (and ``importlib_metadata``) read exactly these files in
production: a ``METADATA`` file and an ``entry_points.txt`` in a
``NAME-VERSION.dist-info`` directory on ``sys.path``. Modules are written
beside them, so ``ep.load()`` imports real code.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from eventbus import _discovery

#: Every generated module's name starts with this, so teardown can forget them.
MODULE_PREFIX = "ebfake_"


def write_dist(
    site: Path,
    dist: str,
    version: str = "1.0",
    *,
    entry_points: Mapping[str, str] | None = None,
    modules: Mapping[str, str] | None = None,
    group: str = "eventbus.plugins",
) -> Path:
    """Write ``DIST-VERSION.dist-info`` (and modules) into ``site``; return the dist-info."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{group}]"] + [f"{name} = {value}" for name, value in (entry_points or {}).items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for module, source in (modules or {}).items():
        path = site.joinpath(*module.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(site).parents:
            if parent != Path("."):
                (site / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return info


def forget_modules() -> None:
    for name in [m for m in sys.modules if m.startswith(MODULE_PREFIX)]:
        del sys.modules[name]


@pytest.fixture(name="site")
def site_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh directory on ``sys.path`` for fake distributions; caches cleared."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv(_discovery.ENV_DISABLE_AUTOLOAD, raising=False)
    _discovery._clear_cache()
    forget_modules()
    yield root
    forget_modules()
    _discovery._clear_cache()
    importlib.invalidate_caches()
