"""The example plugin package, pip-installed with the project into a fresh venv.

This is the whole promise of DESIGN section 6 in one test: ``pip install`` a
package that declares an ``eventbus.plugins`` entry point, and a plain
``open_bus()`` runs it, options, lifespan, pipe, listener and hook included.

The venv is new and empty: pip builds both projects from their sources and
installs their dependencies from the package index, exactly as a user's
``pip install`` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import eventbus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plugins" / "eventbus-audit"

pytestmark = pytest.mark.skipif(
    not hasattr(eventbus, "Plugin"),
    reason="eventbus does not export Plugin/pipe/listener/hook yet",
)


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["EVENTBUS_DISABLE_PLUGIN_AUTOLOAD"] = ""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def test_the_example_plugin_installs_and_runs(tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv_python(venv)
    # A real install, as a user does it: both projects are built from their
    # sources (in isolated build environments) with their dependencies.
    run(python, "-m", "pip", "install", "--quiet", ROOT, EXAMPLE, cwd=tmp_path)
    # Run a copy of the demo from an empty directory: only the installed
    # packages can be imported, not the sources next to it.
    demo = tmp_path / "demo.py"
    shutil.copy(EXAMPLE / "demo.py", demo)
    out = run(python, demo, cwd=tmp_path).stdout.splitlines()
    assert out[0] == "[documents] opened (retries=5)"
    assert "plugin audit: eventbus-audit 0.1.0 running" in out
    assert "  from eventbus.plugins:audit = eventbus_audit:AuditPlugin" in out
    assert "  pipe DocumentCreating -> stamp" in out
    assert "  listener DocumentCreated -> index" in out
    assert "  hook DocumentCreated -> audit" in out
    assert "stamped: True" in out
    # The listener ran before emit returned; the hook drained before the
    # lifespan closed the log.
    assert out.index("[documents] indexed: report.pdf") < out.index("emitted DocumentCreated")
    assert out.index("[documents] audited: report.pdf") < out.index(
        "[documents] closed after 2 rows"
    )
    assert out[-1] == "after close: [('audit', 'stopped')]"

    # The plugin's own distribution is what `pip` installed, found by metadata.
    show = run(python, "-m", "pip", "show", "eventbus-audit", cwd=tmp_path).stdout
    assert "Version: 0.1.0" in show
