"""``docs/cli.md`` shows the real output of every command, and cannot drift from it.

Each block of the page that follows a ``<!-- cli: NAME -->`` line is the
output of the command that :data:`BLOCKS` names, run here against the shop
fixture distributions (``shop.py``) in a directory holding the page's
``eventbus.toml``. The test compares every block with a fresh run; times
(log time stamps, the demo's timings) are masked on both sides, and the
demo, whose hook section depends on scheduling, is compared line by line
as a subset.

To regenerate the page's blocks after changing an output, run::

    EVENTBUS_UPDATE_DOCS=1 pytest tests/cli/test_cli_docs.py
"""

from __future__ import annotations

import os
import re
import shlex
import signal
from pathlib import Path

import attrs
import pytest
import shop
from clisupport import (
    Server,
    run_cli,
    shop_site_fixture,  # noqa: F401 - fixtures
)
from mermaid_grammar import parse

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
UPDATE = bool(os.environ.get("EVENTBUS_UPDATE_DOCS"))

# The block's body: every line up to the closing fence (none starts with ```).
_MARKER = re.compile(
    r"<!-- cli: (?P<name>[\w-]+) -->\n(?P<fence>```\w*)\n(?P<body>(?:(?!```).*\n)*?)```"
)
_CLOCK = re.compile(r"\b\d\d:\d\d:\d\d\.\d{3}\b")
_SECONDS = re.compile(r"\b\d+\.\d+s\b")


@attrs.frozen
class Block:
    """One command whose output a block of the page shows."""

    args: tuple[str, ...]
    config: str = shop.CLEAN_CONFIG
    #: ``console``: a ``$ eventbus ...`` line, then the output; else the output alone.
    fence: str = "console"
    #: Append ``$ echo $?`` and the exit status.
    status: bool = False
    #: Compare loosely (each line of the page must be a line of the output).
    loose: bool = False


#: A config with one plugin, for a JSON document short enough to read.
ONE_TOML = 'autoload = false\n\n[plugins.inventory]\npath = "shop_inventory:Inventory"\n'

BLOCKS = {
    "help": Block(("--help",)),
    "toml": Block((), config=shop.CONFIG, fence="toml"),
    "toml-clean": Block((), fence="toml"),
    "toml-one": Block((), config=ONE_TOML, fence="toml"),
    "plugins": Block(("plugins",), config=shop.CONFIG),
    "plugins-json": Block(("plugins", "--format", "json", "--config", "one.toml")),
    "check": Block(("check",), config=shop.CONFIG, status=True),
    "check-clean": Block(("check",), status=True),
    "check-json": Block(("check", "--format", "json"), config=shop.CONFIG, status=True),
    "graph": Block(("graph",)),
    "graph-event": Block(("graph", "--event", "shop.Order*")),
    "graph-mermaid": Block(("graph", "--format", "mermaid"), fence="mermaid"),
    "graph-dot": Block(("graph", "--format", "dot", "--event", "shop.OrderPaid")),
    "run": Block(("run",)),
    "demo": Block(("demo",), loose=True),
}


def _run_server(cwd: Path, site: Path) -> str:
    server = Server(cwd=cwd, site=site)
    try:
        server.wait_for("ready")
        server.send(signal.SIGINT)
        assert server.finish() == 0, "\n".join(server.lines)
    finally:
        server.kill()
    return "\n".join(server.lines)


def render(name: str, cwd: Path, site: Path) -> str:
    """The body of block ``name``, from a fresh run."""
    block = BLOCKS[name]
    (cwd / "eventbus.toml").write_text(block.config, encoding="utf-8")
    (cwd / "one.toml").write_text(ONE_TOML, encoding="utf-8")
    if block.fence == "toml":
        return block.config.rstrip("\n")
    if block.args == ("run",):
        output = _run_server(cwd, site)
        code = 0
    else:
        result = run_cli(*block.args, cwd=cwd, site=site)
        assert result.stderr == "", result.stderr
        output, code = result.stdout.rstrip("\n"), result.returncode
    if block.fence != "console":
        assert code == 0
        return output
    lines = [f"$ eventbus {shlex.join(block.args)}", output]
    if block.status:
        lines += ["$ echo $?", str(code)]
    else:
        assert code == 0, output
    return "\n".join(lines)


# The demo's hook queue depths depend on scheduling too.
_QUEUED = re.compile(r"\b(queued: |queue +)\d+")


def _masked(text: str) -> str:
    text = _SECONDS.sub("N.NNs", _CLOCK.sub("HH:MM:SS.mmm", text))
    return _QUEUED.sub(r"\1N", text)


def _blocks(page: str) -> dict[str, re.Match[str]]:
    found = {m["name"]: m for m in _MARKER.finditer(page)}
    assert len(found) == len(list(_MARKER.finditer(page))), "a block name is used twice"
    return found


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_the_page_has_every_block_once(page: str) -> None:
    assert sorted(_blocks(page)) == sorted(BLOCKS)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_block_is_the_real_output(name: str, page: str, tmp_path: Path, shop_site: Path) -> None:
    found = _blocks(page)[name]
    block = BLOCKS[name]
    assert found["fence"] == f"```{block.fence}"
    fresh = render(name, tmp_path, shop_site)
    if UPDATE:
        current = PAGE.read_text(encoding="utf-8")
        match = _blocks(current)[name]
        PAGE.write_text(
            current[: match.start("body")] + fresh + "\n" + current[match.end("body") :],
            encoding="utf-8",
        )
        return
    shown = found["body"].removesuffix("\n")
    if block.loose:
        produced = set(_masked(fresh).splitlines())
        missing = [line for line in _masked(shown).splitlines() if line not in produced]
        assert not missing, f"docs/cli.md block {name!r} shows lines never printed: {missing}"
        return
    assert _masked(shown) == _masked(fresh), (
        f"docs/cli.md block {name!r} is out of date: run "
        f"EVENTBUS_UPDATE_DOCS=1 pytest tests/cli/test_cli_docs.py"
    )


def test_the_mermaid_block_is_rendered_by_the_page(page: str) -> None:
    block = _blocks(page)["graph-mermaid"]
    assert block["fence"] == "```mermaid"  # GitHub and mkdocs-material draw these
    chart = parse(block["body"])
    assert len(chart.subgraphs) == 3


def test_every_command_has_a_section(page: str) -> None:
    for command in ("plugins", "graph", "check", "run", "demo"):
        assert f"\n## `eventbus {command}`" in page
