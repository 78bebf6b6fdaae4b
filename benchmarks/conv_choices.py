"""Which convolution algorithm each layer of the benchmarked models gets (tg.backends.cudnn.benchmark timing).

    python benchmarks/conv_choices.py [MODEL ...]     prints one Markdown table per model

Runs two training steps of each model (the first one times the algorithms, see ops/_conv_select.py) and lists,
for every conv kernel call of the second (forward: x and w; transpose = input gradient: g and w; weight: x and g,
when the forward kept no cache), the algorithm used. Timings on a loaded machine can flip close calls.
"""
from __future__ import annotations

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.ops import _conv_select  # noqa: E402

import _models  # noqa: E402


def choices(name: str) -> dict:
    """{(kernel, first operand's shape, second's, stride): algorithm} for every conv kernel call of one model's
    second training step (the first one times the algorithms)."""
    _conv_select._chosen.clear()
    tg.backends.cudnn.benchmark = True
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


def main(names: list[str]) -> None:
    for name in names or [c.name for c in _models.MODELS]:
        print(f"\n### {name}\n")
        print("| kernel | first operand | second operand | stride | algorithm |\n|---|---|---|---|---|")
        for (kind, a, b, stride), algo in choices(name).items():
            print(f"| {kind} | {a} | {b} | {stride} | {algo} |")


if __name__ == "__main__":
    main(sys.argv[1:])
