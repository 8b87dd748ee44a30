"""Entry-point discovery and import paths (DESIGN section 6), with real dist-infos."""

from __future__ import annotations

import pickle
import sys

import importlib_metadata
import pytest
from distinfo import site_fixture, write_dist  # noqa: F401 - the `site` fixture

from eventbus import PluginError, _discovery

PLUGIN_MODULE = """
from eventbus._plugins import Plugin

class Audit(Plugin):
    name = "audit"

def make():
    return Audit()
"""


def test_discovers_name_value_distribution_and_version(site):
    write_dist(
        site,
        "eventbus-audit",
        "2.3.1",
        entry_points={"audit": "ebfake_audit:Audit"},
        modules={"ebfake_audit": PLUGIN_MODULE},
    )
    found = _discovery.discover()
    assert list(found) == ["audit"]
    entry = found["audit"]
    assert entry.name == "audit"
    assert entry.value == "ebfake_audit:Audit"
    assert entry.distribution == "eventbus-audit"
    assert entry.version == "2.3.1"
    assert entry.source == "eventbus.plugins:audit = ebfake_audit:Audit"
    assert "eventbus.plugins:audit" in repr(entry)


def test_other_groups_are_ignored(site):
    write_dist(site, "other", entry_points={"x": "ebfake_x:X"}, group="console_scripts")
    assert _discovery.discover() == {}


def test_nothing_is_imported_until_load(site):
    write_dist(
        site,
        "eventbus-boom",
        entry_points={"boom": "ebfake_boom:Plugin"},
        modules={"ebfake_boom": "raise RuntimeError('imported!')\n"},
    )
    found = _discovery.discover()
    assert "boom" in found  # discovery alone did not import the module
    with pytest.raises(PluginError):
        found["boom"].load()


def test_load_imports_the_object(site):
    write_dist(
        site,
        "eventbus-audit",
        entry_points={"audit": "ebfake_audit:Audit", "factory": "ebfake_audit:make"},
        modules={"ebfake_audit": PLUGIN_MODULE},
    )
    found = _discovery.discover()
    cls = found["audit"].load()
    assert cls.__name__ == "Audit"
    assert found["factory"].load()().name == "audit"


def test_entry_points_are_read_once_per_process(site, monkeypatch):
    calls = []
    real = importlib_metadata.distributions

    def counting(**params):
        calls.append(params)
        return real(**params)

    # The scan walks importlib_metadata's distributions (see the equivalence
    # tests below); count the walks.
    monkeypatch.setattr(importlib_metadata, "distributions", counting)
    write_dist(site, "eventbus-a", entry_points={"a": "ebfake_a:A"})
    first = _discovery.entry_points()
    # A distribution installed after the scan is not seen until the cache is cleared.
    write_dist(site, "eventbus-b", entry_points={"b": "ebfake_b:B"})
    assert _discovery.entry_points() is first
    assert _discovery.discover().keys() == {"a"}
    assert calls == [{}]
    _discovery._clear_cache()
    assert _discovery.discover().keys() == {"a", "b"}
    assert len(calls) == 2


def _as_found(entries):
    return [(e.name, e.value, e.distribution, e.version) for e in entries]


def _backport_scan():
    found = []
    for ep in importlib_metadata.entry_points(group="eventbus.plugins"):
        entry = _discovery.PluginEntry(ep)
        found.append((entry.name, entry.value, entry.distribution, entry.version))
    return found


def test_scan_finds_what_importlib_metadata_entry_points_finds(site, tmp_path, monkeypatch):
    # Several entries per file, other groups before and after ours, comments,
    # blank lines and odd spacing; a distribution with no entry points; one that
    # mentions the group only in another group's value; one installed twice.
    write_dist(site, "eventbus-audit", "1.0", entry_points={"audit": "ebfake_audit:A"})
    (site / "eventbus_audit-1.0.dist-info" / "entry_points.txt").write_text(
        "[console_scripts]\naudit-cli = ebfake_audit:main\n\n"
        "# a comment\n[eventbus.plugins]\n  audit=ebfake_audit:A  \n"
        "# audit-old = ebfake_audit:Old\nstamp = ebfake_audit.sub:Stamp [extra]\n"
        "\n[other.group]\nx = y:z\n",
        encoding="utf-8",
    )
    write_dist(site, "Acme.Metrics", "2.0rc1", entry_points={"metrics": "ebfake_metrics:M"})
    write_dist(site, "unrelated", "3", entry_points={"tool": "eventbus.plugins:x"}, group="x")
    info = write_dist(site, "no-entry-points", "1")
    (info / "entry_points.txt").unlink()
    later = tmp_path / "later"
    write_dist(later, "eventbus-audit", "0.9", entry_points={"shadowed": "ebfake_old:A"})
    monkeypatch.setattr(sys, "path", [*sys.path, str(later)])
    _discovery._clear_cache()
    ours = _as_found(_discovery.entry_points())
    assert sorted(ours) == sorted(_backport_scan())
    assert sorted(ours) == [
        ("audit", "ebfake_audit:A", "eventbus-audit", "1.0"),
        ("metrics", "ebfake_metrics:M", "acme-metrics", "2.0rc1"),
        ("stamp", "ebfake_audit.sub:Stamp [extra]", "eventbus-audit", "1.0"),
    ]


