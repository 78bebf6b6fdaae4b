"""argparse types that refuse nonsense before any work: `--epochs -1`, `--batch-size 0`, `--val-fraction 1.5`,
`--out g.xyz`, `--plot /missing/dir/c.png`. A bad value stops with argparse's one-line message naming the flag
(`tinygrad-cnn train: error: argument --epochs: must be a positive integer, got '-1'`) and exit code 2.

The numeric rules of run settings are `training.setup.RULES` (the same ones `resolve_config` applies), so the
command line and the Python API accept exactly the same values.
"""
from __future__ import annotations

import argparse
import math
import os
from typing import Any, Callable


class UsageError(Exception):
    """A mistake in the command's arguments found after parsing (a flag combination): exit code 2."""


def rule(name: str) -> Callable[[str], Any]:
    """The argparse type for run setting `name` (training.setup.RULES)."""
    from ..training.setup import RULES

    r = RULES[name]
    return _typed(r.kind, r.ok, r.what)


def _typed(kind: type, ok: Callable[[Any], bool], what: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


positive_int = _typed(int, lambda v: v >= 1, "a positive integer")
nonnegative_int = _typed(int, lambda v: v >= 0, "an integer >= 0")
seed = _typed(int, lambda v: 0 <= v < 2 ** 63 - 1, "an integer in [0, 2**63 - 2]")
step = _typed(float, lambda v: math.isfinite(v) and 0 < v < 1, "a number strictly between 0 and 1")


def output_file(suffixes: tuple[str, ...]) -> Callable[[str], str]:
    """A file to write: its suffix must be one of `suffixes` and its directory must exist (it is not created:
    a typo in the directory should not grow a new tree)."""
    def parse(text: str) -> str:
        suffix = os.path.splitext(text)[1][1:].lower()
        if suffix not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r}: the suffix must be one of "
                                             f"{', '.join('.' + s for s in suffixes)} (it picks the format)")
        if os.path.isdir(text):
            raise argparse.ArgumentTypeError(f"{text!r} is a directory")
        directory = os.path.dirname(text)
        if directory and not os.path.isdir(directory):
            raise argparse.ArgumentTypeError(f"{text!r}: the directory {directory} does not exist")
        return text

    return parse


def run_directory(text: str) -> str:
    """A run directory (it may not exist yet), never an existing file."""
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a run directory")
    return text


def existing_directory(text: str) -> str:
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a directory" if os.path.exists(text) else
                                         f"{text!r} does not exist")
    return text


__all__ = ["UsageError", "rule", "positive_int", "nonnegative_int", "seed", "step", "output_file",
           "run_directory", "existing_directory"]
