"""nn.functional: pooling (torch.nn.functional names, arguments, defaults and error cases), plus stochastic
pooling (Zeiler & Fergus 2013), which torch does not have.

Shape (all): input (N, C, H, W) or unbatched (C, H, W) -> (N, C, H_out, W_out) (or (C, H_out, W_out)) with
H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1, rounded up instead with ceil_mode (the last window must
start inside the input or the left padding). Same for W.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...creation import where
from ...ops._windows import pool_out_size
from ...ops.pool import AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, StochasticPool2d
from ...random import Generator, rng_of
from ...tensor import Tensor
from ._window_args import Pair, is_int, batched, check_output_size, floating, pool_geometry

__all__ = ["max_pool2d", "avg_pool2d", "lp_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "stochastic_pool2d"]


def _out_hw(x: Tensor, kernel: Pair, stride: Pair, pad: Pair, dil: Pair, ceil_mode: bool, op: str) -> Pair:
    out = (pool_out_size(x.shape[2], kernel[0], stride[0], pad[0], dil[0], bool(ceil_mode)),
           pool_out_size(x.shape[3], kernel[1], stride[1], pad[1], dil[1], bool(ceil_mode)))
    detail = f"kernel_size={kernel}, stride={stride}, padding={pad}" + (f", dilation={dil}" if dil != (1, 1) else "")
    check_output_size(op, x, out, detail)
    return out


def _unbatch(t: Tensor, unbatched: bool) -> Tensor:
    return t.squeeze(0) if unbatched else t


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each (dilated) window; padding counts as -inf. Ties: the first maximum in row-major order
    takes the value's gradient (as torch). stride defaults to kernel_size.

    Returns the pooled tensor, or (pooled, indices) with int64 indices into each input plane's H*W.
    Raises RuntimeError: wrong rank, non-positive kernel/stride/dilation, negative padding or padding above
    half the effective kernel, or an output size below 1.
    """
    op = "max_pool2d"
    x, unbatched = batched(input, op)
    kernel, step, pad, dil = pool_geometry(op, input, kernel_size, stride, padding, dilation)
    out_hw = _out_hw(x, kernel, step, pad, dil, ceil_mode, op)
    res = MaxPool2d.apply(x, kernel, step, pad, dil, out_hw, bool(return_indices))
    if return_indices:
        return _unbatch(res[0], unbatched), _unbatch(res[1], unbatched)
    return _unbatch(res, unbatched)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each window of the zero-padded input. The divisor is divisor_override when given, else the
    window size clipped to the padded input (count_include_pad=True) or to the input itself (False).

    Raises RuntimeError: as max_pool2d, a non-floating input, or divisor_override == 0.
    """
    op = "avg_pool2d"
    x, unbatched = batched(input, op)
    floating(x, op)
    kernel, step, pad, _ = pool_geometry(op, input, kernel_size, stride, padding)
    if divisor_override is not None and (not is_int(divisor_override) or divisor_override == 0):
        raise RuntimeError(f"{op}: divisor_override must be a non-zero integer, but got {divisor_override!r}")
    out_hw = _out_hw(x, kernel, step, pad, (1, 1), ceil_mode, op)
    out = AvgPool2d.apply(x, kernel, step, pad, out_hw, bool(count_include_pad), divisor_override)
    return _unbatch(out, unbatched)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling (sum over the window of x^p)^(1/p), composed as torch does:
    (sign(a) * relu(|a|) * kH * kW)^(1/p) with a = avg_pool2d(x^p). p = inf is max_pool2d(|x|), p = -inf is
    -max_pool2d(-|x|). Where the window sum is 0 the gradient is 0 (torch's note)."""
    op = "lp_pool2d"
    x, _ = batched(input, op)
    floating(x, op)
    kernel, step, _, _ = pool_geometry(op, input, kernel_size, stride, 0)
    _out_hw(x, kernel, step, (0, 0), (1, 1), ceil_mode, op)  # errors name lp_pool2d, not the parts
    if norm_type == math.inf:
        return max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu() * (kernel[0] * kernel[1])).pow(1.0 / norm_type)


