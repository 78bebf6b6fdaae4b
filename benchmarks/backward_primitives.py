"""First-order backward of single primitives at typical CNN shapes: the array path of each backward alone.

Each case records one node (the forward untimed; element-wise, reduction, index, matmul, einsum primitives, and
the pooling, softmax and loss primitives at LeNet-5 / CIFAR shapes) and times `Fn.backward(ctx, g)` on numpy
arrays, exactly what the engine runs in a first-order `loss.backward()`. It checks that writing a backward once
with ops/_dual.py calls (so that it is differentiable again under create_graph) costs nothing on the first-order
path, and measures a backward kernel before and after a change:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/backward_primitives.py [--against DIR] [name filter]

With `--against DIR` (a directory holding another checkout's `tinygrad_cnn` package, e.g. from
`git archive <commit> tinygrad_cnn | tar -x -C DIR`) both versions run in this one process, window by window in
turns, so load from other processes on a shared machine hits both alike; each line then shows both times and
their ratio. Times are process CPU time (with one BLAS thread, the work itself: waiting for a core shared with other
jobs is not counted, wall-clock windows varied 3x here under load), the best window, in microseconds per backward.
"""
from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any, Callable

import numpy as np

RNG = np.random.default_rng(0)


def _backward(out: Any) -> Callable[[], Any]:
    """The array-path backward of the primitive that made `out` (below a loss's final Mean/Sum), with a random g."""
    node = out.grad_fn
    while node._fn.__name__ in ("Mean", "Sum"):
        node = node.next_functions[0][0]
    shape = node._input_meta[0][0] if node._fn.__name__ == "BinaryCrossEntropy" else tuple(out.shape)
    g = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    rest = (None,) * (node.num_outputs - 1)  # indices / softmax outputs: no gradient in a first-order backward
    return lambda: node._fn.backward(node, g, *rest)


