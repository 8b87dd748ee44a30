"""``eventbus check``: every problem listed, nothing started; exit 0, 1 or 2."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import shop
from clisupport import ANSI, empty_site_fixture, project_fixture, run_cli, shop_site_fixture  # noqa: F401 - fixtures
from distinfo import write_dist

if TYPE_CHECKING:
    from pathlib import Path

# Distributions with one problem each (and one that is fine, to see it load).
PROBLEMS = {
    "chk-needy": (
        {"needy": "chk_needy:Needy"},
        """
        import eventbus

        class Needy(eventbus.Plugin):
            requires = ("storage",)
        """,
    ),
    "chk-ping": (
        {"ping": "chk_ping:Ping"},
        """
        import eventbus

        class Ping(eventbus.Plugin):
            requires = ("pong",)
        """,
    ),
    "chk-pong": (
        {"pong": "chk_pong:Pong"},
        """
        import eventbus

        class Pong(eventbus.Plugin):
            requires = ("ping",)
        """,
    ),
    "chk-first": (
        {"first": "chk_first:First"},
        """
        import eventbus
        from chk_events import Tick

        class First(eventbus.Plugin):
            @eventbus.pipe(Tick, before="second")
            async def a(self, event):
                return event
        """,
    ),
    "chk-second": (
        {"second": "chk_second:Second"},
        """
        import eventbus
        from chk_events import Tick

        class Second(eventbus.Plugin):
            @eventbus.pipe(Tick, before="first")
            async def b(self, event):
                return event
        """,
    ),
    "chk-options": (
        {"options": "chk_options:WithOptions"},
        """
        import attrs
        import eventbus

        @attrs.frozen
        class Opts:
            retries: int = 3

        class WithOptions(eventbus.Plugin):
            Options = Opts
        """,
    ),
    "chk-broken": (
        {"broken": "chk_broken:Broken"},
        """
        raise RuntimeError("this module cannot be imported")
        """,
    ),
    "chk-dup-one": (
        {"twin": "chk_dup_one:Twin"},
        "import eventbus\nclass Twin(eventbus.Plugin): pass\n",
    ),
    "chk-dup-two": (
        {"twin": "chk_dup_two:Twin"},
        "import eventbus\nclass Twin(eventbus.Plugin): pass\n",
    ),
    "chk-fine": (
        {"fine": "chk_fine:Fine"},
        """
        import contextlib
        import pathlib

        import eventbus
        from chk_events import Tick

        class Fine(eventbus.Plugin):
            @contextlib.asynccontextmanager
            async def lifespan(self, bus):
                pathlib.Path("STARTED").write_text("a lifespan ran")
                yield

            @eventbus.listener(Tick)
            async def seen(self, event):
                pass
        """,
    ),
}

EVENTS = """
import attrs
import eventbus

@attrs.frozen
class Tick(eventbus.Event):
    __event_name__ = "chk.Tick"
"""

PROBLEM_CONFIG = """\
pipe_timeot = 2.0

[plugins.options]
retries = "many"

