"""The public surface: __all__, __module__, and a cheap import.

DESIGN section 14; STYLE (Layout and public surface).
"""

import __future__

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import eventbus

REPO = Path(__file__).resolve().parent.parent

CORE_NAMES = {
    "open_bus",
    "Bus",
    "Subscription",
    "SubscriptionStats",
    "Instrument",
    "Event",
    "wire_name",
    "EventBusError",
    "PluginError",
    "PipeError",
    "Rejected",
    "ListenerError",
    "HandlerTimeout",
    "EmitTimeout",
    "WaitTimeout",
    "BusClosed",
    "ConfigError",
    "OrderError",
}


def public_names(module):
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }


def test_all_has_no_duplicates():
    assert len(eventbus.__all__) == len(set(eventbus.__all__))


def test_all_names_the_core_api():
    missing = CORE_NAMES - set(eventbus.__all__)
    assert not missing


def test_everything_in_all_is_importable():
    for name in eventbus.__all__:
        assert hasattr(eventbus, name), name


def test_all_matches_the_public_names():
    assert set(eventbus.__all__) == public_names(eventbus)


def test_star_import_gives_exactly_all():
    namespace = {}
    exec("from eventbus import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(eventbus.__all__)


@pytest.mark.parametrize("name", sorted(eventbus.__all__))
def test_public_objects_live_in_eventbus(name):
    obj = getattr(eventbus, name)
    if isinstance(obj, (type, types.FunctionType)) or callable(obj):
        assert getattr(obj, "__module__", "eventbus") == "eventbus", (name, obj.__module__)


def test_private_modules_are_private():
    for name, value in vars(eventbus).items():
        if isinstance(value, types.ModuleType) and value.__name__.startswith("eventbus."):
            assert value.__name__.split(".")[1].startswith("_") or value.__name__ in {
                "eventbus.testing",
                "eventbus.bridges",
            }, name


def test_importing_eventbus_is_cheap():
    code = (
        "import sys, eventbus\n"
        "heavy = [m for m in ('eventbus._cli', 'eventbus.testing', 'eventbus.bridges', 'hypothesis', 'coredis')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == ""
