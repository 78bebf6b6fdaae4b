"""Depthwise convolution kernels (groups = in channels = out channels, MobileNet's 3x3 layers), tap by tap.

im2col would run one GEMM per channel, each (1 x kh*kw) @ (kh*kw x H_out*W_out*N): hundreds of matrix-vector
products plus a column matrix kh*kw times the input. Here every kernel tap (i, j) is one vectorised multiply-add
of a strided view of the padded input, for all channels at once: no column matrix, kh*kw passes over the output.
Arrays are laid out batch-last (C, H, W, N) in memory, as in _conv_im2col, so each tap reads long contiguous runs.
"""
from __future__ import annotations

import numpy as np

from ._windows import Pads, Pair, crop2d, pad2d, relayout, tap

_BLOCK_BYTES = 1 << 19


def applies(c_image: int, c_window: int, groups: int) -> bool:
    return groups > 1 and groups == c_image == c_window


def _taps(kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair):
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield i, j, tap(i, j, stride, dilation, out_hw)


def _batch_last(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> its (C, H, W, N) memory order as a view (a copy only when a is not laid out so already)."""
    t = a.transpose(1, 2, 3, 0)
    if t.flags.c_contiguous:
        return t
    out = np.empty(t.shape, a.dtype)
    relayout(out.transpose(3, 0, 1, 2), a)
    return out


def _blocks(C: int, bytes_per_channel: int):
    """Channel slices of about _BLOCK_BYTES: all kernel taps of one block run while its data is in cache (the
    whole-array version read and wrote every array kh*kw times from memory: 2-3x slower)."""
    step = max(1, _BLOCK_BYTES // max(1, bytes_per_channel))
    for c0 in range(0, C, step):
        yield slice(c0, min(C, c0 + step))


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads, dilation: Pair,
            out_hw: Pair, keep: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """x (N, C, H, W), w (C, 1, kh, kw) -> y (N, C, *out_hw) C-contiguous; cache: the padded batch-last input."""
    N, C = x.shape[:2]
    xp = pad2d(x, pads, batch_last=True).transpose(1, 2, 3, 0)            # (C, Hp, Wp, N) C-contiguous
    acc = np.zeros((C, *out_hw, N), x.dtype)
    tmp = np.empty_like(acc)
    for cb in _blocks(C, xp[0].nbytes + 2 * acc[0].nbytes):
        for i, j, (rows, cols) in _taps(w.shape[2:], stride, dilation, out_hw):
            np.multiply(xp[cb, rows, cols], w[cb, 0, i, j].reshape(-1, 1, 1, 1), out=tmp[cb])
            acc[cb] += tmp[cb]
    y = np.empty((N, C, *out_hw), x.dtype)
    relayout(y, acc.transpose(3, 0, 1, 2), None if b is None else b.reshape(C, 1, 1))
    return y, (xp if keep else None)


def transpose(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair,
              image_hw: Pair) -> np.ndarray:
    """Adjoint of forward in x: g (N, C, Ho, Wo), w (C, 1, kh, kw) -> (N, C, *image_hw) C-contiguous."""
    N, C = g.shape[:2]
    gb = _batch_last(g)                                                    # (C, Ho, Wo, N)
    padded = (C, image_hw[0] + pads[0] + pads[1], image_hw[1] + pads[2] + pads[3], N)
    gxp = np.zeros(padded, g.dtype)
    tmp = np.empty_like(gb)
    for cb in _blocks(C, gxp[0].nbytes + 2 * gb[0].nbytes):
        for i, j, (rows, cols) in _taps(w.shape[2:], stride, dilation, g.shape[2:]):
            np.multiply(gb[cb], w[cb, 0, i, j].reshape(-1, 1, 1, 1), out=tmp[cb])
            gxp[cb, rows, cols] += tmp[cb]
    gx = crop2d(gxp.transpose(3, 0, 1, 2), pads)                          # (N, C, H, W) view
    return relayout(np.empty(gx.shape, g.dtype), gx)


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
           cache: np.ndarray | None = None) -> np.ndarray:
    """Weight gradient: x (N, C, H, W), g (N, C, Ho, Wo) -> (C, 1, kh, kw); cache: forward's padded input."""
    C = x.shape[1]
    xp = cache if cache is not None else pad2d(x, pads, batch_last=True).transpose(1, 2, 3, 0)
    gb = _batch_last(g)
    gw = np.empty((C, 1, *kernel), g.dtype)
    for cb in _blocks(C, xp[0].nbytes + gb[0].nbytes):
        for i, j, (rows, cols) in _taps(kernel, stride, dilation, g.shape[2:]):
            gw[cb, 0, i, j] = np.einsum("chwn,chwn->c", xp[cb, rows, cols], gb[cb])
    return gw
