"""The pages say what the code does: every snippet is a tested file, every key is listed.

- Each ``python`` code block of a page is a ``--8<--`` include of a file that
  the tests run (tests/test_docs_examples.py), never code typed into the page.
- The configuration reference lists every key of ``BusConfig`` with its real
  default, and the example ``eventbus.toml`` mentions every bus-level key.
- ``eventbus.toml`` fragments shown on a page load as a configuration.
- README.md shows the home page's example, as the file the tests run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import attrs
import pytest

from eventbus import BusConfig
from eventbus._config import load_config

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "examples" not in p.relative_to(DOCS).parts)
_FENCE = re.compile(r"^```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
_INCLUDE = re.compile(r'^--8<-- "[^"]+"$')


def _blocks(page: Path, lang: str) -> list[tuple[int, str]]:
    return _blocks_of(page.read_text(encoding="utf-8"), lang)


def _blocks_of(text: str, lang: str) -> list[tuple[int, str]]:
    """(line, body) of each fenced block of ``lang`` in ``text``."""
    return [
        (text.count("\n", 0, m.start()) + 1, m.group("body"))
        for m in _FENCE.finditer(text)
        if m.group("lang") == lang
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_python_blocks_are_included_from_tested_files(page: Path) -> None:
    typed = [
        line
        for line, body in _blocks(page, "python")
        if not all(_INCLUDE.match(row.strip()) for row in body.strip().splitlines())
    ]
    assert not typed, (
        f"{page.name}: the python blocks at lines {typed} are typed into the page; put the "
        f"code in docs/examples/ (run by the tests) and include it with --8<--"
    )


# --- the configuration reference -------------------------------------------------------

#: Fields of BusConfig that are not keys of a configuration.
NOT_KEYS = {"source"}
CONFIG_PAGE = DOCS / "configuration.md"
EXAMPLE_TOML = DOCS / "examples" / "eventbus.toml"


def _keys() -> list[Any]:
    return [a for a in attrs.fields(BusConfig) if a.name not in NOT_KEYS]


def _shown_default(field: Any) -> str:
    """How the page writes the default: in TOML, as a reader would type it."""
    default = field.default
    value = default.factory() if isinstance(default, attrs.Factory) else default
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return f"`{list(value)}`"
    return f"`{value}`"


def _table_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`(\w+)`", cells[0]) if line.startswith("|") else None
        if match and match.group(1) not in rows:
            rows[match.group(1)] = cells
    return rows


def test_the_reference_lists_every_key_with_its_default() -> None:
    text = CONFIG_PAGE.read_text(encoding="utf-8")
    section = text[text.index("## Bus-level keys") : text.index("## `[plugins.NAME]` tables")]
    rows = _table_rows(section)
    for field in _keys():
        assert field.name in rows, f"configuration.md has no row for {field.name!r}"
        default = rows[field.name][2]
        assert default.startswith(_shown_default(field)), (
            f"{field.name}: the page says the default is {default!r}, "
            f"the code says {_shown_default(field)}"
        )
    assert set(rows) == {f.name for f in _keys()}, "a row for a key that does not exist"


def test_the_plugin_table_keys_are_listed() -> None:
    from eventbus._config import PLUGIN_RESERVED_KEYS

    text = CONFIG_PAGE.read_text(encoding="utf-8")
    section = text[text.index("## `[plugins.NAME]` tables") : text.index("## Errors")]
    assert set(_table_rows(section)) == set(PLUGIN_RESERVED_KEYS)


def test_the_example_file_mentions_every_bus_level_key() -> None:
    text = EXAMPLE_TOML.read_text(encoding="utf-8")
    for field in _keys():
        if field.name == "plugins":
            assert re.search(r"^\[plugins\.\w+\]", text, re.MULTILINE)
            continue
        # Set, or shown commented out when its default is "absent".
        assert re.search(rf"^#? ?{field.name} = ", text, re.MULTILINE), field.name


def test_the_example_file_sets_what_its_comments_say() -> None:
    config = load_config(EXAMPLE_TOML)
    data = tomllib.loads(EXAMPLE_TOML.read_text(encoding="utf-8"))
    for field in _keys():
        if field.name in data and field.name != "plugins":
            value = getattr(config, field.name)
            expected = data[field.name]
            assert value == (tuple(expected) if isinstance(expected, list) else expected)
    assert config.plugins["greeter"].options == {"greeting": "Hi"}
    assert config.plugins["noisy"].enabled is False


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_eventbus_toml_fragments_on_pages_load(page: Path, tmp_path: Path) -> None:
    for line, body in _blocks(page, "toml"):
        if not body.startswith("# eventbus.toml"):
            continue
        path = tmp_path / "eventbus.toml"
        path.write_text(body, encoding="utf-8")
        try:
            load_config(path)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{page.name}, the eventbus.toml block at line {line}: {exc}")


# --- the README -------------------------------------------------------------------------


def test_the_readme_shows_the_home_page_example() -> None:
    """README.md's example is docs/examples/index_1.py, without its snippet markers."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Example") : readme.index("## Documentation")]
    (block,) = [body for _, body in _blocks_of(section, "python")]
    example = (DOCS / "examples" / "index_1.py").read_text(encoding="utf-8")
    shown = "".join(line for line in example.splitlines(True) if "--8<--" not in line)
    assert block == shown, "README.md's example differs from docs/examples/index_1.py"
    code = shown[: shown.index("# Output:")].rstrip().splitlines()
    # A short example, for the first screen of the home page: about 15 lines of code.
    assert len([line for line in code if line.strip()]) <= 17, "\n".join(code)
