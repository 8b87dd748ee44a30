"""Sections of ``docs/benchmarks.md`` that other scripts own, between markers.

``python -m benchmarks`` writes the page; ``python -m benchmarks.bridge`` and
``python -m benchmarks.instructions`` each keep a section of it between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->``, which a rewrite of the
page carries over.
"""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

#: One marked section (any name), markers included.
SECTION = re.compile(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", re.DOTALL)


def write_marked(name: str, text: str) -> None:
    """Put ``text`` on the page as section ``name``: in place of the old one, or at the end."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    marked = f"{start}\n{text.strip()}\n{end}"
    page = PAGE.read_text(encoding="utf-8") if PAGE.exists() else "# Benchmarks\n"
    if start in page and end in page:
        before, _, rest = page.partition(start)
        _, _, after = rest.partition(end)
        page = before + marked + after
    else:
        page = page.rstrip("\n") + "\n\n" + marked + "\n"
    PAGE.write_text(page, encoding="utf-8")


def publish(name: str, text: str, *, write: bool, what: str) -> None:
    """Print ``text``; with ``write``, also make it section ``name`` of the page."""
    print()
    print(text)
    if write:
        write_marked(name, text)
        print(f"wrote the {what} section of {PAGE}")
