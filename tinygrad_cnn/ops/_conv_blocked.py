"""Blocked im2col convolution kernels: the column matrix of a few samples at a time, in cache, in NCHW order.

im2col (_conv_im2col) builds the columns of the whole batch at once (41 MB for torch-example's conv2), laid out
batch-last, so its input and output cross two layout copies and the columns stream through memory twice. Here
the batch is cut into blocks of samples whose columns fit in about _BLOCK_BYTES (L2 cache); per block:

    the block's padded input  ->  columns (m, C*kh*kw, H_out*W_out)  ->  y[block] = w @ columns  (N, O, Ho*Wo)

one copy into a reused buffer and one batched GEMM that writes the NCHW output in place (bias added while the
block is in cache). Nothing is kept for the weight gradient (that would be the whole column matrix again): it
rebuilds each block's columns, as cheap as reading them back from memory, and sums g[n] @ columns[n]^T.

The input gradient of a stride-1 convolution is the forward convolution of the output gradient, padded by
d*(k-1) - pad, with the kernel flipped and its channel axes swapped (per group); strided ones run im2col's.
GEMMs with few pixels per sample are thin (LeNet's 10x10 maps): the rule uses this from 256 output pixels.
"""
from __future__ import annotations

import numpy as np

from . import _conv_im2col as im2col
from ._windows import Pads, Pair, adjoint_padding, windows

# Columns of one block. L2 is 1 MiB here; of 256 KiB - 2 MiB, 1 MiB was fastest or tied on every seed layer
# (CIFAR conv1 forward 5.9 -> 5.6 ms and weight gradient 5.6 -> 5.2 against 512 KiB, process CPU, alternating).
_BLOCK_BYTES = 1 << 20


def _block_size(n: int, k: int, pixels: int, itemsize: int) -> int:
    """Samples per block: columns of about _BLOCK_BYTES, at least one sample."""
    return max(1, min(n, _BLOCK_BYTES // max(1, k * pixels * itemsize)))


class _Columns:
    """The columns of x's samples [n0, n0 + m), one block at a time, in two reused buffers: the padded input
    (zero border written once) and the columns (m, C, kh, kw, Ho, Wo)."""

    def __init__(self, x: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, out_hw: Pair,
                 m: int) -> None:
        N, C, H, W = x.shape
        self.x, self.pads = x, pads
        self.padded = None
        if any(pads):
            self.padded = np.zeros((m, C, H + pads[0] + pads[1], W + pads[2] + pads[3]), x.dtype)
        self.geometry = (kernel, stride, dilation, out_hw)
        self.cols = np.empty((m, C, *kernel, *out_hw), x.dtype)

    def block(self, n0: int, m: int) -> np.ndarray:
        """Columns of samples n0 .. n0+m-1 as (m, C*kh*kw, Ho*Wo) (a view of the reused buffer)."""
        src = self.x[n0:n0 + m]
        if self.padded is not None:
            top, _, left, _ = self.pads
            H, W = src.shape[2:]
            xp = self.padded[:m]
            np.copyto(xp[:, :, top:top + H, left:left + W], src)
            src = xp
        kernel, stride, dilation, out_hw = self.geometry
        cols = self.cols[:m]
        np.copyto(cols, windows(src, kernel, stride, dilation, out_hw).transpose(0, 1, 4, 5, 2, 3))
        return cols.reshape(m, -1, out_hw[0] * out_hw[1])


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads, dilation: Pair,
            groups: int, out_hw: Pair, keep: bool = False) -> tuple[np.ndarray, None]:
    """y = conv2d(x, w) + b: x (N, C, H, W), w (O, C/G, kh, kw) -> (N, O, *out_hw) C-contiguous (no cache)."""
    N, O = x.shape[0], w.shape[0]
    P = out_hw[0] * out_hw[1]
    K = w[0].size * groups                                              # C * kh * kw
    m = _block_size(N, K, P, x.itemsize)
    src = _Columns(x, w.shape[2:], stride, pads, dilation, out_hw, m)
    w3 = w.reshape(groups, O // groups, K // groups)
    y = np.empty((N, O, P), x.dtype)
    for n0 in range(0, N, m):
        k = min(m, N - n0)
        cols = src.block(n0, k).reshape(k, groups, K // groups, P)
        out = y[n0:n0 + k]
        np.matmul(w3, cols, out=out.reshape(k, groups, O // groups, P))
        if b is not None:
            out += b.reshape(O, 1)
    return y.reshape(N, O, *out_hw), None


def transpose(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair, groups: int,
              image_hw: Pair) -> np.ndarray:
    """Adjoint of forward in x: g (N, O, Ho, Wo), w (O, C/G, kh, kw) -> (N, C, *image_hw)."""
    if stride != (1, 1):
        return im2col.transpose(g, w, stride, pads, dilation, groups, image_hw)
    O, Cg, kh, kw = w.shape
    flipped = np.ascontiguousarray(   # (C, O/G, kh, kw): per group, channel axes swapped, taps reversed
        w.reshape(groups, O // groups, Cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    ).reshape(groups * Cg, O // groups, kh, kw)
    g, grown = adjoint_padding(g, (kh, kw), pads, dilation, image_hw)
    return forward(g, flipped, None, (1, 1), grown, dilation, groups, image_hw)[0]


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
           groups: int) -> np.ndarray:
    """Weight gradient: x (N, C, H, W), g (N, O, Ho, Wo) -> (O, C/G, kh, kw) = sum_n g[n] @ columns[n]^T."""
    N, C = x.shape[:2]
    O, out_hw = g.shape[1], g.shape[2:]
    P = out_hw[0] * out_hw[1]
    K = C * kernel[0] * kernel[1]
    m = _block_size(N, K, P, x.itemsize)
    src = _Columns(x, kernel, stride, pads, dilation, out_hw, m)
    g4 = np.ascontiguousarray(g).reshape(N, groups, O // groups, P)
    # as gw^T = columns @ g^T, per sample: 20-30% faster in OpenBLAS than g @ columns^T for these shapes
    part = np.empty((m, groups, K // groups, O // groups), x.dtype)
    gwt = np.zeros((groups, K // groups, O // groups), x.dtype)
    for n0 in range(0, N, m):
        k = min(m, N - n0)
        cols = src.block(n0, k).reshape(k, groups, K // groups, P)
        np.matmul(cols, g4[n0:n0 + k].transpose(0, 1, 3, 2), out=part[:k])
        gwt += part[:k].sum(axis=0)
    return np.ascontiguousarray(gwt.transpose(0, 2, 1)).reshape(O, C // groups, *kernel)
