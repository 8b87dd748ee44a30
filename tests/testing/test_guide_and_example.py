"""The test suites that show the kit in use run here, under pytest, in subprocesses.

- ``docs/examples/testing_tests/``: the pytest snippets of ``docs/testing.md``
  (the guide's script snippets, ``docs/examples/testing_<n>.py``, are run by
  ``tests/test_docs_examples.py`` like every other page's);
- ``examples/plugins/eventbus-audit/tests/``: the example plugin package's own
  tests, written with the kit, run with the package's sources on the path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "testing.md"
GUIDE_TESTS = REPO / "docs" / "examples" / "testing_tests"
AUDIT = REPO / "examples" / "plugins" / "eventbus-audit"


def pytest_in_subprocess(path: Path, *, cwd: Path, pythonpath: list[Path]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EVENTBUS_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"pytest {path}:\n{result.stdout}\n{result.stderr}"


def test_the_guides_tests_pass() -> None:
    pytest_in_subprocess(GUIDE_TESTS, cwd=REPO, pythonpath=[REPO])


@pytest.mark.parametrize("path", sorted(GUIDE_TESTS.glob("test_*.py")), ids=lambda p: p.name)
def test_each_of_the_guides_tests_is_in_the_guide(path: Path) -> None:
    rel = path.relative_to(REPO).as_posix()
    assert f'--8<-- "{rel}"' in GUIDE.read_text(encoding="utf-8")


@pytest.mark.skipif(not (AUDIT / "tests").is_dir(), reason="the example plugin has no tests")
def test_the_example_plugins_tests_pass() -> None:
    pytest_in_subprocess(AUDIT / "tests", cwd=AUDIT, pythonpath=[REPO, AUDIT])