def test_a_copy_without_metadata_does_not_hide_an_installed_one(site, tmp_path, monkeypatch):
    # A leftover directory of a half-removed install comes first on sys.path.
    leftover = tmp_path / "leftover"
    info = write_dist(leftover, "eventbus-audit", "0.1", entry_points={"audit": "ebfake_old:A"})
    (info / "METADATA").unlink()
    write_dist(site, "eventbus-audit", "1.0", entry_points={"audit": "ebfake_audit:A"})
    monkeypatch.syspath_prepend(str(leftover))
    _discovery._clear_cache()
    assert _as_found(_discovery.entry_points()) == _backport_scan()
    assert _discovery.discover()["audit"].version == "1.0"


def test_a_malformed_line_in_another_group_is_not_our_business(site):
    write_dist(site, "eventbus-audit", entry_points={"audit": "ebfake_audit:A"})
    info = write_dist(site, "sloppy", entry_points={"x": "y:z"}, group="console_scripts")
    (info / "entry_points.txt").write_text("[console_scripts]\nno equals sign\n", encoding="utf-8")
    _discovery._clear_cache()
    assert _discovery.discover().keys() == {"audit"}


def test_an_entry_without_a_value_fails_when_loaded_naming_it(site):
    write_dist(site, "eventbus-audit", entry_points={"audit": "ebfake_audit:A"})
    info = write_dist(site, "eventbus-odd", "0.2")
    (info / "entry_points.txt").write_text("[eventbus.plugins]\nodd\n", encoding="utf-8")
    _discovery._clear_cache()
    found = _discovery.discover()
    assert found.keys() == {"audit", "odd"}
    with pytest.raises(PluginError, match="names no object") as err:
        found["odd"].load()
    assert (err.value.plugin, err.value.distribution, err.value.version) == (
        "odd",
        "eventbus-odd",
        "0.2",
    )


def test_duplicate_names_name_both_distributions(site):
    write_dist(site, "eventbus-audit", "1.0", entry_points={"audit": "ebfake_one:A"})
    write_dist(site, "acme-audit", "4.2", entry_points={"audit": "ebfake_two:B"})
    with pytest.raises(PluginError) as info:
        _discovery.discover()
    err = info.value
    assert err.phase == "load"
    assert err.plugin == "audit"
    message = str(err)
    assert "eventbus-audit 1.0" in message
    assert "acme-audit 4.2" in message
    assert "eventbus.plugins:audit = ebfake_one:A" in message
    assert "eventbus.plugins:audit = ebfake_two:B" in message


def test_same_distribution_twice_on_sys_path_counts_once(site, tmp_path, monkeypatch):
    write_dist(site, "eventbus-audit", "1.0", entry_points={"audit": "ebfake_audit:A"})
    second = tmp_path / "second"
    write_dist(second, "eventbus-audit", "0.9", entry_points={"audit": "ebfake_audit:A"})
    monkeypatch.syspath_prepend(str(second))
    _discovery._clear_cache()
    found = _discovery.discover()
    assert found["audit"].version == "0.9"  # first on sys.path wins, as for imports


