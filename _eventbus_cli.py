"""The front door of the ``eventbus`` command: arguments, ``--help`` and ``--version``.

Why a top-level module and not ``eventbus._cli``: importing any module of the
``eventbus`` package runs ``eventbus/__init__.py``, which imports trio, attrs
and cattrs (about 0.3 s here, most of it trio). A command people type, and
run ``--help`` on, should answer at once; so the console script points here,
this module imports only ``argparse``, and a command's implementation
(``eventbus._cli``) is imported only when the command runs. ``--help``, a
usage error and ``--version`` never import the package.

``python -m eventbus`` runs the same :func:`main` (it imports the package
first, so it starts slower).

Adding a command: write ``_add_NAME(subcommands)`` that builds its sub-parser
(with an ``Examples:`` epilog) and sets ``command`` to the name of a function
of ``eventbus._cli`` that takes the parsed arguments and returns the exit
code, then list it in ``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["build_parser", "main"]

DISTRIBUTION = "trio-eventbus"

#: Exit codes, as pytest and most Unix tools use them.
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_CONFIG_HELP = (
    "read the configuration from FILE (an eventbus.toml, or a pyproject.toml with a "
    "[tool.eventbus] table); default: eventbus.toml in the working directory, else "
    "pyproject.toml there"
)


def _version() -> str:
    # Imported here: importlib.metadata scans sys.path, which only --version needs.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """``--version``, with the version looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show the installed trio-eventbus version and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(f"{DISTRIBUTION} {_version()}")
        parser.exit()


def _formatter(prog: str) -> argparse.HelpFormatter:
    # Keeps the line breaks of the descriptions and of the epilogs' examples.
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _config_file(value: str) -> str:
    """``--config FILE``: a file that does not exist is a usage error (exit 2)."""
    if not os.path.isfile(value):
        what = "is a directory" if os.path.isdir(value) else "does not exist"
        raise argparse.ArgumentTypeError(f"{value!r} {what}; give the path of a TOML file")
    return value


def _event_name(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("an event name (or pattern) must not be empty")
    return value


def _command(
    subcommands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    summary: str,
    description: str,
    examples: Sequence[str],
    notes: str = "",
) -> argparse.ArgumentParser:
    width = max(len(example.partition("  #")[0]) for example in examples)
    lines = []
    for example in examples:
        command, _, comment = example.partition("  #")
        lines.append(f"  {command:<{width}}  # {comment.strip()}" if comment else f"  {command}")
    epilog = "Examples:\n" + "\n".join(lines)
    if notes:
        epilog += "\n\n" + notes
    parser = subcommands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=_formatter,
    )
    parser.set_defaults(command=name)
    return parser


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", type=_config_file, help=_CONFIG_HELP)


def _add_color(parser: argparse.ArgumentParser, what: str = "the text output") -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help=f"colour {what}: auto (default: on a terminal, unless NO_COLOR is set), "
        "always or never",
    )


# --- commands -----------------------------------------------------------------


def _add_plugins(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subcommands,
        "plugins",
        summary="list the installed and configured plugins and their handlers",
        description=(
            "List every plugin that is installed (eventbus.plugins entry points) or\n"
            "configured (a [plugins.NAME] table with a path): its distribution and\n"
            "version, where it comes from, whether it is enabled, whether it loads (with\n"
            "the error when it does not) and its subscriptions. Loading a plugin imports\n"
            "its code and creates it with its options; nothing of it is started."
        ),
        examples=(
            "eventbus plugins",
            "eventbus plugins --config deploy/eventbus.toml",
            "eventbus plugins --format json  # for scripts: a stable JSON document",
        ),
    )
    _add_config(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or json (never coloured)",
    )
    _add_color(parser)


