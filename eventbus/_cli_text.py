"""Text output of the command line: whether to colour, styles, aligned columns.

Colour follows the conventions users expect from pytest, pip and git: on a
terminal only; never when ``NO_COLOR`` is set to anything but ``""``
(https://no-color.org) or ``TERM=dumb``; ``FORCE_COLOR`` forces it on when
the output is not a terminal; ``--color=always``/``never`` overrides all of
them. Machine formats (json, mermaid, dot) never go through here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO, final

__all__ = ["Cell", "Style", "format_seconds", "one_line", "shown_path", "table", "use_color"]


def use_color(choice: str, stream: TextIO) -> bool:
    """Whether to colour what goes to ``stream``.

    Args:
        choice: ``"always"``, ``"never"`` or ``"auto"`` (the ``--color`` option).
        stream: Where the text goes (stdout, or stderr for log lines).
    """
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


@final
class Style:
    """ANSI styles, or plain text when colour is off."""

    __slots__ = ("color",)

    def __init__(self, *, color: bool) -> None:
        self.color = color

    def paint(self, code: str, text: str) -> str:
        if not self.color or not code or not text:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.paint("1", text)

    def dim(self, text: str) -> str:
        return self.paint("2", text)

    def red(self, text: str) -> str:
        return self.paint("31", text)

    def green(self, text: str) -> str:
        return self.paint("32", text)

    def yellow(self, text: str) -> str:
        return self.paint("33", text)

    def cyan(self, text: str) -> str:
        return self.paint("36", text)


#: A table cell: its text, and the ANSI code to paint it with ("" for none).
Cell = tuple[str, str]


def table(rows: Sequence[Sequence[Cell | str]], style: Style, *, indent: str = "") -> list[str]:
    """Align ``rows`` in columns (widths from the plain text, then painted).

    The last column is not padded, so lines carry no trailing spaces.
    """
    cells = [[c if isinstance(c, tuple) else (c, "") for c in row] for row in rows]
    widths: list[int] = []
    for row in cells:
        for i, (text, _) in enumerate(row):
            if i == len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(text))
    lines = []
    for row in cells:
        parts = []
        for i, (text, code) in enumerate(row):
            padding = "" if i == len(row) - 1 else " " * (widths[i] - len(text))
            parts.append(style.paint(code, text) + padding)
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines


def format_seconds(seconds: float | None, *, none: str = "no timeout", prefix: str = "") -> str:
    """``2s``, ``0.25s`` (after ``prefix``); ``none`` for no limit."""
    if seconds is None:
        return none
    return f"{prefix}{seconds:g}s"


def one_line(text: str) -> str:
    """An error message on one line: its line breaks and list markers folded."""
    parts = [part.strip().removeprefix("- ") for part in text.splitlines()]
    return "; ".join(part for part in parts if part).replace(":;", ":")


def shown_path(path: str | None) -> str | None:
    """A file's path as the user would type it: relative when under the working directory."""
    if path is None or not os.path.isabs(path):
        return path
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative
