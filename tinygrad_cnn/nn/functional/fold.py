"""nn.functional.unfold / fold (im2col and its adjoint col2im), as torch, composed from slicing primitives.

unfold: input (N, C, H, W) -> (N, C * kH * kW, L), L = oH * oW, oH = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1;
  row c * kH * kW + i * kW + j holds the input value at kernel offset (i, j) of channel c, for every window.
fold:   (N, C * kH * kW, L) -> (N, C, H, W) with H, W = output_size: every column is added back into its window
  (overlaps add up), so fold(unfold(x)) multiplies each pixel by the number of windows covering it.

Both are kH * kW strided slices (unfold: GetItem + stack; fold: index-adds into zeros), exact and differentiable
to any order, since each is the other's adjoint made of primitives that already are.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...creation import stack
from ...ops.index import IndexAdd
from ...tensor import Tensor
from ._window_args import check_tensor, pair
from .misc import pad as _pad

__all__ = ["unfold", "fold"]


def _geometry(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    k = pair(kernel_size, "kernel_size", op, minimum=1, what="positive")
    d = pair(dilation, "dilation", op, minimum=1, what="positive")
    p = pair(padding, "padding", op, minimum=0, what="non-negative")
    s = pair(stride, "stride", op, minimum=1, what="positive")
    return k, d, p, s


def _blocks(size: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> tuple:
    return tuple((size[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(2))


def _window(i: int, j: int, d: tuple, s: tuple, out: tuple) -> tuple:
    """The strided slice of the padded input that kernel offset (i, j) sees across all windows."""
    return (Ellipsis, slice(i * d[0], i * d[0] + s[0] * (out[0] - 1) + 1, s[0]),
            slice(j * d[1], j * d[1] + s[1] * (out[1] - 1) + 1, s[1]))


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding local blocks of a batched (N, C, H, W) or unbatched (C, H, W) input -> (N, C*kH*kW, L)."""
    op = "unfold"
    check_tensor(input, "input", op)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D, "
                           f"shape {tuple(input.shape)})")
    k, d, p, s = _geometry(op, kernel_size, dilation, padding, stride)
    x = input.unsqueeze(0) if input.ndim == 3 else input
    out = _blocks(tuple(x.shape[2:]), k, d, p, s)
    if min(out) < 1:
        raise RuntimeError(f"{op}: Given input with spatial size {tuple(x.shape[2:])}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as {out}, "
                           f"but its components must be at least one.")
    xp = _pad(x, (p[1], p[1], p[0], p[0])) if any(p) else x
    n, c = x.shape[:2]
    cols = stack([xp[_window(i, j, d, s, out)] for i in range(k[0]) for j in range(k[1])], 2)  # (N, C, kk, oH, oW)
    cols = cols.reshape(n, c * k[0] * k[1], out[0] * out[1])
    return cols.squeeze(0) if input.ndim == 3 else cols


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum sliding local blocks (N, C*kH*kW, L) or (C*kH*kW, L) back into (N, C, H, W) with (H, W) = output_size."""
    op = "fold"
    check_tensor(input, "input", op)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.ndim}D, shape {tuple(input.shape)})")
    size = pair(output_size, "output_size", op, minimum=1, what="positive")
    k, d, p, s = _geometry(op, kernel_size, dilation, padding, stride)
    x = input.unsqueeze(0) if input.ndim == 2 else input
    kk = k[0] * k[1]
    out = _blocks(size, k, d, p, s)
    if x.shape[1] % kk or x.shape[2] != out[0] * out[1] or min(out) < 1:
        raise RuntimeError(f"{op}: expected size(1) divisible by kernel_size[0] * kernel_size[1] = {kk} and "
                           f"size(2) = {out[0] * out[1]} blocks ({out[0]} x {out[1]} for output_size={size}, "
                           f"kernel_size={k}, dilation={d}, padding={p}, stride={s}), but got input of shape "
                           f"{tuple(input.shape)}")
    n, c = x.shape[0], x.shape[1] // kk
    cols = x.reshape(n, c, kk, out[0], out[1])
    acc = Tensor._wrap(np.zeros((n, c, size[0] + 2 * p[0], size[1] + 2 * p[1]), x._data.dtype))
    for i in range(k[0]):
        for j in range(k[1]):
            acc = IndexAdd.apply(acc, _window(i, j, d, s, out), cols[:, :, i * k[1] + j])
    acc = acc[..., p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
    return acc.squeeze(0) if input.ndim == 2 else acc
