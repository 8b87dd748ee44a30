"""eventbus.testing's public surface: __all__, __module__, lazy hypothesis imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest

import eventbus.testing


def test_all_is_what_is_importable() -> None:
    assert len(eventbus.testing.__all__) == len(set(eventbus.testing.__all__))
    for name in eventbus.testing.__all__:
        assert getattr(eventbus.testing, name) is not None
    namespace: dict[str, object] = {}
    exec("from eventbus.testing import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(eventbus.testing.__all__)
    assert set(eventbus.testing.__all__) <= set(dir(eventbus.testing))


@pytest.mark.parametrize("name", sorted(eventbus.testing.__all__))
def test_public_objects_live_in_eventbus_testing(name: str) -> None:
    obj = getattr(eventbus.testing, name)
    if isinstance(obj, type | types.FunctionType):
        assert obj.__module__ == "eventbus.testing"


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        eventbus.testing.nope  # noqa: B018 - the lookup under test


def test_hypothesis_is_imported_on_first_use_only() -> None:
    code = textwrap.dedent(
        """
        import sys
        import eventbus.testing
        before = "hypothesis" in sys.modules
        eventbus.testing.events
        print(before, "hypothesis" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_import_eventbus_does_not_import_the_kit() -> None:
    code = "import sys, eventbus; print('eventbus.testing' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
