"""Which convolution algorithm runs: a per-shape choice, by rule or (tg.backends.cudnn.benchmark) by timing.

Every algorithm computes the same three kernels of one convolution geometry (ops/conv.py): `forward` (image ->
windows, keeping a cache for the weight gradient when asked), `transpose` (windows -> image) and `weight`.

- "im2col": one copy of the window view + one GEMM per group (any stride, dilation, groups). Cache: the columns.
- "blocked": im2col a few samples at a time, in cache, NCHW in and out (any geometry). No cache.
- "fft": Fourier domain, one small GEMM per frequency (stride 1, groups 1). Cache: the image's spectrum.
- "winograd": F(4x4, 3x3), 36 GEMMs per 4x4 output tiles (3x3, stride 1, groups 1), in blocks of samples.
- "pointwise": 1x1 convolutions without padding: batched GEMMs on NCHW as it is (always chosen where it applies).
- "depthwise": one multiply-add per kernel tap over all channels (groups = channels). Cache: the padded input.

With `tg.backends.cudnn.benchmark = False` (the default, as in torch) a fixed rule picks (`_rule`). With True,
the first call of each (kernel, shapes, geometry, dtype) times every algorithm that applies on that call's own
arrays and keeps the fastest for the rest of the process, like cuDNN's benchmark mode. A given choice always
computes the same numbers; different algorithms agree to float32 rounding (the bounds are in docs/benchmarks.md
and tests/test_conv_algorithms.py).
"""
from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple

import numpy as np

from . import _conv_blocked as blocked
from . import _conv_depthwise as depthwise
from . import _conv_fft as fft
from . import _conv_im2col as im2col
from . import _conv_pointwise as pointwise
from . import _conv_winograd as winograd
from ._windows import Pads, Pair

_chosen: dict[tuple, str] = {}   # process-wide cache of timed choices (cudnn.benchmark mode only)
forced: list = [None]             # tests: run one algorithm wherever it applies (None: choose)


class _Algorithm(NamedTuple):
    applies: Callable[..., bool]                     # (kernel, stride, dilation, groups, C image, C windows)
    forward: Callable[..., tuple]                    # (x, w, b, stride, pads, dilation, groups, out_hw, keep)
    transpose: Callable[..., np.ndarray]             # (g, w, stride, pads, dilation, groups, image_hw, memo)
    weight: Callable[..., np.ndarray]                # (x, g, kernel, stride, pads, dilation, groups, cache, memo)
    # memo: a dict one backward passes to both its gradients (work on g done once: FFT's spectrum), or None


