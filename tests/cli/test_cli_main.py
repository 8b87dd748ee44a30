"""The ``eventbus`` program itself: help, version, usage errors, ``python -m``, start-up cost."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from typing import TYPE_CHECKING

import pytest
from clisupport import console_script, environment, run_cli

if TYPE_CHECKING:
    from pathlib import Path

COMMANDS = ("plugins", "graph", "check", "run", "demo")


def test_help_lists_every_command_with_examples(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert f"    {command} " in result.stdout
        assert f"eventbus {command}" in result.stdout
    assert "Examples:" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(tmp_path: Path, command: str) -> None:
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: eventbus {command}")
    examples = result.stdout.split("Examples:\n", 1)[1]
    assert f"  eventbus {command}" in examples


@pytest.mark.parametrize("command", ["plugins", "graph", "check", "run"])
def test_commands_that_read_a_config_take_config(tmp_path: Path, command: str) -> None:
    assert "--config FILE" in run_cli(command, "--help", cwd=tmp_path).stdout


def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"trio-eventbus {version('trio-eventbus')}\n"


def test_python_m_eventbus_is_the_same_program(tmp_path: Path) -> None:
    for args in (["--version"], ["--help"], ["graph", "--help"]):
        script = run_cli(*args, cwd=tmp_path)
        module = subprocess.run(
            [sys.executable, "-m", "eventbus", *args],
            cwd=tmp_path,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (module.returncode, module.stdout) == (script.returncode, script.stdout)


def test_no_command_prints_usage_and_exits_2(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: eventbus" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "invalid choice: 'nope'"),
        (["plugins", "--format", "yaml"], "invalid choice: 'yaml'"),
        (["graph", "--format", "svg"], "invalid choice: 'svg'"),
        (["check", "--bogus"], "unrecognized arguments: --bogus"),
        (["check", "--config", "missing.toml"], "'missing.toml' does not exist"),
        (["run", "--config", "."], "'.' is a directory"),
        (["graph", "--event", ""], "must not be empty"),
    ],
)
def test_bad_usage_exits_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert result.stdout == ""


def test_help_and_version_do_not_import_the_package(tmp_path: Path) -> None:
    # The start-up budget of a typed command: `--help` must not pay for trio.
    for args in (["--help"], ["graph", "--help"], ["--version"], ["bogus"]):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", console_script(), *args],
            cwd=tmp_path,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        imported = {
            line.rsplit("|", 1)[1].strip()
            for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        }
        assert "_eventbus_cli" in imported
        heavy = sorted(m for m in imported if m.split(".")[0] in {"eventbus", "trio", "attrs"})
        assert not heavy, f"eventbus {' '.join(args)} imported {heavy}"


def test_a_command_imports_the_package_only_when_it_runs(tmp_path: Path) -> None:
    code = (
        "import sys, _eventbus_cli\n"
        "parser = _eventbus_cli.build_parser()\n"
        "parser.parse_args(['graph', '--format', 'dot'])\n"
        "assert 'trio' not in sys.modules and 'eventbus' not in sys.modules, sorted(sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
