"""Every example of the documentation runs, and prints what its page says.

Each ``docs/examples/*.py`` is a complete script, included into a page with
``--8<--``. It runs here in a subprocess, as a reader would run it; when it
ends with an ``# Output:`` comment block, its standard output must be exactly
those lines. An example that defines ``test_*`` functions is also run under
pytest, since the page presents it as a test.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "docs" / "examples").glob("*.py"))
TIMEOUT = 30


def expected_output(source: str) -> list[str] | None:
    """The lines of the trailing ``# Output:`` comment block, or None."""
    lines = source.rstrip("\n").splitlines()
    try:
        start = max(i for i, line in enumerate(lines) if line.strip() == "# Output:")
    except ValueError:
        return None
    block = lines[start + 1 :]
    assert all(line.startswith("#") for line in block), (
        "the '# Output:' block must be the last thing in the file, every line a comment"
    )
    return [line[2:] if line.startswith("# ") else line[1:] for line in block]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # From the repository root, as the pages include them (`open_bus` reads
    # eventbus.toml or pyproject.toml in the working directory).
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_there_are_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path) -> None:
    result = run(str(path.relative_to(REPO)))
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    expected = expected_output(path.read_text(encoding="utf-8"))
    if expected is not None:
        got = [line.rstrip() for line in result.stdout.rstrip("\n").splitlines()]
        assert got == expected, f"{path.name} printed:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize(
    "path",
    [p for p in EXAMPLES if re.search(r"^(async )?def test_", p.read_text(), re.M)],
    ids=lambda p: p.name,
)
def test_example_tests_pass_under_pytest(path: Path) -> None:
    result = run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(path.relative_to(REPO)))
    assert result.returncode == 0, f"{path.name} under pytest:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_included_in_a_page(path: Path) -> None:
    page = REPO / "docs" / f"{path.stem.rsplit('_', 1)[0]}.md"
    rel = path.relative_to(REPO).as_posix()
    assert f'--8<-- "{rel}"' in page.read_text(encoding="utf-8"), f"{page.name} lacks {rel}"


# --- docs/migrating.md: the peer side of each side-by-side pair ------------------------

PEERS = sorted((REPO / "docs" / "examples" / "peers").glob("*.py"))
#: The libraries the peer examples show; the docs dependency group installs them.
PEER_LIBRARIES = ("pluggy", "pyee", "blinker")


def imported_libraries(source: str) -> list[str]:
    return [
        name
        for name in PEER_LIBRARIES
        if re.search(rf"^(import|from) {name}\b", source, re.MULTILINE)
    ]


def test_there_are_peer_examples() -> None:
    assert PEERS
    assert {lib for path in PEERS for lib in imported_libraries(path.read_text())} == set(
        PEER_LIBRARIES
    )


@pytest.mark.parametrize("path", PEERS, ids=lambda p: p.name)
def test_peer_example_prints_what_its_eventbus_side_prints(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for library in imported_libraries(source):
        if importlib.util.find_spec(library) is None:
            message = f"{library} is not installed (pip install --group docs)"
            if os.environ.get("CI"):
                pytest.fail(f"{message}; CI is set, so this is a failure, not a skip")
            pytest.skip(message)
    result = run(str(path.relative_to(REPO)))
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    expected = expected_output(source)
    assert expected is not None, f"{path.name} has no '# Output:' block"
    got = [line.rstrip() for line in result.stdout.rstrip("\n").splitlines()]
    assert got == expected, f"{path.name} printed:\n{result.stdout}\n{result.stderr}"
    # The pair shows the same program: the eventbus side prints the same lines.
    ours = REPO / "docs" / "examples" / path.name
    assert expected_output(ours.read_text(encoding="utf-8")) == expected


@pytest.mark.parametrize("path", PEERS, ids=lambda p: p.name)
def test_peer_example_is_next_to_its_eventbus_side(path: Path) -> None:
    page = (REPO / "docs" / "migrating.md").read_text(encoding="utf-8")
    peer = f'--8<-- "docs/examples/peers/{path.name}"'
    ours = f'--8<-- "docs/examples/{path.name}"'
    assert peer in page, f"migrating.md lacks {peer}"
    assert ours in page, f"migrating.md lacks {ours}"
    assert page.index(peer) < page.index(ours), "the peer side comes first"


# --- configuration files ----------------------------------------------------------------

TOMLS = sorted((REPO / "docs" / "examples").glob("*.toml"))


def test_there_are_example_configurations() -> None:
    assert [p.name for p in TOMLS] == ["eventbus.toml"]


@pytest.mark.parametrize("path", TOMLS, ids=lambda p: p.name)
def test_example_configuration_loads_and_is_shown(path: Path) -> None:
    from eventbus._config import load_config

    config = load_config(path)
    assert config.source == str(path)
    rel = path.relative_to(REPO).as_posix()
    pages = [p for p in (REPO / "docs").glob("*.md") if f'--8<-- "{rel}"' in p.read_text()]
    assert pages, f"no page includes {rel}"
