"""The documentation site builds, and its pages render in a real browser, offline.

``mkdocs build --strict`` writes the site into a temporary directory; a
``http.server`` in a thread serves it on 127.0.0.1 (a free port); Debian's
``chromium`` (``apt-get install chromium``; nothing is downloaded here) opens
it headless, with every host name but 127.0.0.1 made unresolvable
(``--host-resolver-rules``), so the pages get nothing from the network:

- the home page, once with ``--dump-dom`` to read the DOM it rendered (the
  title and every entry of the navigation in ``mkdocs.yml``) and once with
  ``--screenshot`` for a PNG, which must be a real picture of the page (a
  blank page is a PNG of about 5 KB);
- the pages with Mermaid diagrams: Material draws each one with the vendored
  ``docs/assets/javascripts/mermaid.min.js`` into a *closed* shadow root,
  which ``--dump-dom`` does not show. So the server adds to those pages a
  probe script (only when asked with ``?shadow-probe``) that copies what is
  drawn into a shadow root to an attribute of its host; the DOM must then
  hold an ``<svg>`` diagram, with the labels of its source, for every block.

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
import urllib.parse
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
#: The vendored Mermaid (see the comment on extra_javascript in mkdocs.yml).
MERMAID = REPO / "docs" / "assets" / "javascripts" / "mermaid.min.js"
MERMAID_VERSION = "11.17.2"
#: Every host name but the local server's fails to resolve: a page that needs the
#: network (a CDN's script, a web font) is caught here, on any machine.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
#: Asked for with this query, an HTML page comes with _SHADOW_PROBE in its <head>.
SHADOW_PROBE_QUERY = "shadow-probe"
#: Runs before any script of the page: whatever is drawn into a shadow root (Material
#: puts each Mermaid diagram into a closed one) is copied to the host's data-shadow
#: attribute, which --dump-dom shows. It only observes: nothing else changes.
_SHADOW_PROBE = b"""<script>
(() => {
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    const copy = () => { this.dataset.shadow = root.innerHTML; };
    new MutationObserver(copy).observe(root, { childList: true, subtree: true });
    return root;
  };
})();
</script>"""


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


class _Server(http.server.ThreadingHTTPServer):
    #: The path of every request, in order (the tests read which files were asked for).
    requested: list[str]


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        self.server.requested.append(parts.path)
        if parts.query != SHADOW_PROBE_QUERY:
            super().do_GET()
            return
        page = Path(self.translate_path(parts.path))
        if page.is_dir():
            page /= "index.html"
        body = page.read_bytes().replace(b"<head>", b"<head>" + _SHADOW_PROBE, 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[_Server]:
    """The site, served on 127.0.0.1 at a free port for the module's tests."""
    handler = functools.partial(_Handler, directory=str(site))
    with _Server(("127.0.0.1", 0), handler) as server:
        server.requested = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            thread.join(timeout=10)


@pytest.fixture(scope="module")
def url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"


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
            OFFLINE,
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


#: The pages the site promises, by file: the guides, the plugin author's pages,
#: operations, the project pages and the API reference of every public package.
PROMISED_PAGES = (
    "index.md",
    "quickstart.md",
    "concepts.md",
    "ordering.md",
    "scopes.md",
    "timeouts.md",
    "errors.md",
    "observability.md",
    "plugins.md",
    "packaging.md",
    "configuration.md",
    "testing.md",
    "cli.md",
    "distributed.md",
    "migrating.md",
    "benchmarks.md",
    "design.md",
    "changelog.md",
    "reference/eventbus.md",
    "reference/testing.md",
    "reference/redis.md",
)


def _nav_files(nav: list[Any]) -> list[str]:
    files: list[str] = []
    for item in nav:
        for value in item.values() if isinstance(item, dict) else [item]:
            files.extend(_nav_files(value) if isinstance(value, list) else [value])
    return files


