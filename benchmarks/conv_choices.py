"""Which convolution algorithm each layer of the benchmarked models gets (tg.backends.cudnn.benchmark timing).

    python benchmarks/conv_choices.py [MODEL ...] [--rule] [--summary]

prints one Markdown table per model (--summary: one row per model, distinct entries per algorithm and kernel).
Runs two training steps of each model (the first one times the algorithms, see ops/_conv_select.py; with --rule
the fixed rule chooses, as `tinygrad-cnn train` does) and lists,
for every conv kernel call of the second (forward: x and w; transpose = input gradient: g and w; weight: x and g,
when the forward kept no cache), the algorithm used. Timings on a loaded machine can flip close calls.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.ops import _conv_select  # noqa: E402

import _models  # noqa: E402


def choices(name: str, benchmark: bool = True) -> dict:
    """{(kernel, first operand's shape, second's, stride): algorithm} for every conv kernel call of one model's
    second training step (the first one times the algorithms when `benchmark`)."""
    _conv_select._chosen.clear()
    tg.backends.cudnn.benchmark = benchmark
    pair = _models.Pair(next(c for c in _models.MODELS if c.name == name))
    pair.tg_step()
    used = {}
    real = _conv_select.choose

    def logged(kind, key, options, runs, rule):
        algo = real(kind, key, options, runs, rule)
        stride = key[3] if kind == "weight" else key[2]
        used[(kind, key[0], key[1], stride)] = algo
        return algo

    _conv_select.choose = logged
    try:
        pair.tg_step()
    finally:
        _conv_select.choose = real
    return used


def _summary(used: dict) -> str:
    """'forward: fft 2, im2col 1; transpose: ...': distinct (kernel, shapes) entries per algorithm."""
    per_kind: dict = collections.defaultdict(collections.Counter)
    for (kind, *_), algo in used.items():
        per_kind[kind][algo] += 1
    return " | ".join(", ".join(f"{a} {n}" for a, n in per_kind[k].most_common()) if k in per_kind else "-"
                      for k in ("forward", "transpose", "weight"))


def main(argv: list[str]) -> None:
    names = [c.name for c in _models.MODELS]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", metavar="MODEL", help=f"any of {', '.join(names)} (default: all)")
    p.add_argument("--rule", action="store_true", help="the fixed rule instead of cudnn.benchmark timing")
    p.add_argument("--summary", action="store_true", help="one row per model")
    args = p.parse_args(argv)
    unknown = [m for m in args.models if m not in names]
    if unknown:
        p.error(f"unknown model {unknown[0]!r}: choose from {', '.join(names)}")
    if args.summary:
        print("| model | forward | input gradient (transpose) | weight (no forward cache) |\n|---|---|---|---|")
    for name in args.models or names:
        used = choices(name, benchmark=not args.rule)
        if args.summary:
            print(f"| {name} | {_summary(used)} |", flush=True)
            continue
        print(f"\n### {name}\n")
        print("| kernel | first operand | second operand | stride | algorithm |\n|---|---|---|---|---|")
        for (kind, a, b, stride), algo in used.items():
            print(f"| {kind} | {a} | {b} | {stride} | {algo} |")


if __name__ == "__main__":
    main(sys.argv[1:])
