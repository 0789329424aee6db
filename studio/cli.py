"""The `studio` command: subcommands for the terminal; with no subcommand it opens the window.

Subcommands live in `studio/commands/`, one module each with `register(subparsers)`; a module
added there appears here without touching this file. Options that need the ML engine (the model
knobs of `train` and `grid`, which import torch) are a subcommand's `engine_options(parser)`
default, added only to the subcommand being run: `studio --help` and every other command start
without torch. `studio SONG.mid` (or `SONG.studio`) opens the window with that file loaded.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from studio import __version__


def _command_modules() -> list:
    import studio.commands as pkg

    return [importlib.import_module(f"studio.commands.{m.name}")
            for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)
            if not m.name.startswith("_")]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `studio` parser; the subcommand `command` (the one to run) also gets its
    `engine_options`."""
    parser = argparse.ArgumentParser(
        prog="studio", description="Studio: compose, train and generate music. "
        "Run with no command to open the window.")
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    chosen = sub.choices.get(command) if command else None
    if chosen is not None and chosen.get_default("engine_options") is not None:
        chosen.get_default("engine_options")(chosen)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv else None)
    commands = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        from studio.ui.app import run_app  # only the window needs Qt

        return run_app(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a clear message, never a raw traceback
        from studio.ml.errors import user_message

        message = user_message(e)
        if message is None:
            raise
        from studio.storage.names import printable

        print(f"studio: error: {printable(message)}", file=sys.stderr)
        return 2