def test_import_error_names_entry_point_distribution_and_version(site):
    write_dist(
        site,
        "eventbus-broken",
        "0.4",
        entry_points={"broken": "ebfake_broken:Plugin"},
        modules={"ebfake_broken": "import ebfake_does_not_exist\n"},
    )
    entry = _discovery.discover()["broken"]
    with pytest.raises(PluginError) as info:
        entry.load()
    err = info.value
    assert err.phase == "load"
    assert (err.plugin, err.distribution, err.version) == ("broken", "eventbus-broken", "0.4")
    assert isinstance(err.__cause__, ModuleNotFoundError)
    message = str(err)
    assert "eventbus.plugins:broken = ebfake_broken:Plugin" in message
    assert "eventbus-broken 0.4" in message
    assert "ModuleNotFoundError" in message
    assert "ebfake_does_not_exist" in message
    restored = pickle.loads(pickle.dumps(err))
    assert str(restored) == message


def test_missing_attribute_is_a_load_error(site):
    write_dist(
        site,
        "eventbus-typo",
        entry_points={"typo": "ebfake_typo:Plugn"},
        modules={"ebfake_typo": "class Plugin: pass\n"},
    )
    with pytest.raises(PluginError) as info:
        _discovery.discover()["typo"].load()
    assert isinstance(info.value.__cause__, AttributeError)
    assert "Plugn" in str(info.value)


def test_broken_metadata_still_gives_a_message(site):
    # An egg-info directory carries no version in its name: METADATA is read,
    # and it is empty here.
    info = site / "eventbus_odd.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[eventbus.plugins]\nodd = ebfake_odd:P\n", encoding="utf-8"
    )
    _discovery._clear_cache()
    entry = _discovery.discover()["odd"]
    assert entry.version is None
    with pytest.raises(PluginError, match=r"eventbus.plugins:odd = ebfake_odd:P"):
        entry.load()


def test_distribution_name_and_version_from_the_metadata_when_not_in_the_path(site):
    info = site / "eventbus_legacy.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text(
        "Metadata-Version: 1.1\nName: Eventbus_Legacy\nVersion: 3.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[eventbus.plugins]\nlegacy = ebfake_legacy:P\n", encoding="utf-8"
    )
    _discovery._clear_cache()
    entry = _discovery.discover()["legacy"]
    assert (entry.distribution, entry.version) == ("eventbus-legacy", "3.1")


def test_distribution_names_are_normalized(site):
    write_dist(site, "Acme.Audit_Plugin", "2.0rc1", entry_points={"acme": "ebfake_acme:P"})
    entry = _discovery.discover()["acme"]
    assert (entry.distribution, entry.version) == ("acme-audit-plugin", "2.0rc1")


# --- import paths ------------------------------------------------------------------


def test_load_by_path(site):
    (site / "ebfake_paths.py").write_text(
        "class Outer:\n    class Inner:\n        pass\nvalue = 42\n", encoding="utf-8"
    )
    assert _discovery.load_by_path("ebfake_paths:value") == 42
    assert _discovery.load_by_path("ebfake_paths:Outer.Inner").__qualname__ == "Outer.Inner"
    assert _discovery.load_by_path(" ebfake_paths:value ") == 42


@pytest.mark.parametrize(
    "path", ["ebfake_paths", "ebfake_paths:", ":X", "a b:c", "pkg.mod:X:Y", "pkg..mod:X", ""]
)
def test_load_by_path_rejects_malformed_paths(path):
    with pytest.raises(PluginError, match="invalid import path") as info:
        _discovery.load_by_path(path, name="bridge")
    assert info.value.phase == "load"
    assert info.value.plugin == "bridge"


def test_load_by_path_chains_import_errors(site):
    (site / "ebfake_bad.py").write_text("1 / 0\n", encoding="utf-8")
    with pytest.raises(PluginError, match="ZeroDivisionError") as info:
        _discovery.load_by_path("ebfake_bad:X", name="bad")
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    with pytest.raises(PluginError, match="ModuleNotFoundError"):
        _discovery.load_by_path("ebfake_nowhere.sub:X")
    with pytest.raises(PluginError, match="AttributeError"):
        _discovery.load_by_path("pickle:NoSuchThing")


@pytest.mark.parametrize(
    ("value", "disabled"),
    [("1", True), ("yes", True), ("true", True), ("0", False), ("", False), ("false", False)],
)
def test_autoload_environment_variable(monkeypatch, value, disabled):
    monkeypatch.setenv("EVENTBUS_DISABLE_PLUGIN_AUTOLOAD", value)
    assert _discovery.autoload_disabled_by_env() is disabled


def test_autoload_environment_variable_unset(monkeypatch):
    monkeypatch.delenv("EVENTBUS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    assert _discovery.autoload_disabled_by_env() is False
