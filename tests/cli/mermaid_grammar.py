"""A parser for the part of Mermaid's flowchart grammar that ``eventbus graph`` writes.

It follows Mermaid's own grammar (``packages/mermaid/src/diagrams/flowchart/
parser/flow.jison``), restricted to the statements used, and is stricter
than Mermaid where Mermaid is lenient in surprising ways:

- the first statement is ``flowchart DIR`` (``GRAPH DIR``);
- ``subgraph ID ["TITLE"]`` ... ``end`` (``subgraph SPACE textNoTags SQS text SQE``),
  properly nested; ``direction DIR`` inside;
- a vertex ``ID<open>"TEXT"<close>`` for the shapes ``[ ]`` (square),
  ``( )`` (round), ``(( ))`` (circle) and ``[/ /]`` (lean right);
- a link ``ID --> ID`` or ``ID -.-> ID`` (``LINK``), both ends declared;
- identifiers are ``NODE_STRING``s that the lexer cannot read as a keyword
  first: its keyword rules (``end``, ``style``, ``class``, ``default``...)
  match a prefix of a word, so an id such as ``endpoint`` or ``classify``
  breaks a diagram;
- a quoted ``STR`` contains no ``"`` (the lexer ends the string there), does
  not start with a backtick (that is a Markdown string), and its ``#``, ``<``
  and ``>`` appear only in entity codes (``#34;``) and ``<br/>``;
- no line of a label starts like a Markdown list item (``1. ``, ``- ``):
  Mermaid renders labels as Markdown and draws "Unsupported markdown: list"
  instead (mermaid-js/mermaid#6111).

:func:`parse` raises :class:`MermaidSyntaxError` naming the line and the rule
broken, and returns the diagram's nodes, edges and subgraphs otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DIRECTIONS = ("TB", "TD", "BT", "RL", "LR")

# Lexer rules of flow.jison that match before NODE_STRING, at a word's start.
_KEYWORD_PREFIX = re.compile(
    r"(?:end\b|subgraph|graph|flowchart|style|default|linkStyle|interpolate|classDef|class"
    r"|click|call\s|href\s|direction\s|accTitle|accDescr|_self|_blank|_parent|_top)"
)
_ID = re.compile(r"[A-Za-z0-9_]+")
_STR = r'"(?P<text>[^"]*)"'
_SHAPES = {
    "circle": (r"\(\(", r"\)\)"),
    "lean_right": (r"\[/", r"/\]"),
    "square": (r"\[", r"\]"),
    "round": (r"\(", r"\)"),
}
_VERTEX = re.compile(
    r"(?P<id>[A-Za-z0-9_]+)(?:"
    + "|".join(
        f"(?P<{name}>{o}{_STR.replace('text', 'text_' + name)}{c})"
        for name, (o, c) in _SHAPES.items()
    )
    + r")"
)
_LINK = re.compile(r"(?P<a>[A-Za-z0-9_]+) (?P<arrow>-->|-\.->) (?P<b>[A-Za-z0-9_]+)")
_SUBGRAPH = re.compile(r"subgraph (?P<id>[A-Za-z0-9_]+) \[" + _STR + r"\]")
_ENTITY = re.compile(r"#(?:\d+|[A-Za-z]+);")


class MermaidSyntaxError(ValueError):
    def __init__(self, number: int, line: str, problem: str) -> None:
        super().__init__(f"line {number}: {problem}: {line!r}")


@dataclass
class Flowchart:
    direction: str
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (shape, text)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, arrow)
    subgraphs: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id -> (title, ids)


def _check_id(identifier: str, number: int, line: str) -> None:
    if not _ID.fullmatch(identifier):
        raise MermaidSyntaxError(number, line, f"{identifier!r} is not a NODE_STRING")
    if _KEYWORD_PREFIX.match(identifier):
        raise MermaidSyntaxError(number, line, f"the id {identifier!r} starts with a keyword")


# Mermaid renders label text as Markdown: a line like "1. x" or "- x" becomes a
# list, which it does not support ("Unsupported markdown: list").
_LIST_ITEM = re.compile(r"\s*(?:\d+[.)]|[-*+])\s")


def _check_text(text: str, number: int, line: str) -> None:
    if text.startswith("`"):
        raise MermaidSyntaxError(number, line, "a string starting with ` is a Markdown string")
    for part in text.split("<br/>"):
        if _LIST_ITEM.match(unescape(part)):
            raise MermaidSyntaxError(number, line, f"{part!r} reads as a Markdown list item")
    rest = _ENTITY.sub("", text.replace("<br/>", ""))
    for char in "#<>":
        if char in rest:
            raise MermaidSyntaxError(number, line, f"a bare {char!r} in a label")


def parse(source: str) -> Flowchart:
    """Parse ``source``; raise :class:`MermaidSyntaxError` on anything outside the subset."""
    lines = [(n, raw.strip()) for n, raw in enumerate(source.splitlines(), 1) if raw.strip()]
    if not lines:
        raise MermaidSyntaxError(0, "", "empty diagram")
    number, first = lines[0]
    head = first.split()
    if len(head) != 2 or head[0] != "flowchart" or head[1] not in DIRECTIONS:
        raise MermaidSyntaxError(number, first, "expected 'flowchart DIR'")
    chart = Flowchart(direction=head[1])
    open_subgraphs: list[str] = []
    for number, line in lines[1:]:
        if line == "end":
            if not open_subgraphs:
                raise MermaidSyntaxError(number, line, "'end' without a subgraph")
            open_subgraphs.pop()
            continue
        if line.startswith("direction "):
            if not open_subgraphs or line.split()[1:] not in ([d] for d in DIRECTIONS):
                raise MermaidSyntaxError(number, line, "bad direction statement")
            continue
        if match := _SUBGRAPH.fullmatch(line):
            identifier = match["id"]
            _check_id(identifier, number, line)
            _check_text(match["text"], number, line)
            if identifier in chart.subgraphs or identifier in chart.nodes:
                raise MermaidSyntaxError(number, line, f"the id {identifier!r} is taken")
            chart.subgraphs[identifier] = (match["text"], [])
            open_subgraphs.append(identifier)
            continue
        if match := _LINK.fullmatch(line):
            for end in (match["a"], match["b"]):
                if end not in chart.nodes:
                    raise MermaidSyntaxError(number, line, f"link to undeclared node {end!r}")
            chart.edges.append((match["a"], match["b"], match["arrow"]))
            continue
        if match := _VERTEX.fullmatch(line):
            identifier = match["id"]
            _check_id(identifier, number, line)
            shape = next(name for name in _SHAPES if match[name] is not None)
            text = match[f"text_{shape}"]
            _check_text(text, number, line)
            if identifier in chart.nodes or identifier in chart.subgraphs:
                raise MermaidSyntaxError(number, line, f"the id {identifier!r} is taken")
            chart.nodes[identifier] = (shape, text)
            if open_subgraphs:
                chart.subgraphs[open_subgraphs[-1]][1].append(identifier)
            continue
        raise MermaidSyntaxError(number, line, "not a statement of the subset")
    if open_subgraphs:
        raise MermaidSyntaxError(
            lines[-1][0], lines[-1][1], f"subgraph {open_subgraphs[-1]} not closed"
        )
    return chart


def unescape(text: str) -> str:
    """A label as Mermaid shows it: entity codes decoded, ``<br/>`` as a line break."""
    text = text.replace("<br/>", "\n")
    return re.sub(r"#(\d+);", lambda m: chr(int(m[1])), text)