def _no_memo(kernel: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A transpose / weight kernel that has nothing to share between the two gradients: memo is dropped."""
    return lambda *args: kernel(*args[:-1])


_ALGOS = {
    "im2col": _Algorithm(lambda k, s, d, G, ci, cw: True, im2col.forward, _no_memo(im2col.transpose),
                         _no_memo(im2col.weight)),
    "blocked": _Algorithm(
        lambda k, s, d, G, ci, cw: True, blocked.forward, _no_memo(blocked.transpose),
        lambda x, g, k, s, p, d, G, cache, memo: blocked.weight(x, g, k, s, p, d, G)),
    "fft": _Algorithm(
        lambda k, s, d, G, ci, cw: fft.applies(s, G),
        lambda x, w, b, s, p, d, G, o, keep: fft.forward(x, w, b, p, d, o, keep),
        lambda g, w, s, p, d, G, hw, memo: fft.transpose(g, w, p, d, hw, memo),
        lambda x, g, k, s, p, d, G, cache, memo: fft.weight(x, g, k, p, d, cache, memo)),
    "winograd": _Algorithm(
        lambda k, s, d, G, ci, cw: winograd.applies(k, s, d, G),
        lambda x, w, b, s, p, d, G, o, keep: winograd.forward(x, w, b, p, o, keep),
        lambda g, w, s, p, d, G, hw, memo: winograd.transpose(g, w, p, hw),
        lambda x, g, k, s, p, d, G, cache, memo: winograd.weight(x, g, p)),
    "pointwise": _Algorithm(
        lambda k, s, d, G, ci, cw: False,  # also needs pads == 0: decided in applicable()
        lambda x, w, b, s, p, d, G, o, keep: pointwise.forward(x, w, b, s, o, keep),
        lambda g, w, s, p, d, G, hw, memo: pointwise.transpose(g, w, s, hw),
        lambda x, g, k, s, p, d, G, cache, memo: pointwise.weight(x, g, s)),
    "depthwise": _Algorithm(
        lambda k, s, d, G, ci, cw: depthwise.applies(ci, cw, G),
        lambda x, w, b, s, p, d, G, o, keep: depthwise.forward(x, w, b, s, p, d, o, keep),
        lambda g, w, s, p, d, G, hw, memo: depthwise.transpose(g, w, s, p, d, hw),
        lambda x, g, k, s, p, d, G, cache, memo: depthwise.weight(x, g, k, s, p, d, cache)),
}
ALGORITHMS = tuple(_ALGOS)


def _benchmark_mode() -> bool:
    try:
        from ..backends import cudnn
    except ImportError:  # pragma: no cover - the backends package is always present in releases
        return False
    return bool(cudnn.benchmark)


def applicable(kind: str, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int, c_image: int,
               c_window: int, *arrays: np.ndarray) -> tuple[str, ...]:
    """The algorithms that can run this kernel (empty arrays: im2col only, which handles every size)."""
    if not all(a.size for a in arrays):
        return ("im2col",)
    found = tuple(n for n, a in _ALGOS.items()
                  if getattr(a, kind) is not None and a.applies(kernel, stride, dilation, groups, c_image, c_window))
    return found + (("pointwise",) if pointwise.applies(kernel, pads, groups) else ())


def _rule(c_image: int, c_window: int, kernel: Pair, stride: Pair, dilation: Pair, groups: int,
          out_hw: Pair = (0, 0), kind: str = "forward") -> str:
    """Without benchmark mode. Depthwise convolutions: the depthwise kernels (blocked im2col for the forward and
    weight gradient of strided ones with >= 256 output pixels). 3x3 stride-1 convolutions on >= 32
    channels with >= 8x8 outputs: Winograd (1.1-2x faster than im2col there; slower on few channels, where the
    transforms dominate, and on 4x4 maps, where the 36 transformed kernels dominate; 1.2-2.4x faster than
    blocked im2col on torch-example's and ResNet's 3x3 layers, weight gradient included).
    Stride-1 kernels of >= 16 taps on >= 8 channels each side with >= 4x4 outputs: FFT (1.5-2.5x faster than
    im2col on every measured shape). From 256 output pixels per sample: blocked im2col (1.3-2x faster forward
    than im2col, no column matrix kept; its input gradient is a forward with the image's channels as GEMM rows:
    it needs >= 16 of them, and stride 1). im2col otherwise. Measurements: docs/benchmarks.md. out_hw (0, 0):
    unknown (no Winograd, FFT or blocked). kind: "forward", "transpose" or "weight"."""
    pixels, channels = out_hw[0] * out_hw[1], min(c_image, c_window)
    if depthwise.applies(c_image, c_window, groups):
        # strided on large maps (MobileNetV2's 32 -> 16): blocked im2col's forward and weight gradient are ~2x
        # the depthwise phases' speed; its strided input gradient is not (im2col's col2im)
        return "blocked" if stride != (1, 1) and pixels >= 256 and kind != "transpose" else "depthwise"
    if winograd.applies(kernel, stride, dilation, groups) and channels >= 32 and pixels >= 64:
        return "winograd"
    if (fft.applies(stride, groups) and kernel[0] * kernel[1] >= 16 and min(c_image, c_window) >= 8
            and pixels >= 16):  # LeNet's C5 (5x5 -> 1x1): nothing to gain from a transform
        return "fft"
    if pixels >= 256 and (kind != "transpose" or (stride == (1, 1) and c_image >= 16)):
        return "blocked"
    return "im2col"


def _timed(run: Callable[[], Any]) -> float:
    t = time.perf_counter()
    run()
    return time.perf_counter() - t


def _fastest(options: tuple[str, ...], runs: Callable[[str], Callable[[], Any]]) -> str:
    """The option with the best of 3 timed calls, the options' calls interleaved (a burst of load from another
    process then hits all of them alike); the first round also warms caches (DFT matrices, pages)."""
    best = {a: float("inf") for a in options}
    for _ in range(3):
        for a in options:
            best[a] = min(best[a], _timed(runs(a)))
    return min(options, key=best.__getitem__)


def choose(kind: str, key: tuple, options: tuple[str, ...], runs: Callable[[str], Callable[[], Any]],
           rule: str) -> str:
    """The algorithm for one kernel call: forced (tests), timed once (benchmark mode), or the rule."""
    if forced[0] is not None:
        return forced[0] if forced[0] in options else options[0]
    if "pointwise" in options:  # a 1x1 conv is a plain GEMM: nothing else comes close, no need to time
        return "pointwise"
    if len(options) == 1 or not _benchmark_mode():
        return rule if rule in options else options[0]
    full = (kind,) + key
    algo = _chosen.get(full)
    if algo is None:
        algo = _fastest(options, runs)
        _chosen[full] = algo
    return algo


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads, dilation: Pair,
            groups: int, out_hw: Pair, keep: bool) -> tuple[np.ndarray, tuple | None]:
    """y = conv2d(x, w) + b and, when keep, the weight gradient's cache (algorithm name, array)."""
    args = (x, w, b, stride, pads, dilation, groups, out_hw, keep)
    key = (x.shape, w.shape, stride, pads, dilation, groups, out_hw, keep, x.dtype.str)
    options = applicable("forward", w.shape[2:], stride, pads, dilation, groups, x.shape[1], w.shape[0], x, w)
    if keep and out_hw[0] * out_hw[1] >= 256:
        # training: im2col would keep its whole column matrix for the weight gradient (41 MB for torch-example's
        # conv2); blocked im2col is faster on these maps and keeps nothing. Not left to timing: a close call
        # on a loaded machine would otherwise decide the step's peak memory.
        options = tuple(a for a in options if a != "im2col") or options
    algo = choose("forward", key, options, lambda a: lambda: _ALGOS[a].forward(*args),
                  _rule(x.shape[1], w.shape[0], w.shape[2:], stride, dilation, groups, out_hw))
    y, cache = _ALGOS[algo].forward(*args)
    return y, (None if cache is None else (algo, cache))