def test_the_navigation_has_every_promised_page() -> None:
    _require("mkdocs", importlib.util.find_spec("mkdocs") is not None, "pip install --group docs")
    from mkdocs.config import load_config

    files = _nav_files(load_config(str(REPO / "mkdocs.yml"))["nav"])
    missing = [page for page in PROMISED_PAGES if page not in files]
    assert not missing, f"mkdocs.yml's nav lacks {missing}"
    pages = sorted(p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md"))
    assert sorted(files) == pages, "every page is in the nav once, and the nav names no other"


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


def test_mermaid_is_vendored_with_its_licence(site: Path) -> None:
    from mkdocs.config import load_config

    config = load_config(str(REPO / "mkdocs.yml"))
    assert [str(s) for s in config["extra_javascript"]] == ["assets/javascripts/mermaid.min.js"]
    assert f'{{version:"{MERMAID_VERSION}"}}' in MERMAID.read_text(encoding="utf-8")
    licence = MERMAID.with_name("mermaid.LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("The MIT License"), licence[:80]
    # Each page loads it after Material's bundle, with a plain (blocking) <script>.
    html = (site / "concepts" / "index.html").read_text(encoding="utf-8")
    bundle = html.index('<script src="../assets/javascripts/bundle.')
    assert html.index('<script src="../assets/javascripts/mermaid.min.js"></script>') > bundle


class _Diagrams(HTMLParser):
    """What the shadow probe copied from each Mermaid host, and the blocks left undrawn."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: list[str] = []
        self.code_blocks: list[str] = []  # the text of every <pre>
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "div" and "mermaid" in (attributes.get("class") or "").split():
            self.drawn.append(attributes.get("data-shadow") or "")
        if tag == "pre":
            self._in_pre = True
            self.code_blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.code_blocks[-1] += data


@pytest.mark.parametrize(
    ("page", "kind", "labels"),
    [
        ("concepts", "sequence", ["bus.emit", "hook workers", "put the piped event"]),
        ("cli", "flowchart-v2", ["shop.OrderPlaced", "Inventory.check_stock", "Mailer.archive"]),
    ],
)
def test_mermaid_diagrams_render_offline(
    site: Path, server: _Server, url: str, tmp_path: Path, page: str, kind: str, labels: list[str]
) -> None:
    chromium = _chromium()
    blocks = (site / page / "index.html").read_text(encoding="utf-8").count('<pre class="mermaid">')
    assert blocks, f"{page}: no Mermaid block to draw"
    seen = len(server.requested)
    result = _headless(
        chromium,
        tmp_path / "profile",
        # Virtual time runs ahead only while the page is idle: loading and drawing finish.
        "--virtual-time-budget=10000",
        "--dump-dom",
        f"{url}{page}/?{SHADOW_PROBE_QUERY}",
    )
    assert result.returncode == 0, result.stderr
    # The vendored copy, from the local server, is the Mermaid that drew the diagrams
    # (OFFLINE leaves Material's fallback, a CDN, unreachable).
    assert "/assets/javascripts/mermaid.min.js" in server.requested[seen:]
    diagrams = _Diagrams()
    diagrams.feed(result.stdout)
    undrawn = [
        text.strip()[:40]
        for text in diagrams.code_blocks
        if text.lstrip().startswith(("sequenceDiagram", "flowchart"))
    ]
    assert not undrawn, f"{page}: Mermaid blocks left as code: {undrawn}"
    assert len(diagrams.drawn) == blocks, f"{page}: {len(diagrams.drawn)} of {blocks} drawn"
    for svg in diagrams.drawn:
        assert svg.startswith("<svg"), f"{page}: the shadow root holds {svg[:200]!r}"
        assert f'aria-roledescription="{kind}"' in svg, f"{page}: not a {kind}: {svg[:300]!r}"
    drawn = "".join(diagrams.drawn)
    missing = [label for label in labels if label not in drawn]
    assert not missing, f"{page}: the diagram lacks the labels {missing}"


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
