"""The `tinygrad-cnn` command (also `python -m tinygrad_cnn`): one module per sub-command, each with
`register(subparsers)` adding its parser and setting `func`.

Errors: a bad flag value stops in argparse (one line, exit 2). Any error a command raises is printed as one line
`tinygrad-cnn <command>: error: <message>` on stderr with exit code 1 (2 for a UsageError, 130 for Ctrl-C); the
traceback is shown only with `--debug` (before or after the sub-command).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import demo, evaluate, export, graph, gradcheck, train
from .validate import UsageError

SUBCOMMANDS = [demo, train, evaluate, export, graph, gradcheck]
_DEBUG_HELP = "show the full traceback of an error (for bug reports)"

# Errors that describe the user's situation (a file, a value, a run directory): their message is the whole story.
_USER_ERRORS = (OSError, ValueError, RuntimeError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinygrad-cnn", description="Train, evaluate and inspect CNNs.")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    for command in sub.choices.values():  # `tinygrad-cnn train ... --debug` works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    parser.commands = dict(sub.choices)  # type: ignore[attr-defined]  (for errors in a command's words)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if args.debug:
            raise
        return 130
    except UsageError as err:
        command = parser.commands[args.command]
        command.print_usage(sys.stderr)
        print(f"{command.prog}: error: {err}", file=sys.stderr)  # argparse's words, returned rather than exited
        return 2
    except Exception as err:  # noqa: BLE001 - the one place that turns any error into one line
        if args.debug:
            raise
        print(f"tinygrad-cnn {args.command}: error: {describe(err)}", file=sys.stderr)
        return 1


def describe(err: BaseException) -> str:
    """One line for an error: its message for a user's mistake, type and a hint for anything else (a bug)."""
    if isinstance(err, OSError) and err.strerror and err.filename:
        text = f"{err.filename}: {err.strerror}"
    elif isinstance(err, _USER_ERRORS) and str(err):
        text = str(err)
    else:
        return f"{type(err).__name__}: {err} (an internal error; rerun with --debug for the traceback)"
    return " ".join(text.split())  # one line, whatever the message held


if __name__ == "__main__":
    sys.exit(main())
