"""nn.functional: max_pool1d / avg_pool1d, as torch: the 2-D pools over a (N, C, 1, L) view of the input.

Shape: input (N, C, L) or unbatched (C, L) -> (N, C, L_out) (or (C, L_out)) with
L_out = floor((L + 2 p - d (k - 1) - 1) / s) + 1 (rounded up with ceil_mode). Indices (return_indices) index L.
"""
from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from ._window_args import check_tensor, is_int
from .pooling import avg_pool2d, max_pool2d

__all__ = ["max_pool1d", "avg_pool1d"]


def _single(value: Any, name: str, op: str) -> int:
    """An int or a 1-element sequence of ints (torch's _single); anything else names the argument."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not is_int(value):
        raise RuntimeError(f"{op}: {name} must be an int or a tuple of one int, but got {name}={value!r}")
    return int(value)


def _as_2d(input: Any, op: str) -> tuple[Tensor, bool]:
    check_tensor(input, "input", op)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got input of shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    return x.unsqueeze(2), input.ndim == 2


def _back(t: Tensor, unbatched: bool) -> Tensor:
    t = t.squeeze(2)
    return t.squeeze(0) if unbatched else t


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over each (dilated) window of length kernel_size; padding counts as -inf; stride defaults to
    kernel_size. Returns the pooled tensor or (pooled, int64 indices into L)."""
    op = "max_pool1d"
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride", op)
    p, d = _single(padding, "padding", op), _single(dilation, "dilation", op)
    x, unbatched = _as_2d(input, op)
    out = max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return _back(out[0], unbatched), _back(out[1], unbatched)
    return _back(out, unbatched)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of the zero-padded input (count_include_pad: the padding counts in the divisor)."""
    op = "avg_pool1d"
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride", op)
    p = _single(padding, "padding", op)
    x, unbatched = _as_2d(input, op)
    return _back(avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad), unbatched)