def _cases(pkg: Any) -> dict[str, Callable[[], Callable[[], Any]]]:
    """name -> make(): the backward call of one recorded primitive of package `pkg`, on a random gradient."""
    ops = {m: importlib.import_module(f"{pkg.__name__}.ops.{m}") for m in ("activation", "einsum", "index",
                                                                          "matmul", "reduce")}
    A, ES, I, M, R = (ops[m] for m in ("activation", "einsum", "index", "matmul", "reduce"))

    def x(*shape: int) -> Any:
        return pkg.tensor(np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32),
                          requires_grad=True)

    def y(n: int, c: int = 10) -> Any:
        return pkg.tensor(np.random.default_rng(n).integers(0, c, n))

    def node(fn: type, *args: Any) -> Callable[[], Any]:
        return _backward(fn.apply(*args))

    F = pkg.nn.functional
    act = (64, 32, 28, 28)
    idx = np.random.default_rng(2).integers(0, 1000, 512)
    return {
        "matmul linear (64,1024)@(1024,512)": lambda: node(M.MatMul, x(64, 1024), x(1024, 512)),
        "matmul batched (32,64,64)@(64,64)": lambda: node(M.MatMul, x(32, 64, 64), x(64, 64)),
        "amax (64,32,28,28) dims (2,3)": lambda: node(R.Amax, x(*act), (2, 3), False, False),
        "max all (64,32,28,28)": lambda: node(R.Amax, x(*act), None, False, False),
        "max dim (64,32,28,28) dim 1": lambda: node(R.MaxDim, x(*act), 1, False, False),
        "cumsum (64,1000) dim 1": lambda: node(R.Cumsum, x(64, 1000), 1),
        "getitem basic (64,32,28,28)[:, :16]": lambda: node(I.GetItem, x(*act), (slice(None), slice(0, 16))),
        "getitem advanced (1000,64)[512 idx]": lambda: node(I.GetItem, x(1000, 64), idx),
        "getitem small (8,8)[2]": lambda: node(I.GetItem, x(8, 8), 2),
        "index_put (64,32,28,28)[:, 0] = v": lambda: node(I.IndexPut, x(*act), (slice(None), 0), x(64, 28, 28)),
        "index_add (1000,64) 512 rows": lambda: node(I.IndexAdd, x(1000, 64), (idx,), x(512, 64)),
        "einsum bij,bjk->bik (32,64,64)": lambda: node(ES.Einsum, ["bij", "bjk"], "bik", x(32, 64, 64),
                                                       x(32, 64, 64)),
        "einsum ii->i (512,512)": lambda: node(ES.Einsum, ["ii"], "i", x(512, 512)),
        "erf (64,32,28,28)": lambda: node(A.Erf, x(*act)),
        "leaky_relu (64,32,28,28)": lambda: node(A.LeakyReLU, x(*act), 0.01),
        "elu (64,32,28,28)": lambda: node(A.ELU, x(*act), 1.0, 1.0, 1.0),
        "selu (64,32,28,28)": lambda: node(A.ELU, x(*act), 1.6732632423543772, 1.0507009873554805, 1.0),
        "gelu (16,32,28,28)": lambda: node(A.GELU, x(16, 32, 28, 28), "none"),
        "gelu tanh (64,32,28,28)": lambda: node(A.GELU, x(*act), "tanh"),
        "softplus (64,32,28,28)": lambda: node(A.Softplus, x(*act), 1.0, 20.0),
        "logsigmoid (64,32,28,28)": lambda: node(A.LogSigmoid, x(*act)),
        "silu (64,32,28,28)": lambda: node(A.SiLU, x(*act)),
        "hardtanh (64,32,28,28)": lambda: node(A.Hardtanh, x(*act), -1.0, 1.0),
        "max_pool2d 2x2 LeNet S2 (50,6,28,28)": lambda: _backward(F.max_pool2d(x(50, 6, 28, 28), 2)),
        "max_pool2d 2x2 LeNet S4 (50,16,10,10)": lambda: _backward(F.max_pool2d(x(50, 16, 10, 10), 2)),
        "max_pool2d 2x2 CIFAR (50,32,32,32)": lambda: _backward(F.max_pool2d(x(50, 32, 32, 32), 2)),
        "max_pool2d 3x3 s2 p1 (50,32,32,32)": lambda: _backward(F.max_pool2d(x(50, 32, 32, 32), 3, 2, 1)),
        "avg_pool2d 2x2 LeNet (50,6,28,28)": lambda: _backward(F.avg_pool2d(x(50, 6, 28, 28), 2)),
        "avg_pool2d 3x3 s2 p1 (50,32,32,32)": lambda: _backward(F.avg_pool2d(x(50, 32, 32, 32), 3, 2, 1)),
        "adaptive_max_pool2d (50,32,10,10)->3": lambda: _backward(F.adaptive_max_pool2d(x(50, 32, 10, 10), 3)),
        "stochastic_pool2d 2x2 (50,32,32,32)": lambda: _backward(F.stochastic_pool2d(x(50, 32, 32, 32), 2)),
        "log_softmax (50,10)": lambda: _backward(F.log_softmax(x(50, 10), 1)),
        "log_softmax (128,10)": lambda: _backward(F.log_softmax(x(128, 10), 1)),
        "softmax (128,10)": lambda: _backward(F.softmax(x(128, 10), 1)),
        "softmax (50,1000)": lambda: _backward(F.softmax(x(50, 1000), 1)),
        "cross_entropy (50,10)": lambda: _backward(F.cross_entropy(x(50, 10), y(50))),
        "cross_entropy (128,10)": lambda: _backward(F.cross_entropy(x(128, 10), y(128))),
        "cross_entropy (128,10) ls=0.1 weight": lambda: _backward(F.cross_entropy(
            x(128, 10), y(128), weight=pkg.rand(10), label_smoothing=0.1)),
        "nll_loss (128,10)": lambda: _backward(F.nll_loss(x(128, 10), y(128))),
        "binary_cross_entropy (128,10)": lambda: _backward(F.binary_cross_entropy(
            pkg.rand(128, 10, requires_grad=True), pkg.rand(128, 10))),
    }


def _window(backward: Callable[[], Any], number: int) -> float:
    return timeit.timeit(backward, number=number, timer=time.process_time) / number


def _load_against(tree: str) -> Any:
    """The tinygrad_cnn package under `tree`, imported as `tinygrad_cnn_against` (its imports are relative)."""
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(Path(tree) / "tinygrad_cnn", tmp / "tinygrad_cnn_against")
    sys.path.insert(0, str(tmp))
    return importlib.import_module("tinygrad_cnn_against")


def main(argv: list[str]) -> None:
    import tinygrad_cnn

    args = list(argv[1:])
    other = _load_against(args.pop(args.index("--against") + 1)) if "--against" in args else None
    args = [a for a in args if a != "--against"]
    only = args[0] if args else ""
    mine = _cases(tinygrad_cnn)
    theirs = _cases(other) if other is not None else None
    for name, make in mine.items():
        if only not in name:
            continue
        pair = [make()] + ([theirs[name]()] if theirs else [])
        number = max(1, int(0.1 / max(_window(pair[0], 1), 1e-6)))
        best = [float("inf")] * len(pair)
        for r in range(7):  # turns: A B, B A, ... so drift in machine load hits both
            for k in (range(len(pair)) if r % 2 == 0 else reversed(range(len(pair)))):
                best[k] = min(best[k], _window(pair[k], number))
        line = f"{name:40s} {best[0] * 1e6:10.1f} us"
        if theirs:
            line += f"   against {best[1] * 1e6:10.1f} us   ratio {best[0] / best[1]:5.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv)
