"""The documentation site builds, and its home page renders in a real browser.

``mkdocs build --strict`` writes the site into a temporary directory; a
``http.server`` in a thread serves it on 127.0.0.1 (a free port); Debian's
``chromium`` (``apt-get install chromium``; nothing is downloaded here) opens
the home page headless, once with ``--dump-dom`` to read the DOM it rendered
(the title and every entry of the navigation in ``mkdocs.yml``) and once with
``--screenshot`` for a PNG, which must be a real picture of the page (a blank
page is a PNG of about 5 KB).

Without chromium or mkdocs the tests skip and say what to install, except in
CI (``CI`` set): there a missing tool is a failure, not a skip.
"""

from __future__ import annotations

import ast
import functools
import http.server
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "chromium"
WINDOW = (1280, 900)
#: A blank 1280x900 page is ~5 KB; the home page, with text and code, ~150 KB.
MIN_SCREENSHOT_BYTES = 30_000


def _require(what: str, found: bool, how: str) -> None:
    if found:
        return
    message = f"{what} is not installed ({how})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI is set, so this is a failure, not a skip")
    pytest.skip(message)


def _chromium() -> str:
    path = shutil.which(CHROMIUM)
    _require("chromium", path is not None, "Debian: apt-get install -y chromium")
    assert path is not None
    return path


def _nav_titles(nav: list[Any]) -> list[str]:
    """Every title of the ``nav`` of mkdocs.yml, sections included, in order."""
    titles: list[str] = []
    for item in nav:
        if isinstance(item, dict):
            for title, value in item.items():
                titles.append(title)
                if isinstance(value, list):
                    titles.extend(_nav_titles(value))
    return titles


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built with ``mkdocs build --strict`` from this checkout."""
    missing = [
        name
        for name in ("mkdocs", "material", "mkdocstrings")
        if not importlib.util.find_spec(name)
    ]
    _require(
        " and ".join(missing) or "mkdocs",
        not missing,
        "the docs dependency group: pip install --group docs",
    )
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,  # the snippets' base_path and mkdocstrings' paths are "."
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def url(site: Path) -> Iterator[str]:
    """The site, served on 127.0.0.1 at a free port for the module's tests."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join(timeout=10)


def _headless(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class _Page(HTMLParser):
    """The ``<title>``, and the text of the primary navigation, of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.nav: list[str] = []
        self._in_title = False
        self._nav_depth = 0  # > 0 inside <nav class="md-nav md-nav--primary">

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag == "nav":
            classes = (dict(attrs).get("class") or "").split()
            if self._nav_depth or "md-nav--primary" in classes:
                self._nav_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "nav" and self._nav_depth:
            self._nav_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._nav_depth and data.strip():
            self.nav.append(" ".join(data.split()))


def test_the_home_page_renders_its_title_and_navigation(url: str, tmp_path: Path) -> None:
    from mkdocs.config import load_config

    chromium = _chromium()
    result = _headless(chromium, tmp_path / "profile", "--dump-dom", url)
    assert result.returncode == 0, result.stderr
    page = _Page()
    page.feed(result.stdout)
    config = load_config(str(REPO / "mkdocs.yml"))
    assert page.title.strip() == config["site_name"] == "trio-eventbus"
    assert '<h1 id="trio-eventbus">trio-eventbus' in result.stdout
    titles = _nav_titles(config["nav"])
    assert len(titles) > 20, titles
    missing = [title for title in titles if title not in page.nav]
    assert not missing, f"not in the rendered navigation: {missing}\nrendered: {page.nav}"


def test_the_home_page_screenshot_is_a_picture(url: str, tmp_path: Path) -> None:
    chromium = _chromium()
    png = tmp_path / "home.png"
    result = _headless(chromium, tmp_path / "profile", f"--screenshot={png}", url)
    assert result.returncode == 0, result.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == WINDOW
    assert len(data) > MIN_SCREENSHOT_BYTES, f"{len(data)} bytes: a blank page?"


def test_mermaid_blocks_become_diagrams(site: Path) -> None:
    # superfences' mermaid fence: material draws <pre class="mermaid"> with Mermaid.
    for page in ("concepts", "cli"):
        html = (site / page / "index.html").read_text(encoding="utf-8")
        assert '<pre class="mermaid"><code>' in html, f"{page}: no mermaid diagram"
    cli = (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert '<pre class="mermaid"><code>flowchart' in cli, "eventbus graph --format mermaid"


def _public_names(package: str) -> list[str]:
    """``__all__`` of a package, read from its source (nothing is imported)."""
    init = REPO.joinpath(*package.split("."), "__init__.py")
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            names = ast.literal_eval(node.value)
            assert isinstance(names, list)
            return names
    raise AssertionError(f"{init} has no __all__")


@pytest.mark.parametrize(
    ("package", "page"),
    [
        ("eventbus", "eventbus"),
        ("eventbus.testing", "testing"),
        ("eventbus.bridges.redis", "redis"),
    ],
)
def test_the_api_reference_documents_every_public_name(site: Path, package: str, page: str) -> None:
    html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
    names = _public_names(package)
    assert names
    missing = [name for name in names if f'id="{package}.{name}"' not in html]
    assert not missing, f"docs/reference/{page}.md does not document {missing}"