def transpose(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair, groups: int,
              image_hw: Pair, memo: dict | None = None) -> np.ndarray:
    """The adjoint of forward in its image: g (N, O, Ho, Wo) -> (N, C, *image_hw). memo: shared with the weight
    gradient of the same backward (FFT: g's spectrum is computed once)."""
    args = (g, w, stride, pads, dilation, groups, image_hw)
    key = (g.shape, w.shape, stride, pads, dilation, groups, image_hw, g.dtype.str)
    c_image = w.shape[1] * groups
    algo = choose("transpose", key, applicable("transpose", w.shape[2:], stride, pads, dilation, groups, c_image,
                                               w.shape[0], g, w),
                  lambda a: lambda: _ALGOS[a].transpose(*args, None),  # timing shares nothing
                  _rule(c_image, w.shape[0], w.shape[2:], stride, dilation, groups, g.shape[2:], "transpose"))
    return _ALGOS[algo].transpose(*args, memo)


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
           cache: tuple | None, memo: dict | None = None) -> np.ndarray:
    """The weight gradient; a forward's cache decides the algorithm (its work is already done). memo: see
    transpose."""
    if cache is not None:
        return _ALGOS[cache[0]].weight(x, g, kernel, stride, pads, dilation, groups, cache[1], memo)
    args = (x, g, kernel, stride, pads, dilation, groups, None)
    key = (x.shape, g.shape, kernel, stride, pads, dilation, groups, x.dtype.str)
    algo = choose("weight", key, applicable("weight", kernel, stride, pads, dilation, groups, x.shape[1], g.shape[1],
                                            x, g),
                  lambda a: lambda: _ALGOS[a].weight(*args, None),  # timing shares nothing
                  _rule(x.shape[1], g.shape[1], kernel, stride, dilation, groups, g.shape[2:], "weight"))
    return _ALGOS[algo].weight(*args, memo)
