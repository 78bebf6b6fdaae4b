"""First-order backward of single primitives at typical CNN shapes: the array path of each backward alone.

Each case records one node (the forward untimed) and times `Fn.backward(ctx, g)` on numpy arrays, exactly what
the engine runs in a first-order `loss.backward()`. Used to check that writing a backward once in ops/_dual.py
calls (so it is differentiable again under create_graph) costs nothing on the first-order path: run it on two
trees and compare, e.g.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=/tmp/before .venv/bin/python benchmarks/backward_primitives.py
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/backward_primitives.py

Prints one line per case: the best of several windows, in microseconds per backward.
"""
from __future__ import annotations

import sys
import timeit
from typing import Any, Callable

import numpy as np

import tinygrad_cnn as tg
from tinygrad_cnn.ops import activation as A
from tinygrad_cnn.ops import einsum as ES
from tinygrad_cnn.ops import index as I
from tinygrad_cnn.ops import matmul as M
from tinygrad_cnn.ops import reduce as R

RNG = np.random.default_rng(0)


def _x(*shape: int) -> Any:
    return tg.tensor(RNG.standard_normal(shape).astype(np.float32), requires_grad=True)


def _node(fn: type, *args: Any) -> tuple:
    """(ctx, g): the recorded node of fn.apply(*args) and a random gradient of its output's shape."""
    out = fn.apply(*args)
    return out.grad_fn, RNG.standard_normal(out.shape).astype(np.float32)


def _cases() -> dict[str, Callable[[], tuple]]:
    act = (64, 32, 28, 28)
    idx = RNG.integers(0, 1000, 512)
    return {
        "matmul linear (64,1024)@(1024,512)": lambda: _node(M.MatMul, _x(64, 1024), _x(1024, 512)),
        "matmul batched (32,64,64)@(64,64)": lambda: _node(M.MatMul, _x(32, 64, 64), _x(64, 64)),
        "amax (64,32,28,28) dims (2,3)": lambda: _node(R.Amax, _x(*act), (2, 3), False, False),
        "max all (64,32,28,28)": lambda: _node(R.Amax, _x(*act), None, False, False),
        "max dim (64,32,28,28) dim 1": lambda: _node(R.MaxDim, _x(*act), 1, False, False),
        "cumsum (64,1000) dim 1": lambda: _node(R.Cumsum, _x(64, 1000), 1),
        "getitem basic (64,32,28,28)[:, :16]": lambda: _node(I.GetItem, _x(*act), (slice(None), slice(0, 16))),
        "getitem advanced (1000,64)[512 idx]": lambda: _node(I.GetItem, _x(1000, 64), idx),
        "index_put (64,32,28,28)[:, 0] = v": lambda: _node(I.IndexPut, _x(*act), (slice(None), 0), _x(64, 28, 28)),
        "index_add (1000,64) 512 rows": lambda: _node(I.IndexAdd, _x(1000, 64), (idx,), _x(512, 64)),
        "einsum bij,bjk->bik (32,64,64)": lambda: _node(ES.Einsum, ["bij", "bjk"], "bik", _x(32, 64, 64),
                                                        _x(32, 64, 64)),
        "einsum ii->i (512,512)": lambda: _node(ES.Einsum, ["ii"], "i", _x(512, 512)),
        "erf (64,32,28,28)": lambda: _node(A.Erf, _x(*act)),
        "leaky_relu (64,32,28,28)": lambda: _node(A.LeakyReLU, _x(*act), 0.01),
        "elu (64,32,28,28)": lambda: _node(A.ELU, _x(*act), 1.0, 1.0, 1.0),
        "gelu (64,32,28,28)": lambda: _node(A.GELU, _x(*act), "none"),
        "gelu tanh (64,32,28,28)": lambda: _node(A.GELU, _x(*act), "tanh"),
        "softplus (64,32,28,28)": lambda: _node(A.Softplus, _x(*act), 1.0, 20.0),
        "logsigmoid (64,32,28,28)": lambda: _node(A.LogSigmoid, _x(*act)),
        "silu (64,32,28,28)": lambda: _node(A.SiLU, _x(*act)),
        "hardtanh (64,32,28,28)": lambda: _node(A.Hardtanh, _x(*act), -1.0, 1.0),
    }


def main(argv: list[str]) -> None:
    only = argv[1] if len(argv) > 1 else ""
    for name, make in _cases().items():
        if only not in name:
            continue
        ctx, g = make()
        fn = ctx._fn
        number = max(1, int(0.2 / max(timeit.timeit(lambda: fn.backward(ctx, g), number=1), 1e-6)))
        best = min(timeit.repeat(lambda: fn.backward(ctx, g), number=number, repeat=5)) / number
        print(f"{name:40s} {best * 1e6:10.1f} us")


if __name__ == "__main__":
    main(sys.argv)
