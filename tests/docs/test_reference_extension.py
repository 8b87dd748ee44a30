"""docs/_ext/griffe_docstrings.py: Sphinx roles as inline code, attrs fields by default."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "docs" / "_ext" / "griffe_docstrings.py"


@pytest.fixture(scope="module")
def ext() -> ModuleType:
    pytest.importorskip("griffe", reason="griffe comes with mkdocstrings[python] (docs group)")
    spec = importlib.util.spec_from_file_location("griffe_docstrings", EXTENSION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see :func:`plugin_harness`.", "see `plugin_harness`."),
        (":class:`~eventbus.BusConfig` and :meth:`Bus.scope`", "`BusConfig` and `Bus.scope`"),
        (":py:data:`CLAUSES`, :exc:`.ConfigError`", "`CLAUSES`, `ConfigError`"),
        ("``literal`` and `code` stay", "``literal`` and `code` stay"),
    ],
)
def test_roles_become_inline_code(ext: ModuleType, text: str, expected: str) -> None:
    assert ext.convert(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("attrs.field(default=30.0, validator=_valid_seconds)", "30.0"),
        ("attrs.field(factory=dict, converter=_copy, hash=False)", "dict()"),
        ("attrs.field(default=None, eq=False)", "None"),
        ("attrs.field(validator=_check)", None),
        ("42", None),
        ("field(default='full')", "'full'"),
    ],
)
def test_attrs_fields_show_their_default(ext: ModuleType, value: str, expected: str | None) -> None:
    assert ext.field_default(value) == expected
