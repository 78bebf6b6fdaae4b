"""Which convolution algorithm runs: a per-shape choice, by rule or (tg.backends.cudnn.benchmark) by timing.

Every algorithm computes the same three kernels of one convolution geometry (ops/conv.py): `forward` (image ->
windows, keeping a cache for the weight gradient when asked), `transpose` (windows -> image) and `weight`.

- "im2col": one copy of the window view + one GEMM per group (any stride, dilation, groups). Cache: the columns.
- "fft": Fourier domain, one small GEMM per frequency (stride 1, groups 1). Cache: the image's spectrum.

With `tg.backends.cudnn.benchmark = False` (the default, as in torch) a fixed rule picks (`_rule`). With True,
the first call of each (kernel, shapes, geometry, dtype) times every algorithm that applies on that call's own
arrays and keeps the fastest for the rest of the process, like cuDNN's benchmark mode. A given choice always
computes the same numbers; different algorithms agree to float32 rounding (the bounds are in docs/benchmarks.md
and tests/test_conv_algorithms.py).
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from . import _conv_fft as fft
from . import _conv_im2col as im2col
from ._windows import Pads, Pair

ALGORITHMS = ("im2col", "fft")
_chosen: dict[tuple, str] = {}   # process-wide cache of timed choices (cudnn.benchmark mode only)
forced: list = [None]             # tests: run one algorithm wherever it applies (None: choose)


def _benchmark_mode() -> bool:
    try:
        from ..backends import cudnn
    except ImportError:  # pragma: no cover - the backends package is always present in releases
        return False
    return bool(cudnn.benchmark)


def applicable(stride: Pair, groups: int, *arrays: np.ndarray) -> tuple[str, ...]:
    """The algorithms that can run this geometry (empty arrays: im2col, which handles every size)."""
    if fft.applies(stride, groups) and all(a.size for a in arrays):
        return ("im2col", "fft")
    return ("im2col",)


def _rule(c_image: int, c_window: int, kernel: Pair, stride: Pair, dilation: Pair, groups: int) -> str:
    """Without benchmark mode: FFT for stride-1 5x5-and-larger kernels on at least 8 channels each side, where
    it was 1.5-2.5x faster than im2col on every measured shape (docs/benchmarks.md); im2col otherwise."""
    if (fft.applies(stride, groups) and kernel[0] * kernel[1] >= 16 and min(c_image, c_window) >= 8):
        return "fft"
    return "im2col"


def _timed(run: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(2):  # the first call also warms caches (DFT matrices): keep the best of two
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    return best


def choose(kind: str, key: tuple, options: tuple[str, ...], runs: Callable[[str], Callable[[], Any]],
           rule: str) -> str:
    """The algorithm for one kernel call: forced (tests), timed once (benchmark mode), or the rule."""
    if forced[0] is not None:
        return forced[0] if forced[0] in options else options[0]
    if len(options) == 1 or not _benchmark_mode():
        return rule if rule in options else options[0]
    full = (kind,) + key
    algo = _chosen.get(full)
    if algo is None:
        algo = min(options, key=lambda a: _timed(runs(a)))
        _chosen[full] = algo
    return algo


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads, dilation: Pair,
            groups: int, out_hw: Pair, keep: bool) -> tuple[np.ndarray, tuple | None]:
    """y = conv2d(x, w) + b and, when keep, the weight gradient's cache (algorithm name, array)."""
    def run(algo: str) -> Callable[[], Any]:
        if algo == "fft":
            return lambda: fft.forward(x, w, b, pads, dilation, out_hw, keep)
        return lambda: im2col.forward(x, w, b, stride, pads, dilation, groups, out_hw, keep)

    key = (x.shape, w.shape, stride, pads, dilation, groups, out_hw, keep, x.dtype.str)
    algo = choose("forward", key, applicable(stride, groups, x, w), run,
                  _rule(x.shape[1], w.shape[0], w.shape[2:], stride, dilation, groups))
    y, cache = run(algo)()
    return y, (None if cache is None else (algo, cache))


def transpose(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair, groups: int,
              image_hw: Pair) -> np.ndarray:
    """The adjoint of forward in its image: g (N, O, Ho, Wo) -> (N, C, *image_hw)."""
    def run(algo: str) -> Callable[[], Any]:
        if algo == "fft":
            return lambda: fft.transpose(g, w, pads, dilation, image_hw)
        return lambda: im2col.transpose(g, w, stride, pads, dilation, groups, image_hw)

    key = (g.shape, w.shape, stride, pads, dilation, groups, image_hw, g.dtype.str)
    algo = choose("transpose", key, applicable(stride, groups, g, w), run,
                  _rule(w.shape[1] * groups, w.shape[0], w.shape[2:], stride, dilation, groups))
    return run(algo)()


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
           cache: tuple | None) -> np.ndarray:
    """The weight gradient; a forward's cache decides the algorithm (its work is already done)."""
    if cache is not None:
        algo, arr = cache
        if algo == "fft":
            return fft.weight(x, g, kernel, pads, dilation, arr)
        return im2col.weight(x, g, kernel, stride, pads, dilation, groups, arr)

    def run(algo: str) -> Callable[[], Any]:
        if algo == "fft":
            return lambda: fft.weight(x, g, kernel, pads, dilation)
        return lambda: im2col.weight(x, g, kernel, stride, pads, dilation, groups)

    key = (x.shape, g.shape, kernel, stride, pads, dilation, groups, x.dtype.str)
    algo = choose("weight", key, applicable(stride, groups, x, g), run,
                  _rule(x.shape[1], g.shape[1], kernel, stride, dilation, groups))
    return run(algo)()
