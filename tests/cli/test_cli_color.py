"""Colour on a real terminal only: a pseudo-terminal (``pty``), and ``script`` for Ctrl-C.

Text output is coloured when stdout (stderr, for ``run``'s log lines) is a
terminal, unless ``NO_COLOR`` is set or ``TERM=dumb``; ``FORCE_COLOR`` turns
it on for a pipe; ``--color`` overrides all of them. Machine formats (json,
mermaid, dot) are never coloured, not even on a terminal.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
import shop
from clisupport import (  # noqa: F401 - fixtures
    ANSI,
    TIMEOUT,
    console_script,
    environment,
    project_fixture,
    run_cli,
    shop_site_fixture,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

TEXT_COMMANDS = [["plugins"], ["graph"], ["check"], ["demo"]]
MACHINE_COMMANDS = [
    ["plugins", "--format", "json"],
    ["check", "--format", "json"],
    ["graph", "--format", "mermaid"],
    ["graph", "--format", "dot"],
]


def on_terminal(args: list[str], cwd: Path, site: Path, **env: str | None) -> tuple[int, str]:
    """Run ``eventbus ARGS`` with stdout and stderr on a pseudo-terminal; return what it wrote."""
    import pty

    main, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [console_script(), *args],
            cwd=cwd,
            env=environment(site, **{"TERM": "xterm-256color", **env}),
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=secondary,
        )
    finally:
        os.close(secondary)
    chunks = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=TIMEOUT)
    finally:
        os.close(main)
    # The terminal turns "\n" into "\r\n".
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture
def clean_project(project: Path) -> Path:
    (project / "eventbus.toml").write_text(shop.CLEAN_CONFIG, encoding="utf-8")
    return project


@pytest.mark.parametrize("args", TEXT_COMMANDS, ids=" ".join)
def test_text_is_coloured_on_a_terminal(
    clean_project: Path, shop_site: Path, args: list[str]
) -> None:
    code, out = on_terminal(args, clean_project, shop_site)
    assert code == 0, out
    assert ANSI.search(out)
    if args != ["demo"]:  # the demo prints timings, which differ from run to run
        piped = run_cli(*args, cwd=clean_project, site=shop_site)
        # Colour changes nothing but the colour.
        assert ANSI.sub("", out) == piped.stdout


@pytest.mark.parametrize("args", TEXT_COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    "env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}, {"NO_COLOR": "1", "FORCE_COLOR": "1"}], ids=str
)
def test_no_color_and_dumb_terminals_get_plain_text(
    clean_project: Path, shop_site: Path, args: list[str], env: dict[str, str]
) -> None:
    code, out = on_terminal(args, clean_project, shop_site, **env)
    assert code == 0, out
    assert not ANSI.search(out)


@pytest.mark.parametrize("args", TEXT_COMMANDS, ids=" ".join)
def test_color_never_on_a_terminal(clean_project: Path, shop_site: Path, args: list[str]) -> None:
    code, out = on_terminal([*args, "--color=never"], clean_project, shop_site)
    assert code == 0, out
    assert not ANSI.search(out)


@pytest.mark.parametrize("args", TEXT_COMMANDS, ids=" ".join)
def test_force_color_colours_a_pipe(clean_project: Path, shop_site: Path, args: list[str]) -> None:
    result = run_cli(*args, cwd=clean_project, site=shop_site, FORCE_COLOR="1")
    assert result.returncode == 0, result.stderr
    assert ANSI.search(result.stdout)


@pytest.mark.parametrize("args", MACHINE_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("color", ["auto", "always"])
def test_machine_formats_are_never_coloured_on_a_terminal(
    clean_project: Path, shop_site: Path, args: list[str], color: str
) -> None:
    code, out = on_terminal([*args, f"--color={color}"], clean_project, shop_site)
    assert code == 0, out
    assert not ANSI.search(out)


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script`")
def test_run_on_a_terminal_colours_its_log_and_stops_on_a_real_ctrl_c(
    clean_project: Path, shop_site: Path
) -> None:
    # `script` gives the command a terminal of its own, whose line discipline
    # turns the ^C byte written to it into SIGINT for the foreground process
    # group. `script` starts the command through `$SHELL -c` (or /bin/sh);
    # `exec` makes `eventbus` replace that shell, so the status is its own:
    # a shell such as dash waits in the foreground and dies of the SIGINT.
    command = "exec " + shlex.join([console_script(), "run"])
    proc = subprocess.Popen(
        ["script", "-qfec", command, os.devnull],
        cwd=clean_project,
        env=environment(shop_site, TERM="xterm-256color"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        seen = b""
        deadline = time.monotonic() + TIMEOUT
        while b"ready" not in seen and time.monotonic() < deadline:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            seen += chunk
        assert b"ready" in seen, seen.decode(errors="replace")
        proc.stdin.write(b"\x03")
        proc.stdin.flush()
        rest, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = (seen + rest).decode().replace("\r\n", "\n")
    assert proc.returncode == 0, out
    plain = ANSI.sub("", out)
    assert "SIGINT received: stopping the plugins" in plain
    assert "plugin 'audit' stopped" in plain
    assert "\x1b[32mINFO" in out  # the level, in green