[plugins.audti]
table = "x"
"""


def install_problems(site: Path) -> Path:
    write_dist(site, "chk-events", modules={"chk_events": EVENTS})
    for dist, (entry_points, module) in PROBLEMS.items():
        (name,) = {value.split(":")[0] for value in entry_points.values()}
        write_dist(site, dist, entry_points=entry_points, modules={name: module})
    return site


def check(project: Path, site: Path, *args: str) -> tuple[int, str]:
    result = run_cli("check", *args, cwd=project, site=site)
    assert result.stderr == ""
    return result.returncode, result.stdout


def test_clean_exits_0(project: Path, shop_site: Path) -> None:
    (project / "eventbus.toml").write_text(shop.CLEAN_CONFIG)
    code, out = check(project, shop_site)
    assert code == 0, out
    assert out.splitlines()[0] == "eventbus check (config eventbus.toml, autoload on)"
    assert "  loaded    audit, fraud, inventory, mailer, pricing" in out
    assert "  disabled  legacy, metrics" in out
    assert out.rstrip().endswith(
        "No problems: 5 plugins load, configure and order cleanly; 8 handlers on 3 event types."
    )
    assert not ANSI.search(out)


def test_an_import_error_exits_1(project: Path, shop_site: Path) -> None:
    code, out = check(project, shop_site)
    assert code == 1
    assert "1 problem:" in out
    assert (
        "  plugin 'legacy' (from shop-legacy 0.1.0) failed to load: importing "
        "'shop_legacy:Legacy' raised ModuleNotFoundError: No module named 'zeep_soap_client'"
    ) in out


def test_every_problem_is_listed_at_once(tmp_path: Path, empty_site: Path) -> None:
    install_problems(empty_site)
    (tmp_path / "eventbus.toml").write_text(PROBLEM_CONFIG)
    code, out = check(tmp_path, empty_site)
    assert code == 1
    problems = out.split("problems:\n", 1)[1].splitlines()
    expected = [
        # config keys, with the file
        "eventbus.toml: pipe_timeot: unknown key; did you mean 'pipe_timeout'?",
        # a table naming nothing installed
        (
            "plugin 'audti' failed to load: [plugins.audti] names it, but no such plugin is "
            "installed (installed: broken, fine, first, needy, options, ping, pong, second, twin)"
        ),
        # two distributions declare one name
        "plugin 'twin' failed to load: the name 'twin' is declared by 2 entry points",
        # an import error
        (
            "plugin 'broken' (from chk-broken 1.0) failed to load: importing "
            "'chk_broken:Broken' raised RuntimeError: this module cannot be imported"
        ),
        # bad options (the message goes on with the file and the key)
        "plugin 'options' (from chk-options 1.0) failed to config: invalid configuration in ",
        # a missing requirement
        (
            "plugin 'needy' (from chk-needy 1.0) failed to order: it requires 'storage', which "
            "is not installed"
        ),
        # a requires cycle, for each plugin in it
        (
            "plugin 'ping' (from chk-ping 1.0) failed to order: its requires form a cycle "
            "(ping -> pong -> ping)"
        ),
        (
            "plugin 'pong' (from chk-pong 1.0) failed to order: its requires form a cycle "
            "(ping -> pong -> ping)"
        ),
        # a before/after cycle, found while subscribing (no lifespan runs)
        (
            "plugin 'second' (from chk-second 1.0) failed to start: subscribing its handlers "
            "raised OrderError: cannot order the pipes of chk_events.Tick: before/after "
            "constraints form a cycle (second -> first -> second)"
        ),
    ]
    for text in expected:
        assert sum(line.strip().startswith(text) for line in problems) == 1, (text, out)
    assert len(problems) == len(expected)
    assert "plugins.options.retries: expected int, got 'many'" in out
    assert f"{len(expected)} problems:" in out
    assert "  loaded  fine, first" in out
    # Checking started nothing: Fine's lifespan would have written this file.
    assert not (tmp_path / "STARTED").exists()


def test_json_lists_the_same_problems_and_is_stable(tmp_path: Path, empty_site: Path) -> None:
    install_problems(empty_site)
    (tmp_path / "eventbus.toml").write_text(PROBLEM_CONFIG)
    result = run_cli("check", "--format", "json", cwd=tmp_path, site=empty_site)
    again = run_cli("check", "--format", "json", "--color=always", cwd=tmp_path, site=empty_site)
    assert (result.returncode, again.returncode) == (1, 1)
    assert result.stdout == again.stdout
    assert not ANSI.search(again.stdout)
    document = json.loads(result.stdout)
    assert list(document) == [
        "schema",
        "ok",
        "config",
        "config_ok",
        "plugins_checked",
        "autoload",
        "problems",
        "warnings",
        "plugins",
    ]
    assert (document["ok"], document["config_ok"], document["plugins_checked"]) == (
        False,
        False,
        True,
    )
    phases = [(p["kind"], p["plugin"], p["phase"]) for p in document["problems"]]
    # In the order of bus.plugins: start order (second failed while starting), then
    # the plugins that failed to load, configure or order.
    assert phases == [
        ("config", None, None),
        ("plugin", "second", "start"),
        ("plugin", "twin", "load"),
        ("plugin", "audti", "load"),
        ("plugin", "broken", "load"),
        ("plugin", "needy", "order"),
        ("plugin", "options", "config"),
        ("plugin", "ping", "order"),
        ("plugin", "pong", "order"),
    ]
    broken = document["problems"][4]
    assert (broken["distribution"], broken["version"]) == ("chk-broken", "1.0")
    assert all(list(p) == ["kind", "plugin", "phase", "distribution", "version", "message"]
               for p in document["problems"])  # fmt: skip


def test_json_of_a_clean_check(project: Path, shop_site: Path) -> None:
    (project / "eventbus.toml").write_text(shop.CLEAN_CONFIG)
    result = run_cli("check", "--format", "json", cwd=project, site=shop_site)
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert (document["ok"], document["problems"], document["warnings"]) == (True, [], [])
    assert [p["status"] for p in document["plugins"]] == ["loaded"] * 5 + ["disabled"] * 2


def test_invalid_plugin_selection_keys_stop_before_the_plugins(
    project: Path, shop_site: Path
) -> None:
    (project / "eventbus.toml").write_text('disable = "legacy"\nhook_capacity = 0\n')
    code, out = check(project, shop_site)
    assert code == 1
    assert "plugins not checked" in out
    assert "eventbus.toml: disable: expected a list of plugin names, got 'legacy'" in out
    assert "eventbus.toml: hook_capacity: expected an int >= 1, got 0" in out
    assert "legacy" not in out.split("problems:")[1].replace("'legacy'", "")


def test_a_pyproject_tool_eventbus_table_is_checked(tmp_path: Path, shop_site: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.eventbus]\ndisable = ["legacy", "metrics"]\n'
        'drain_timeout = "long"\n\n[tool.eventbus.plugins.audit]\ntable = "t"\n'
    )
    code, out = check(tmp_path, shop_site)
    assert code == 1
    assert out.splitlines()[0] == "eventbus check (config pyproject.toml, autoload on)"
    assert "pyproject.toml: tool.eventbus.drain_timeout: expected a number of seconds" in out
    assert "1 problem:" in out  # the plugins were checked too, and are fine


def test_not_valid_toml(project: Path, shop_site: Path) -> None:
    (project / "eventbus.toml").write_text("disable = [\n")
    code, out = check(project, shop_site)
    assert code == 1
    assert "not valid TOML" in out
    assert "plugins not checked" in out


def test_bad_usage_exits_2(project: Path, shop_site: Path) -> None:
    for args in (["--format", "xml"], ["--config", "nowhere.toml"], ["extra"]):
        result = run_cli("check", *args, cwd=project, site=shop_site)
        assert result.returncode == 2, args
        assert result.stderr.startswith("usage: eventbus"), result.stderr
        assert result.stdout == ""