def _output_size(output_size: Any, x: Tensor, op: str) -> Pair:
    """int or (h, w), where None keeps that input dimension."""
    sizes = (output_size, output_size) if is_int(output_size) or output_size is None else output_size
    if not isinstance(sizes, (tuple, list)) or len(sizes) != 2 or \
            not all(s is None or is_int(s) for s in sizes):
        raise RuntimeError(f"{op}: output_size must be an int or a tuple of two ints (or None), but got "
                           f"{output_size!r}")
    out = tuple(x.shape[2 + a] if s is None else int(s) for a, s in enumerate(sizes))
    if min(out) < 0:
        raise RuntimeError(f"{op}: output_size must be non-negative, but got {output_size!r} "
                           f"(input shape {tuple(x.shape)})")
    return out  # type: ignore[return-value]


def _divides(x: Tensor, out_hw: Pair) -> bool:
    return min(out_hw) > 0 and x.shape[2] % out_hw[0] == 0 and x.shape[3] % out_hw[1] == 0


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row o averages input cells [floor(o size/out), ceil((o+1) size/out))."""
    m = np.zeros((out, size), dtype=dtype)
    for o in range(out):  # out is an output size (a handful of rows), not a per-pixel loop
        start, end = (o * size) // out, -((-(o + 1) * size) // out)
        m[o, start:end] = 1.0 / (end - start)
    return m


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over windows [floor(o H / H_out), ceil((o+1) H / H_out)) per axis, any H_out (None: keep H).

    When the output divides the input it is avg_pool2d with kernel = stride = H / H_out; otherwise the
    separable average A_h @ x @ A_w^T, composed from matmul (its gradient is the transposed averages).
    """
    op = "adaptive_avg_pool2d"
    x, unbatched = batched(input, op)
    floating(x, op)
    out_hw = _output_size(output_size, x, op)
    if _divides(x, out_hw):
        k = (x.shape[2] // out_hw[0], x.shape[3] // out_hw[1])
        return _unbatch(AvgPool2d.apply(x, k, k, (0, 0), out_hw, True, None), unbatched)
    dtype = x._data.dtype
    a_h = Tensor._wrap(_adaptive_matrix(x.shape[2], out_hw[0], dtype))       # (H_out, H)
    a_w = Tensor._wrap(_adaptive_matrix(x.shape[3], out_hw[1], dtype).T)     # (W, W_out)
    return _unbatch(a_h @ (x @ a_w), unbatched)                              # (N, C, H_out, W_out)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor | tuple[Tensor, Tensor]:
    """Max over adaptive windows (as adaptive_avg_pool2d); indices as max_pool2d's (flat H*W positions)."""
    op = "adaptive_max_pool2d"
    x, unbatched = batched(input, op)
    out_hw = _output_size(output_size, x, op)
    if _divides(x, out_hw):
        k = (x.shape[2] // out_hw[0], x.shape[3] // out_hw[1])
        res = MaxPool2d.apply(x, k, k, (0, 0), (1, 1), out_hw, bool(return_indices))
    else:
        res = AdaptiveMaxPool2d.apply(x, out_hw, bool(return_indices))
    if return_indices:
        return _unbatch(res[0], unbatched), _unbatch(res[1], unbatched)
    return _unbatch(res, unbatched)


def stochastic_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, training: bool = True,
                      generator: Generator | None = None) -> Tensor:
    """Stochastic pooling (Zeiler & Fergus 2013) over the non-negative parts a = relu(x) of each window.

    training=True: sample one element per window with probability a_i / sum(a) (from `generator` or the
    global generator) and output it; an all-zero window outputs 0; the gradient goes to the sampled element.
    training=False: the probability-weighted average sum(a_i^2) / sum(a_i) (0 for an all-zero window), with
    its gradient (2 a_i - out) / sum(a) for a_i > 0.

    Raises RuntimeError: as max_pool2d (no padding here) or a non-floating input.
    """
    op = "stochastic_pool2d"
    x, unbatched = batched(input, op)
    floating(x, op)
    kernel, step, _, _ = pool_geometry(op, input, kernel_size, stride, 0)
    out_hw = _out_hw(x, kernel, step, (0, 0), (1, 1), False, op)
    if training:
        return _unbatch(StochasticPool2d.apply(x, kernel, step, out_hw, rng_of(generator)), unbatched)
    a = x.relu()
    num = AvgPool2d.apply(a * a, kernel, step, (0, 0), out_hw, True, None)  # mean(a^2): k*k cancels below
    den = AvgPool2d.apply(a, kernel, step, (0, 0), out_hw, True, None)      # mean(a)
    some = den > 0
    return _unbatch(where(some, num / where(some, den, 1.0), 0.0), unbatched)
