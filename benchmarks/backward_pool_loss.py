"""First-order backward of the pooling, softmax and loss primitives at LeNet-5 / CIFAR shapes, two checkouts A/B.

Each case runs the forward untimed and times the primitive's `Fn.backward(ctx, g)` on float32 numpy arrays (what
a first-order `loss.backward()` runs), in this checkout and in another one, alternating windows so that load from
other processes hits both alike. Process CPU time, best window, microseconds per backward:

    git archive <commit> tinygrad_cnn | tar -x -C /tmp/before
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/backward_pool_loss.py /tmp/before
"""
from __future__ import annotations

import importlib.util
import sys
import time
import timeit
from pathlib import Path
from typing import Any, Callable

import numpy as np


def _load(root: Path, name: str) -> Any:
    """The tinygrad_cnn package under `root`, imported as module `name` (so two versions live side by side)."""
    spec = importlib.util.spec_from_file_location(name, root / "tinygrad_cnn" / "__init__.py",
                                                  submodule_search_locations=[str(root / "tinygrad_cnn")])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _cases(tg: Any) -> dict[str, Callable[[], Any]]:
    F, rng = tg.nn.functional, np.random.default_rng(0)

    def T(*s: int) -> Any:
        return tg.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)

    def y(n: int, c: int = 10) -> Any:
        return tg.tensor(rng.integers(0, c, n))

    return {
        "max_pool2d 2x2 LeNet S2 (50,6,28,28)": lambda: F.max_pool2d(T(50, 6, 28, 28), 2),
        "max_pool2d 2x2 LeNet S4 (50,16,10,10)": lambda: F.max_pool2d(T(50, 16, 10, 10), 2),
        "max_pool2d 2x2 CIFAR (50,32,32,32)": lambda: F.max_pool2d(T(50, 32, 32, 32), 2),
        "max_pool2d 3x3 s2 p1 (50,32,32,32)": lambda: F.max_pool2d(T(50, 32, 32, 32), 3, 2, 1),
        "avg_pool2d 2x2 LeNet (50,6,28,28)": lambda: F.avg_pool2d(T(50, 6, 28, 28), 2),
        "avg_pool2d 3x3 s2 p1 (50,32,32,32)": lambda: F.avg_pool2d(T(50, 32, 32, 32), 3, 2, 1),
        "adaptive_max_pool2d (50,32,10,10)->3": lambda: F.adaptive_max_pool2d(T(50, 32, 10, 10), 3),
        "stochastic_pool2d 2x2 (50,32,32,32)": lambda: F.stochastic_pool2d(T(50, 32, 32, 32), 2),
        "log_softmax (50,10)": lambda: F.log_softmax(T(50, 10), 1),
        "log_softmax (128,10)": lambda: F.log_softmax(T(128, 10), 1),
        "softmax (128,10)": lambda: F.softmax(T(128, 10), 1),
        "softmax (50,1000)": lambda: F.softmax(T(50, 1000), 1),
        "cross_entropy (50,10)": lambda: F.cross_entropy(T(50, 10), y(50)),
        "cross_entropy (128,10)": lambda: F.cross_entropy(T(128, 10), y(128)),
        "cross_entropy (128,10) ls=0.1 weight": lambda: F.cross_entropy(T(128, 10), y(128), weight=tg.rand(10),
                                                                          label_smoothing=0.1),
        "nll_loss (128,10)": lambda: F.nll_loss(T(128, 10), y(128)),
        "binary_cross_entropy (128,10)": lambda: F.binary_cross_entropy(tg.rand(128, 10, requires_grad=True),
                                                                        tg.rand(128, 10)),
    }


def _backward(out: Any) -> Callable[[], Any]:
    """The primitive's backward on arrays: the node of `out` (below its reduction for binary_cross_entropy)."""
    node = out.grad_fn
    while node._fn.__name__ in ("Mean", "Sum"):
        node = node.next_functions[0][0]
    shape = node._input_meta[0][0] if node._fn.__name__ == "BinaryCrossEntropy" else tuple(out.shape)
    g = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    rest = (None,) * (node.num_outputs - 1)  # indices / softmax outputs: no gradient in a first-order backward
    return lambda: node._fn.backward(node, g, *rest)


def main(other: str, rounds: int = 7) -> None:
    libs = {"other": _load(Path(other), "tg_other"), "this": _load(Path(__file__).resolve().parents[1], "tg_this")}
    runs = {k: {name: _backward(make()) for name, make in _cases(lib).items()} for k, lib in libs.items()}
    best: dict = {k: {} for k in libs}
    for r in range(rounds):
        for name in runs["this"]:
            for k in ("other", "this") if r % 2 == 0 else ("this", "other"):
                t = timeit.Timer(runs[k][name], timer=time.process_time)
                n = max(1, int(0.05 / max(t.timeit(1), 1e-7)))
                best[k][name] = min(best[k].get(name, np.inf), min(t.repeat(3, n)) / n * 1e6)
    print(f"{'backward of':40s} {'other us':>10s} {'this us':>10s} {'this/other':>10s}")
    for name in runs["this"]:
        a, b = best["other"][name], best["this"][name]
        print(f"{name:40s} {a:10.1f} {b:10.1f} {b / a:10.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
