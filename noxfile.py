"""Developer tasks: ``nox`` runs tests, lint and typing; ``nox -s docs`` / ``nox -s bench``.

Nox reads the dependency groups of pyproject.toml itself
(``nox.project.dependency_groups``), so the sessions work with any pip, even
one that has no ``--group`` option.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"  # nox.project.dependency_groups
nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint", "typing"]

PYPROJECT = nox.project.load_toml("pyproject.toml")

# flake8-async runs standalone (it reads no config file): every rule ruff does not
# cover, plus the checkpoint rules ASYNC910/911 that are off by default.
# ASYNC109 (a `timeout` parameter on an async function) is off: emit(timeout=) and
# wait_for(timeout=) are the public API.
FLAKE8_ASYNC_ARGS = (
    "--enable=ASYNC1,ASYNC2,ASYNC3,ASYNC910,ASYNC911",
    "--disable=ASYNC109",
)


def _groups(*names: str) -> tuple[str, ...]:
    return nox.project.dependency_groups(PYPROJECT, *names)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (arguments go to pytest: ``nox -s tests -- -k demo``)."""
    session.install("-e", ".", *_groups("test"))
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) over everything, flake8-async over eventbus/."""
    session.install(*_groups("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # Standalone flake8-async takes files, not directories.
    sources = sorted(str(path) for path in Path("eventbus").rglob("*.py"))
    session.run("flake8-async", *FLAKE8_ASYNC_ARGS, *sources)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over eventbus/ (configured in pyproject.toml)."""
    session.install("-e", ".", *_groups("typing"))
    session.run("mypy", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with mkdocs, warnings as errors."""
    if not Path("mkdocs.yml").is_file():
        session.error("mkdocs.yml is missing: the docs site has not been set up yet.")
    session.install("-e", ".", *_groups("docs"))
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks against the peers (arguments go to ``python -m benchmarks``)."""
    session.install("-e", ".", *_groups("bench"))
    session.run("python", "-m", "benchmarks", *session.posargs)
