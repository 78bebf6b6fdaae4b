"""im2col convolution kernels on numpy arrays: one copy of a strided window view + one GEMM per group.

The three kernels every convolution primitive is made of (ops/conv.py):
- `forward(x, w, ...)`: y = conv2d(x, w)                     (the "image" x -> one value per window)
- `transpose(g, w, ...)`: the adjoint of forward in x           (one value per window -> image, col2im)
- `weight(x, g, ...)`: the weight gradient, <g, conv2d(x, .)>   (image x and per-window g -> kernel)

Layout (measured, see docs/benchmarks.md): the column matrix is (C*kh*kw, H_out*W_out*N): channel-major rows,
and columns ordered with the batch innermost. For that the padded input is laid out (C, Hp, Wp, N) in memory, so
each kernel tap of a stride-1 conv is a run of W_out*N contiguous cells: im2col and col2im copy long runs and
were 1.5-2.3x faster than with NCHW order (whose runs are only W_out long), which in turn was 1.4-1.7x faster
than the pixel-major (N*H_out*W_out, C*kh*kw) layout. Every GEMM operand is contiguous or a plain transpose (BLAS
transpose flags, no copies). An (N, C, H, W) array whose memory is already (C, H, W, N) ("batch-last", see
`batch_last`) is used in place: conv's backward lays its output gradient out once and all three kernels share it.
"""
from __future__ import annotations

import numpy as np

from ._windows import Pads, Pair, col2im, conv_out_size, crop2d, pad2d, relayout, windows


def out_size(image_hw: Pair, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair) -> Pair:
    """Number of windows (H_out, W_out) that fit in the padded image."""
    return (conv_out_size(image_hw[0], kernel[0], stride[0], pads[0] + pads[1], dilation[0]),
            conv_out_size(image_hw[1], kernel[1], stride[1], pads[2] + pads[3], dilation[1]))


def is_batch_last(a: np.ndarray) -> bool:
    """True when the (N, C, H, W) array a is a view of C-contiguous (C, H, W, N) memory."""
    return a.transpose(1, 2, 3, 0).flags.c_contiguous


def batch_last(a: np.ndarray) -> np.ndarray:
    """a (N, C, H, W) with its memory laid out (C, H, W, N): a itself when it already is, else a blocked copy."""
    if is_batch_last(a):
        return a
    N, C, H, W = a.shape
    out = np.empty((C, H, W, N), a.dtype).transpose(3, 0, 1, 2)
    return relayout(out, a)


def rows(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> (groups, C/groups, H*W*N): the column order of `columns` (a view of batch-last memory)."""
    N, C, H, W = a.shape
    return batch_last(a).transpose(1, 2, 3, 0).reshape(groups, C // groups, H * W * N)


def from_rows(a: np.ndarray, n: int, hw: Pair) -> np.ndarray:
    """(groups, C/groups, H*W*N) -> (N, C, H, W) view (inverse of rows)."""
    return a.reshape(a.shape[0] * a.shape[1], *hw, n).transpose(3, 0, 1, 2)


def columns(x: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
            out_hw: Pair) -> np.ndarray:
    """im2col: x (N, C, H, W) -> columns (groups, C/groups*kh*kw, H_out*W_out*N) of the first out_hw windows."""
    C = x.shape[1]
    xp = pad2d(x, pads, batch_last=True)                           # (N, C, Hp, Wp) view of (C, Hp, Wp, N)
    win = windows(xp, kernel, stride, dilation, out_hw)            # (N, C, Ho, Wo, kh, kw) view
    return win.transpose(1, 4, 5, 2, 3, 0).reshape(groups, C // groups * kernel[0] * kernel[1], -1)  # copy


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads, dilation: Pair,
            groups: int, out_hw: Pair, keep_columns: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """y = conv2d(x, w) + b: x (N, C, H, W), w (O, C/G, kh, kw) -> y (N, O, *out_hw) C-contiguous, and the
    column matrix when keep_columns (the weight gradient reuses it)."""
    N, O = x.shape[0], w.shape[0]
    cols = columns(x, w.shape[2:], stride, pads, dilation, groups, out_hw)
    out = from_rows(np.matmul(w.reshape(groups, O // groups, -1), cols), N, out_hw)  # (N, O, Ho, Wo) view
    y = np.empty((N, O, *out_hw), dtype=out.dtype)                 # torch returns contiguous NCHW
    relayout(y, out, None if b is None else b.reshape(O, 1, 1))    # bias added during the layout copy
    return y, (cols if keep_columns else None)


def transpose(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair, groups: int,
              image_hw: Pair) -> np.ndarray:
    """Adjoint of forward in x: g (N, O, Ho, Wo), w (O, C/G, kh, kw) -> (N, C, *image_hw) C-contiguous.

    One GEMM per group (w^T @ g) and col2im: kh*kw strided additions into the padded image.
    """
    N, O, Ho, Wo = g.shape
    C, kernel = w.shape[1] * groups, w.shape[2:]
    w3 = w.reshape(groups, O // groups, -1)                                # (G, O/G, C/G*kh*kw)
    g6 = np.matmul(w3.transpose(0, 2, 1), rows(g, groups)).reshape(C, *kernel, Ho, Wo, N)
    padded = (N, C, image_hw[0] + pads[0] + pads[1], image_hw[1] + pads[2] + pads[3])
    gxp = col2im(lambda i, j: g6[:, i, j].transpose(3, 0, 1, 2),          # (N, C, Ho, Wo) view of tap (i, j)
                 padded, kernel, stride, dilation, (Ho, Wo), g6.dtype, batch_last=True)
    gx = crop2d(gxp, pads)                                                 # (N, C, H, W) view
    return relayout(np.empty(gx.shape, g6.dtype), gx)                      # one blocked copy to NCHW


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
           cols: np.ndarray | None = None) -> np.ndarray:
    """Weight gradient: x (N, C, H, W), g (N, O, Ho, Wo) -> (O, C/G, kh, kw); cols: x's columns if at hand."""
    O = g.shape[1]
    if cols is None:
        cols = columns(x, kernel, stride, pads, dilation, groups, g.shape[2:])
    # as gw^T = cols @ g3^T: the same GEMM, 10-35% faster in OpenBLAS than g3 @ cols^T for these shapes
    gwt = np.matmul(cols, rows(g, groups).transpose(0, 2, 1))             # (G, C/G*kh*kw, O/G)
    gw = np.empty((gwt.shape[0], gwt.shape[2], gwt.shape[1]), gwt.dtype)
    for k0 in range(0, gwt.shape[1], 64):  # transposing copy in 64-row blocks: 5 ms -> <1 ms for (4608, 512)
        np.copyto(gw[:, :, k0:k0 + 64], gwt[:, k0:k0 + 64].transpose(0, 2, 1))
    return gw.reshape(O, x.shape[1] // groups, *kernel)
