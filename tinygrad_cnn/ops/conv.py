"""Convolution primitives: im2col (one copy of a strided window view) + one GEMM per group; col2im for backward.

Layout (measured, see docs/functional.md): the column matrix is (C*kh*kw, H_out*W_out*N): channel-major rows,
and columns ordered with the batch innermost. For that the padded input is laid out (C, Hp, Wp, N) in memory, so
each kernel tap of a stride-1 conv is a run of W_out*N contiguous cells: im2col and col2im copy long runs and
were 1.5-2.3x faster than with NCHW order (whose runs are only W_out long), which in turn was 1.4-1.7x faster
than the pixel-major (N*H_out*W_out, C*kh*kw) layout. Every GEMM operand is contiguous or a plain transpose (BLAS
transpose flags, no copies); only arrays of the input's or output's size are transposed back to NCHW.
"""
from __future__ import annotations

import numpy as np

from ._primitive import Primitive
from ._windows import Pads, Pair, col2im, conv_out_size, crop2d, pad2d, relayout, windows


def _columns(x: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
             out_hw: Pair | None = None) -> tuple[np.ndarray, tuple, Pair]:
    """im2col: x (N, C, H, W) -> columns (groups, C/groups*kh*kw, H_out*W_out*N), plus the padded shape.

    out_hw defaults to every window that fits; a smaller one keeps the first windows (conv_transpose2d).
    """
    C = x.shape[1]
    xp = pad2d(x, pads, batch_last=True)                           # (N, C, Hp, Wp) view of (C, Hp, Wp, N)
    out_hw = out_hw or (conv_out_size(x.shape[2], kernel[0], stride[0], pads[0] + pads[1], dilation[0]),
                        conv_out_size(x.shape[3], kernel[1], stride[1], pads[2] + pads[3], dilation[1]))
    win = windows(xp, kernel, stride, dilation, out_hw)          # (N, C, Ho, Wo, kh, kw) view
    cols = win.transpose(1, 4, 5, 2, 3, 0).reshape(groups, C // groups * kernel[0] * kernel[1], -1)  # copy
    return cols, xp.shape, out_hw                                  # cols: (G, C/G*kh*kw, Ho*Wo*N)


def _col2im_input(gcols: np.ndarray, x_shape: tuple, padded_shape: tuple, kernel: Pair, stride: Pair,
                  pads: Pads, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """Adjoint of _columns: gcols (G, C/G*kh*kw, Ho*Wo*N) -> gradient of x (N, C, H, W), C-contiguous."""
    N, C = x_shape[:2]
    g6 = gcols.reshape(C, kernel[0], kernel[1], *out_hw, N)       # (C, kh, kw, Ho, Wo, N)
    gxp = col2im(lambda i, j: g6[:, i, j].transpose(3, 0, 1, 2),  # (N, C, Ho, Wo) view of tap (i, j)
                 (N, C, *padded_shape[2:]), kernel, stride, dilation, out_hw, gcols.dtype, batch_last=True)
    gx = crop2d(gxp, pads)                                         # (N, C, H, W) view
    return relayout(np.empty(gx.shape, gcols.dtype), gx)           # one (blocked) transposing copy to NCHW


def _to_rows(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> (groups, C/groups, H*W*N): the column order of _columns (a blocked transposing copy)."""
    N, C, H, W = a.shape
    rows = np.empty((C, H, W, N), a.dtype)
    relayout(rows.transpose(3, 0, 1, 2), a)
    return rows.reshape(groups, C // groups, -1)


def _from_rows(a: np.ndarray, n: int, hw: Pair) -> np.ndarray:
    """(groups, C/groups, H*W*N) -> (N, C, H, W) view (inverse of _to_rows)."""
    return a.reshape(a.shape[0] * a.shape[1], *hw, n).transpose(3, 0, 1, 2)


class Conv2d(Primitive):
    """2-D cross-correlation (torch's conv2d). x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) or None
    -> (N, O, H_out, W_out), H_out = floor((H + top + bottom - dilation*(kh-1) - 1) / stride) + 1.

    pads = (top, bottom, left, right); stride, dilation = (sh, sw), (dh, dw). Arguments are validated by
    nn.functional.conv2d. Gradients: grad_w = delta @ columns^T, grad_x = col2im(w^T @ delta), grad_b = sum delta.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads,
                dilation: Pair, groups: int) -> np.ndarray:
        N, O = x.shape[0], w.shape[0]
        kernel = w.shape[2:]
        cols, padded_shape, out_hw = _columns(x, kernel, stride, pads, dilation, groups)
        w3 = w.reshape(groups, O // groups, -1)                   # (G, O/G, C/G*kh*kw)
        out = _from_rows(np.matmul(w3, cols), N, out_hw)           # GEMM (G, O/G, Ho*Wo*N) -> (N, O, Ho, Wo)
        y = np.empty((N, O, *out_hw), dtype=out.dtype)             # torch returns contiguous NCHW
        relayout(y, out, None if b is None else b.reshape(O, 1, 1))  # bias added during the layout copy
        ctx.save_for_backward(cols if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.meta = (x.shape, padded_shape, w.shape, stride, pads, dilation, groups, out_hw)
        return y

    @staticmethod
    def backward(ctx, g: np.ndarray) -> tuple:
        cols, w = ctx.saved_tensors
        x_shape, padded_shape, w_shape, stride, pads, dilation, groups, out_hw = ctx.meta
        O = w_shape[0]
        g3 = _to_rows(g, groups)                                   # (G, O/G, Ho*Wo*N), a copy
        gx = gw = gb = None
        if ctx.needs_input_grad[2]:
            gb = g3.sum(axis=2).reshape(O)                          # (O,)
        if ctx.needs_input_grad[1]:
            # as gw^T = cols @ g3^T: the same GEMM, 10-35% faster in OpenBLAS than g3 @ cols^T for these shapes
            gwt = np.matmul(cols, g3.transpose(0, 2, 1))                # (G, C/G*kh*kw, O/G)
            gw = np.ascontiguousarray(gwt.transpose(0, 2, 1)).reshape(w_shape)
        if ctx.needs_input_grad[0]:
            w3 = w.reshape(groups, O // groups, -1)                # (G, O/G, C/G*kh*kw)
            gcols = np.matmul(w3.transpose(0, 2, 1), g3)           # (G, C/G*kh*kw, Ho*Wo*N)
            gx = _col2im_input(gcols, x_shape, padded_shape, w_shape[2:], stride, pads, dilation, out_hw)
        return gx, gw, gb, None, None, None, None


class ConvTranspose2d(Primitive):
    """Transposed convolution (torch's conv_transpose2d): the input-gradient of conv2d run forward.

    x (N, C_in, H, W), w (C_in, C_out/groups, kh, kw), b (C_out,) or None -> (N, C_out, H_out, W_out) with
    H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding_H + 1. Forward: one GEMM per group (w^T @ x) and
    col2im; backward: im2col of the output gradient and the GEMMs of conv2d's forward and weight gradient.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, padding: Pair,
                output_padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
        N, C_in, H, W = x.shape
        C_out, kernel = w.shape[1] * groups, w.shape[2:]
        pads = (padding[0], padding[0], padding[1], padding[1])
        full = tuple((n - 1) * s + d * (k - 1) + o + 1 for n, s, d, k, o in
                     zip((H, W), stride, dilation, kernel, output_padding))  # padded output size (Hp, Wp)
        x3 = _to_rows(x, groups)                                           # (G, C_in/G, H*W*N)
        w3 = w.reshape(groups, C_in // groups, -1)                         # (G, C_in/G, C_out/G*kh*kw)
        cols = np.matmul(w3.transpose(0, 2, 1), x3)                        # (G, C_out/G*kh*kw, H*W*N)
        y = _col2im_input(cols, (N, C_out), (N, C_out, *full), kernel, stride, pads, dilation, (H, W))
        if b is not None:
            y += b.reshape(C_out, 1, 1)
        ctx.save_for_backward(x3 if ctx.needs_input_grad[1] else None, w3 if ctx.needs_input_grad[0] else None)
        ctx.meta = (x.shape, w.shape, stride, pads, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, g: np.ndarray) -> tuple:
        x3, w3 = ctx.saved_tensors
        x_shape, w_shape, stride, pads, dilation, groups = ctx.meta
        gx = gw = gb = None
        if ctx.needs_input_grad[2]:
            gb = g.sum(axis=(0, 2, 3))                                     # (C_out,)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            cols, _, _ = _columns(g, w_shape[2:], stride, pads, dilation, groups, x_shape[2:])
            if ctx.needs_input_grad[0]:                                    # cols: (G, C_out/G*kh*kw, H*W*N)
                gx = np.ascontiguousarray(_from_rows(np.matmul(w3, cols), x_shape[0], x_shape[2:]))
            if ctx.needs_input_grad[1]:
                gwt = np.matmul(cols, x3.transpose(0, 2, 1))              # (G, C_out/G*kh*kw, C_in/G)
                gw = np.ascontiguousarray(gwt.transpose(0, 2, 1)).reshape(w_shape)  # as in Conv2d.backward
        return gx, gw, gb, None, None, None, None, None
