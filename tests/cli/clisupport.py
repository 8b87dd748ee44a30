"""Running the installed ``eventbus`` console script, as a user does, in a subprocess.

The script is the one pip installed next to the interpreter running the tests
(``pip install -e .``). Fixture plugin distributions (``shop.py``) are real
``*.dist-info`` directories on ``PYTHONPATH``; the command runs in a
directory of its own, so that no ``eventbus.toml`` or ``pyproject.toml`` of
the repository is read.

The fixtures are imported by the test modules that use them (``from
clisupport import project_fixture  # noqa: F401``), as ``distinfo``'s are:
a ``conftest.py`` here would shadow the ``conftest`` module other test
directories import helpers from.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest
import shop

if TYPE_CHECKING:
    import signal

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMEOUT = 60

#: Environment variables that would change what the command prints.
_SCRUBBED = (
    "NO_COLOR",
    "FORCE_COLOR",
    "TERM",
    "COLUMNS",
    "PYTHONPATH",
    "EVENTBUS_DISABLE_PLUGIN_AUTOLOAD",
)


def console_script() -> str:
    bindir = Path(sys.executable).parent
    script = shutil.which("eventbus", path=str(bindir))
    if script is None:
        pytest.fail(f"no `eventbus` script in {bindir}: install the project (pip install -e .)")
    return script


def environment(site: Path | None = None, **changes: str | None) -> dict[str, str]:
    """The environment of a command run: fixed width, no colour hints, ``site`` on the path."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["COLUMNS"] = "80"
    env["PYTHONUNBUFFERED"] = "1"
    if site is not None:
        env["PYTHONPATH"] = str(site)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_cli(
    *args: str, cwd: Path, site: Path | None = None, **env: str | None
) -> subprocess.CompletedProcess[str]:
    """``eventbus ARGS`` to completion; stdout and stderr captured."""
    return subprocess.run(
        [console_script(), *args],
        cwd=cwd,
        env=environment(site, **env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )


class Server:
    """``eventbus run`` in the background; its log lines (stderr) read as they come."""

    def __init__(self, *args: str, cwd: Path, site: Path, **env: str | None) -> None:
        self.proc = subprocess.Popen(
            [console_script(), "run", *args],
            cwd=cwd,
            env=environment(site, **env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        #: What it printed on stdout (read by ``finish``).
        self.stdout = ""
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> str:
        """Read log lines until one contains ``text``; return it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {text!r} in time:\n" + "\n".join(self.lines))
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"the process ended (exit {self.proc.wait()}) before a line with {text!r}:\n"
                    + "\n".join(self.lines)
                )
            self.lines.append(line)
            if text in line:
                return line

    def send(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def finish(self, timeout: float = TIMEOUT) -> int:
        """Wait for the exit; every remaining log line is read into ``lines``."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout)
        while True:
            line = self._queue.get_nowait() if not self._queue.empty() else None
            if line is None:
                break
            self.lines.append(line)
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()
        self._close()
        return code

    def _close(self) -> None:
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        self._close()


_STAMP_LEVEL = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} [A-Z]+ +")


def messages(lines: list[str]) -> list[str]:
    """The log lines without their time stamp and level: ``logger: message``."""
    return [_STAMP_LEVEL.sub("", line) for line in lines]


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(name="shop_site", scope="session")
def shop_site_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding every shop distribution, for ``PYTHONPATH`` (read only)."""
    return shop.install(tmp_path_factory.mktemp("site"))


@pytest.fixture(name="project")
def project_fixture(tmp_path: Path) -> Path:
    """A working directory with the docs' ``eventbus.toml`` (legacy enabled, metrics not)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "eventbus.toml").write_text(shop.CONFIG, encoding="utf-8")
    return root


@pytest.fixture(name="empty_site")
def empty_site_fixture(tmp_path: Path) -> Path:
    """A site directory to install chosen distributions into."""
    root = tmp_path / "site"
    root.mkdir()
    return root
