"""The ``eventbus`` commands: one function per command, taking the parsed arguments.

The arguments are parsed by the top-level ``_eventbus_cli`` module (the
console script's entry point), which imports this module only once a command
runs; see its docstring for why. Each function returns the exit code:

- ``plugins``, ``graph``: 0; 1 when the configuration is invalid; ``graph``
  gives 2 when ``--event`` matches no subscribed event type.
- ``check``: 0 when clean, 1 when there are problems (2, bad usage, comes
  from the parser).
- ``run``: see :mod:`eventbus._cli_run`.
- ``demo``: 0.

Machine formats (json, mermaid, dot) go to stdout uncoloured whatever
``--color`` says; text is coloured only as :func:`~eventbus._cli_text.use_color` decides.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ._cli_text import Style, use_color

if TYPE_CHECKING:
    import argparse

    from ._cli_inspect import Inspection

__all__ = ["check", "demo", "graph", "plugins", "run"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _style(args: argparse.Namespace) -> Style:
    return Style(color=use_color(args.color, sys.stdout))


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _config_failed(inspection: Inspection, command: str) -> bool:
    """Report an invalid configuration on stderr (for commands other than check)."""
    if inspection.config_ok:
        return False
    where = f" in {inspection.config}" if inspection.config else ""
    lines = [f"eventbus {command}: error: invalid configuration{where}:"]
    lines += [f"  {p.message}" for p in inspection.problems if p.kind == "config"]
    lines.append("Run 'eventbus check' for every problem.")
    sys.stderr.write("\n".join(lines) + "\n")
    return True


def plugins(args: argparse.Namespace) -> int:
    """``eventbus plugins``."""
    from ._cli_inspect import inspect_bus
    from ._cli_report import plugins_json, plugins_text

    inspection = inspect_bus(args.config)
    if _config_failed(inspection, "plugins"):
        return EXIT_PROBLEMS
    if args.format == "json":
        _print(plugins_json(inspection))
    else:
        _print(plugins_text(inspection, _style(args)))
    return EXIT_OK


def graph(args: argparse.Namespace) -> int:
    """``eventbus graph``."""
    from ._cli_graph import graph_dot, graph_mermaid, graph_text
    from ._cli_inspect import inspect_bus, select_events
    from ._cli_report import where

    inspection = inspect_bus(args.config)
    if _config_failed(inspection, "graph"):
        return EXIT_PROBLEMS
    graphs = list(inspection.graph)
    if args.event:
        graphs = select_events(graphs, args.event)
        if not graphs:
            known = sorted({g.event for g in inspection.graph})
            sys.stderr.write(
                f"eventbus graph: error: --event {' '.join(args.event)} matches no "
                f"subscribed event type; known: {', '.join(known) or 'none'}\n"
            )
            return EXIT_USAGE
    if args.format == "mermaid":
        _print(graph_mermaid(graphs))
    elif args.format == "dot":
        _print(graph_dot(graphs))
    else:
        _print(graph_text(graphs, _style(args), where=where(inspection)))
    return EXIT_OK


def check(args: argparse.Namespace) -> int:
    """``eventbus check``."""
    from ._cli_inspect import inspect_bus
    from ._cli_report import check_json, check_text

    inspection = inspect_bus(args.config)
    if args.format == "json":
        _print(check_json(inspection))
    else:
        _print(check_text(inspection, _style(args)))
    return EXIT_PROBLEMS if inspection.problems else EXIT_OK


def run(args: argparse.Namespace) -> int:
    """``eventbus run``."""
    from ._cli_run import serve

    return serve(args.config, log_level=args.log_level, color=use_color(args.color, sys.stderr))


def demo(args: argparse.Namespace) -> int:
    """``eventbus demo``."""
    from ._demo import run_demo

    return run_demo(color=use_color(args.color, sys.stdout))