def _add_graph(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subcommands,
        "graph",
        summary="show what an emit runs, in order, for each event type",
        description=(
            "Load the plugins, subscribe their handlers without starting them, and print\n"
            "for each event type what an emit runs: the pipe chain in its real order\n"
            "(computed by the same code that emit uses), then the listeners and the hooks,\n"
            "each with its plugin, order and effective timeout."
        ),
        examples=(
            "eventbus graph",
            "eventbus graph --event shop.OrderPlaced",
            "eventbus graph --event 'shop.*'  # a glob pattern of wire names",
            "eventbus graph --format mermaid > graph.mmd",
            "eventbus graph --format dot | dot -Tsvg > graph.svg",
        ),
    )
    _add_config(parser)
    parser.add_argument(
        "--event",
        metavar="NAME",
        action="append",
        type=_event_name,
        help="only this event type: a wire name or a glob pattern (repeatable)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "mermaid", "dot"),
        default="text",
        help="text (default), mermaid or dot (Graphviz); mermaid and dot are never coloured",
    )
    _add_color(parser)


def _add_check(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subcommands,
        "check",
        summary="load and order everything without starting it; list problems",
        description=(
            "Read the configuration, load and configure every enabled plugin, order them\n"
            "by their requirements and subscribe their handlers, without entering any\n"
            "lifespan. Every problem is listed: configuration keys, import errors, bad\n"
            "options, missing requirements, requires cycles and before/after cycles."
        ),
        examples=(
            "eventbus check",
            "eventbus check --config eventbus.toml --format json",
        ),
        notes="Exit status: 0 when everything is fine, 1 when there are problems, 2 on bad usage.",
    )
    _add_config(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or json (never coloured)",
    )
    _add_color(parser)


def _add_run(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subcommands,
        "run",
        summary="start the plugins and serve until Ctrl-C or SIGTERM",
        description=(
            "Open the bus with its plugins (each lifespan started, in requirement order)\n"
            "and serve until SIGINT (Ctrl-C) or SIGTERM; then stop the plugins in reverse\n"
            "order, each within its stop timeout, and exit. A second signal while they\n"
            "stop exits at once. For plugins that are services, such as a bridge.\n"
            "Log lines go to standard error."
        ),
        examples=(
            "eventbus run",
            "eventbus run --config eventbus.toml --log-level debug",
        ),
        notes=(
            "Exit status: 0 after a clean stop, 1 when the configuration is invalid or a\n"
            "plugin failed to start or to stop, 130 (SIGINT) or 143 (SIGTERM) when a\n"
            "second signal forced the exit."
        ),
    )
    _add_config(parser)
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="the least severe log lines shown (default: info)",
    )
    _add_color(parser, "the log lines")


def _add_demo(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(
        subcommands,
        "demo",
        summary="a short tour of pipes, listeners, hooks, a scope and a timeout",
        description=(
            "Run a self-contained demo on a private bus (no plugins are loaded) and\n"
            "print what happens as it happens. Takes about a second."
        ),
        examples=(
            "eventbus demo",
            "eventbus demo --color=never > demo.txt",
        ),
    )
    _add_color(parser, "the output")


_COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    _add_plugins,
    _add_graph,
    _add_check,
    _add_run,
    _add_demo,
)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``eventbus`` argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="eventbus",
        description="trio-eventbus: an async event bus for trio, extended by plugins.",
        epilog=(
            "Examples:\n"
            "  eventbus plugins          # what is installed, and what it subscribes\n"
            "  eventbus graph            # what runs, in which order, for each event type\n"
            "  eventbus check            # every problem, without starting anything\n"
            "  eventbus run              # serve the plugins until Ctrl-C\n"
            "  eventbus demo             # a tour of what the bus does\n"
            "\n"
            "Run 'eventbus COMMAND --help' for the options of one command."
        ),
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    subcommands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for add_command in _COMMANDS:
        add_command(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``eventbus`` command line.

    Args:
        argv: The arguments, without the program name; ``sys.argv[1:]`` if None.

    Returns:
        The process exit code: 0 on success, 1 when a command finds problems or
        fails, 2 for a usage error, 130 when interrupted with Ctrl-C.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        # The package (trio and all) is imported only now that a command runs.
        from eventbus import _cli

        handler: Callable[[argparse.Namespace], int] = getattr(_cli, args.command)
        return handler(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`eventbus graph | head`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PROBLEMS


if __name__ == "__main__":  # pragma: no cover - `python _eventbus_cli.py`
    raise SystemExit(main())
