"""A griffe extension for the API reference: what the docstrings mean, in Markdown.

- The docstrings are Google style, and some name other objects the Sphinx way,
  ``:func:`plugin_harness``` or ``:class:`~eventbus.BusConfig```. Markdown has
  no such roles and would print them as they are; this turns each into inline
  code (``plugin_harness``, ``BusConfig``), the way the rest of a docstring
  shows names.
- griffe reads source code and does not know attrs: the value it shows for a
  field ``x: int = attrs.field(default=3, validator=_check)`` is the whole
  call, private validator included. This shows the default, ``3``, instead
  (``factory=dict`` shows as ``dict()``).

mkdocs.yml loads it (``plugins.mkdocstrings.handlers.python.options.extensions``);
mkdocs does not publish it (``exclude_docs``).
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|attr|data|exc|mod|obj|const):`(?P<target>[^`]+)`")


def _code(match: re.Match[str]) -> str:
    target = match.group("target").strip()
    if target.startswith("~"):  # Sphinx: show the last component only
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target.lstrip('.')}`"


def convert(text: str) -> str:
    """``:func:`x``` -> ```x```; everything else unchanged."""
    return _ROLE.sub(_code, text)


def field_default(value: str) -> str | None:
    """``attrs.field(default=3, ...)`` -> ``"3"``; None when it is not such a call."""
    if not value.startswith(("attrs.field(", "attr.ib(", "attr.field(", "field(")):
        return None
    try:
        call = ast.parse(value, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call):
        return None
    for keyword in call.keywords:
        if keyword.arg == "default":
            return ast.unparse(keyword.value)
        if keyword.arg == "factory":
            return f"{ast.unparse(keyword.value)}()"
    return None


class MarkdownDocstrings(griffe.Extension):
    """Sphinx roles in docstrings as inline code; attrs fields show their default."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
        if isinstance(obj, griffe.Attribute) and obj.value is not None:
            default = field_default(str(obj.value))
            if default is not None:
                obj.value = default
