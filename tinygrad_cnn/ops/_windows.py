"""Sliding windows shared by convolution and pooling: output sizes, padding, the im2col view and col2im.

Every window operation here is built from two facts about an (N, C, Hp, Wp) padded input:
- the window view `windows(xp, ...)` (N, C, H_out, W_out, kh, kw) is a strided view of xp: no copy;
- kernel tap (i, j) of every window at once is the strided slice `xp[:, :, tap(i, j, ...)]` (N, C, H_out, W_out).
So im2col is one copy of the view, and col2im (its adjoint) is a loop over the kh*kw taps adding strided slices:
kh*kw vectorised additions, never a Python loop over output pixels, never `np.add.at`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]
Pads = tuple[int, int, int, int]  # (top, bottom, left, right)


def conv_out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """floor((size + pad_total - dilation*(kernel-1) - 1) / stride) + 1 (may be <= 0: the caller raises)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape: with ceil_mode the last window may hang over the right edge, but it must
    start inside the input or the left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = -(-span // stride) + 1 if ceil_mode else span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def overhang(size: int, kernel: int, stride: int, pad: int, dilation: int, out: int) -> int:
    """Extra cells needed after the right padding so that `out` windows fit (non-zero only with ceil_mode)."""
    need = (out - 1) * stride + dilation * (kernel - 1) + 1
    return max(0, need - (size + 2 * pad))


# A transposing copy between NCHW and batch-last (C, H, W, N) order reads one of the two arrays with a stride of
# N or H*W elements: once that array outgrows the L2 cache every cache line is fetched again for each of the 16
# floats it holds. Copied in blocks of channels of about this many bytes, each block stays in cache (measured:
# (64, 32, 26, 26) float32, 9 ms -> 1.9 ms).
_BLOCK_BYTES = 1 << 18


def relayout(dst: np.ndarray, src: np.ndarray, add: np.ndarray | None = None) -> np.ndarray:
    """dst[...] = src (+ add), for (N, C, H, W) arrays of different memory orders, in cache-sized channel blocks.

    add: None, or an array broadcasting over (C, 1, 1) (a per-channel bias). Returns dst.
    """
    N, C, H, W = src.shape
    step = max(1, _BLOCK_BYTES // max(1, N * H * W * src.itemsize))  # channels per block
    for c0 in range(0, C, step):
        block = slice(c0, c0 + step)
        if add is None:
            np.copyto(dst[:, block], src[:, block])
        else:
            np.add(src[:, block], add[block], out=dst[:, block])
    return dst


def _alloc(shape: tuple, value: float, dtype: np.dtype, batch_last: bool) -> np.ndarray:
    """An (N, C, H, W) array; with batch_last its memory is laid out (C, H, W, N) (returned as a view)."""
    N, C, H, W = shape
    layout = (C, H, W, N) if batch_last else shape
    buf = np.zeros(layout, dtype=dtype) if value == 0 else np.full(layout, value, dtype=dtype)  # zeros: calloc
    return buf.transpose(3, 0, 1, 2) if batch_last else buf


def pad2d(x: np.ndarray, pads: Pads, value: float = 0.0, batch_last: bool = False) -> np.ndarray:
    """x (N, C, H, W) -> (N, C, H + top + bottom, W + left + right) filled with `value`; x itself if no padding
    (and no relayout). One allocation and one interior copy (np.pad is several times slower for this case).

    batch_last: lay the result out in memory as (C, Hp, Wp, N) (still indexed (N, C, Hp, Wp)): conv's window taps
    then cover whole contiguous runs of W_out * N cells, which makes im2col and col2im ~2x faster.
    """
    top, bottom, left, right = pads
    if not (top or bottom or left or right or batch_last):
        return x
    N, C, H, W = x.shape
    xp = _alloc((N, C, H + top + bottom, W + left + right), value, x.dtype, batch_last)
    if batch_last:
        relayout(xp[:, :, top:top + H, left:left + W], x)
    else:
        xp[:, :, top:top + H, left:left + W] = x
    return xp


def crop2d(xp: np.ndarray, pads: Pads) -> np.ndarray:
    """The inverse of pad2d for gradients: the interior view (N, C, H, W) of (N, C, Hp, Wp)."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return xp
    return xp[..., top:xp.shape[-2] - bottom, left:xp.shape[-1] - right]


def adjoint_padding(g: np.ndarray, kernel: Pair, pads: Pads, dilation: Pair, image_hw: Pair) -> tuple:
    """A stride-1 convolution's input gradient as a forward convolution: correlating the returned g with the kernel
    flipped (and, with channels, its two channel axes swapped) under the returned pads (top, bottom, left, right)
    gives the (N, C, *image_hw) gradient. g (N, O, Ho, Wo) is padded by the kernel's span minus the forward's pad
    on each side, and cropped (a view) where that is negative (a pad larger than the span)."""
    (kh, kw), (Ho, Wo), (H, W) = kernel, g.shape[2:], image_hw
    top, left = dilation[0] * (kh - 1) - pads[0], dilation[1] * (kw - 1) - pads[2]
    bottom, right = H + pads[0] - Ho, W + pads[2] - Wo
    g = g[:, :, max(0, -top):Ho - max(0, -bottom), max(0, -left):Wo - max(0, -right)]
    return g, (max(0, top), max(0, bottom), max(0, left), max(0, right))


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """Read-only strided view of every window: xp (N, C, Hp, Wp) -> (N, C, H_out, W_out, kh, kw), no copy."""
    sN, sC, sH, sW = xp.strides
    N, C = xp.shape[:2]
    return as_strided(xp, (N, C, *out_hw, *kernel),
                      (sN, sC, sH * stride[0], sW * stride[1], sH * dilation[0], sW * dilation[1]),
                      writeable=False)


def tap(i: int, j: int, stride: Pair, dilation: Pair, out_hw: Pair) -> tuple[slice, slice]:
    """Index of kernel tap (i, j) of all windows: xp[:, :, rows, cols] is (N, C, H_out, W_out)."""
    r0, c0 = i * dilation[0], j * dilation[1]
    return (slice(r0, r0 + stride[0] * (out_hw[0] - 1) + 1, stride[0]),
            slice(c0, c0 + stride[1] * (out_hw[1] - 1) + 1, stride[1]))


def col2im(tap_grad: Callable[[int, int], np.ndarray], padded_shape: tuple, kernel: Pair, stride: Pair,
           dilation: Pair, out_hw: Pair, dtype: np.dtype, batch_last: bool = False) -> np.ndarray:
    """Adjoint of the window view: sum each tap's gradient back onto the padded input.

    tap_grad(i, j) returns the gradient reaching tap (i, j) of every window, broadcastable to (N, C, H_out, W_out).
    Returns (N, C, Hp, Wp) = padded_shape, laid out (C, Hp, Wp, N) in memory when batch_last (see pad2d).
    Loops over the kh*kw taps only; when windows do not overlap (stride >= dilated kernel extent on both axes)
    the taps write disjoint cells, so assignment replaces addition.
    """
    kh, kw = kernel
    disjoint = stride[0] >= dilation[0] * (kh - 1) + 1 and stride[1] >= dilation[1] * (kw - 1) + 1
    grad = _alloc(padded_shape, 0, dtype, batch_last)
    for i in range(kh):
        for j in range(kw):
            rows, cols = tap(i, j, stride, dilation, out_hw)
            if disjoint:
                grad[..., rows, cols] = tap_grad(i, j)
            else:
                grad[..., rows, cols] += tap_grad(i, j)
    return grad
