"""``eventbus plugins`` against really installed fixture distributions (``shop.py``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import shop
from clisupport import ANSI, empty_site_fixture, project_fixture, run_cli, shop_site_fixture  # noqa: F401 - fixtures

if TYPE_CHECKING:
    from pathlib import Path

PLUGIN_KEYS = [
    "name",
    "distribution",
    "version",
    "source",
    "enabled",
    "status",
    "phase",
    "error",
    "subscriptions",
]
SUBSCRIPTION_KEYS = ["kind", "event", "handler", "order", "timeout", "before", "after"]


def plugins_json(project: Path, site: Path, *args: str) -> dict:
    result = run_cli("plugins", "--format", "json", *args, cwd=project, site=site)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document: dict = json.loads(result.stdout)
    return document


def test_text_lists_every_plugin_with_its_distribution_source_and_status(
    project: Path, shop_site: Path
) -> None:
    result = run_cli("plugins", cwd=project, site=shop_site)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("7 plugins (config eventbus.toml, autoload on)")
    lines = {line.split()[0]: line for line in out.splitlines() if line and line[0] != " "}
    assert lines["inventory"].split()[1:4] == ["loaded", "shop-inventory", "1.4.0"]
    assert "eventbus.plugins:inventory = shop_inventory:Inventory" in lines["inventory"]
    assert lines["metrics"].split()[1] == "disabled"
    assert lines["legacy"].split()[1] == "FAILED"
    # The error of a failed plugin, on one line, under it.
    error_line = out.splitlines()[out.splitlines().index(lines["legacy"]) + 1]
    assert error_line.startswith(
        "    error: plugin 'legacy' (from shop-legacy 0.1.0) failed to load"
    )
    assert "ModuleNotFoundError: No module named 'zeep_soap_client'" in error_line
    assert out.rstrip().endswith("5 loaded, 1 failed, 1 disabled")
    assert not ANSI.search(out)


def test_text_shows_each_subscription_with_kind_event_order_and_timeout(
    project: Path, shop_site: Path
) -> None:
    out = run_cli("plugins", cwd=project, site=shop_site).stdout
    rows = [
        line.split() for line in out.splitlines() if line.startswith("    ") and "error" not in line
    ]
    assert [
        "pipe",
        "shop.OrderPlaced",
        "Inventory.check_stock",
        "order",
        "-10",
        "timeout",
        "0.5s",
    ] in rows
    assert [
        "listener",
        "shop.OrderPaid",
        "Inventory.reserve",
        "order",
        "0",
        "default",
        "timeout",
    ] in rows
    assert [
        "pipe", "shop.OrderPlaced", "Fraud.screen", "order", "-20", "default", "timeout",
        "after", "inventory",
    ] in rows  # fmt: skip
    assert ["hook", "shop.ShopEvent", "Mailer.archive", "order", "0", "default", "timeout"] in rows


def test_json_has_every_field_in_a_fixed_order(project: Path, shop_site: Path) -> None:
    document = plugins_json(project, shop_site)
    assert list(document) == ["schema", "config", "autoload", "plugins"]
    assert (document["schema"], document["config"], document["autoload"]) == (
        1,
        "eventbus.toml",
        True,
    )
    by_name = {p["name"]: p for p in document["plugins"]}
    for plugin in document["plugins"]:
        assert list(plugin) == PLUGIN_KEYS
        for sub in plugin["subscriptions"]:
            assert list(sub) == SUBSCRIPTION_KEYS
    assert by_name["inventory"] == {
        "name": "inventory",
        "distribution": "shop-inventory",
        "version": "1.4.0",
        "source": "eventbus.plugins:inventory = shop_inventory:Inventory",
        "enabled": True,
        "status": "loaded",
        "phase": None,
        "error": None,
        "subscriptions": [
            {
                "kind": "pipe",
                "event": "shop.OrderPlaced",
                "handler": "Inventory.check_stock",
                "order": -10,
                "timeout": 0.5,
                "before": [],
                "after": [],
            },
            {
                "kind": "listener",
                "event": "shop.OrderPaid",
                "handler": "Inventory.reserve",
                "order": 0,
                "timeout": None,
                "before": [],
                "after": [],
            },
        ],
    }
    assert (by_name["metrics"]["enabled"], by_name["metrics"]["status"]) == (False, "disabled")
    legacy = by_name["legacy"]
    assert (legacy["enabled"], legacy["status"], legacy["phase"]) == (True, "failed", "load")
    assert "\n" not in legacy["error"]
    assert by_name["fraud"]["subscriptions"][0]["after"] == ["inventory"]
    # Start order first (pricing requires inventory), then the failed, then the disabled.
    assert [p["name"] for p in document["plugins"]] == [
        "audit",
        "fraud",
        "inventory",
        "mailer",
        "pricing",
        "legacy",
        "metrics",
    ]


def test_json_is_stable_across_runs_and_never_coloured(project: Path, shop_site: Path) -> None:
    first = run_cli("plugins", "--format", "json", cwd=project, site=shop_site)
    second = run_cli("plugins", "--format", "json", "--color=always", cwd=project, site=shop_site)
    assert first.stdout == second.stdout
    assert not ANSI.search(second.stdout)


def test_a_config_given_with_config_is_used(project: Path, shop_site: Path) -> None:
    other = project / "deploy.toml"
    other.write_text('disable = ["legacy", "metrics", "mailer"]\n[plugins.audit]\ntable = "x"\n')
    document = plugins_json(project, shop_site, "--config", "deploy.toml")
    assert document["config"] == "deploy.toml"
    states = {p["name"]: p["status"] for p in document["plugins"]}
    assert states["mailer"] == states["legacy"] == "disabled"


def test_a_path_plugin_of_the_config_is_listed(project: Path, shop_site: Path) -> None:
    (project / "eventbus.toml").write_text(
        shop.CLEAN_CONFIG + '\n[plugins.extra]\npath = "shop_mailer:Mailer"\n'
    )
    by_name = {p["name"]: p for p in plugins_json(project, shop_site)["plugins"]}
    extra = by_name["extra"]
    assert (extra["source"], extra["distribution"], extra["status"]) == (
        "shop_mailer:Mailer",
        None,
        "loaded",
    )


def test_autoload_off_by_the_environment_lists_no_entry_point(
    project: Path, shop_site: Path
) -> None:
    result = run_cli("plugins", cwd=project, site=shop_site, EVENTBUS_DISABLE_PLUGIN_AUTOLOAD="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 plugins (config eventbus.toml, autoload off)")


def test_nothing_installed(tmp_path: Path, empty_site: Path) -> None:
    result = run_cli("plugins", cwd=tmp_path, site=empty_site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 plugins (no config file, autoload on)")
    assert "No plugin is installed" in result.stdout


def test_an_invalid_config_is_an_error_on_stderr(project: Path, shop_site: Path) -> None:
    (project / "eventbus.toml").write_text("pipe_timeout = 'soon'\n")
    result = run_cli("plugins", cwd=project, site=shop_site)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "invalid configuration in eventbus.toml" in result.stderr
    assert "pipe_timeout: expected a number of seconds" in result.stderr


def test_no_lifespan_runs(project: Path, shop_site: Path) -> None:
    # The plugins log from their lifespans; inspecting must not start them.
    result = run_cli("plugins", cwd=project, site=shop_site)
    for text in ("stock loaded", "price list", "audit table"):
        assert text not in result.stdout + result.stderr
