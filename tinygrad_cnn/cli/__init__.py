"""The `tinygrad-cnn` command (also `python -m tinygrad_cnn`): one module per sub-command, each with
`register(subparsers)` adding its parser and setting `func`."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import demo, evaluate, graph, gradcheck, train

SUBCOMMANDS = [demo, train, evaluate, graph, gradcheck]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinygrad-cnn", description="Train, evaluate and inspect CNNs.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
