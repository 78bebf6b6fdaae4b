"""Convolution primitives: im2col (one copy of a strided window view) + one GEMM per group; col2im for backward.

Layout choice (measured, see docs/functional.md): the column matrix is laid out (C*kh*kw, N*H_out*W_out), i.e.
channel-major. Copying the window view into that order reads input rows with unit stride (the innermost copy
loop runs along W_out), which was about twice as fast as the pixel-major (N*H_out*W_out, C*kh*kw) layout; the
GEMMs then see contiguous or simply transposed operands only (BLAS transpose flags, no copies).
"""
from __future__ import annotations

import numpy as np

from ._primitive import Primitive
from ._windows import Pads, Pair, col2im, conv_out_size, crop2d, pad2d, windows


def _columns(x: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
             out_hw: Pair | None = None) -> tuple[np.ndarray, tuple, Pair]:
    """im2col: x (N, C, H, W) -> columns (groups, C/groups*kh*kw, N*H_out*W_out), plus the padded shape.

    out_hw defaults to every window that fits; a smaller one keeps the first windows (conv_transpose2d).
    """
    N, C = x.shape[:2]
    xp = pad2d(x, pads)
    out_hw = out_hw or (conv_out_size(x.shape[2], kernel[0], stride[0], pads[0] + pads[1], dilation[0]),
                        conv_out_size(x.shape[3], kernel[1], stride[1], pads[2] + pads[3], dilation[1]))
    win = windows(xp, kernel, stride, dilation, out_hw)          # (N, C, Ho, Wo, kh, kw) view
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(groups, C // groups * kernel[0] * kernel[1], -1)  # copy
    return cols, xp.shape, out_hw                                  # cols: (G, C/G*kh*kw, N*Ho*Wo)


def _col2im_input(gcols: np.ndarray, x_shape: tuple, padded_shape: tuple, kernel: Pair, stride: Pair,
                  pads: Pads, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """Adjoint of _columns: gcols (G, C/G*kh*kw, N*Ho*Wo) -> gradient of x (N, C, H, W)."""
    N, C = x_shape[:2]
    g6 = gcols.reshape(C, kernel[0], kernel[1], N, *out_hw)       # (C, kh, kw, N, Ho, Wo)
    # accumulate in (C, N, Hp, Wp), the order of the GEMM's output, then one transposing copy to NCHW:
    # measured 30% faster than adding transposed (N, C) tap slices into an NCHW buffer
    gxp = col2im(lambda i, j: g6[:, i, j], (C, N, *padded_shape[2:]), kernel, stride, dilation, out_hw,
                 gcols.dtype)
    return np.ascontiguousarray(crop2d(gxp, pads).transpose(1, 0, 2, 3))  # (N, C, H, W)


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
        out = np.matmul(w3, cols)                                  # (G, O/G, N*Ho*Wo): one GEMM per group
        out = out.reshape(O, N, *out_hw).transpose(1, 0, 2, 3)     # (N, O, Ho, Wo) view
        y = np.empty((N, O, *out_hw), dtype=out.dtype)             # torch returns contiguous NCHW
        if b is not None:
            np.add(out, b.reshape(O, 1, 1), out=y)                 # bias added during the layout copy
        else:
            np.copyto(y, out)
        ctx.save_for_backward(cols if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.meta = (x.shape, padded_shape, w.shape, stride, pads, dilation, groups, out_hw)
        return y

    @staticmethod
    def backward(ctx, g: np.ndarray) -> tuple:
        cols, w = ctx.saved_tensors
        x_shape, padded_shape, w_shape, stride, pads, dilation, groups, out_hw = ctx.meta
        O = w_shape[0]
        g3 = g.transpose(1, 0, 2, 3).reshape(groups, O // groups, -1)  # (G, O/G, N*Ho*Wo), a copy
        gx = gw = gb = None
        if ctx.needs_input_grad[2]:
            gb = g3.sum(axis=2).reshape(O)                          # (O,)
        if ctx.needs_input_grad[1]:
            gw = np.matmul(g3, cols.transpose(0, 2, 1)).reshape(w_shape)  # (G, O/G, C/G*kh*kw) -> w_shape
        if ctx.needs_input_grad[0]:
            w3 = w.reshape(groups, O // groups, -1)                # (G, O/G, C/G*kh*kw)
            gcols = np.matmul(w3.transpose(0, 2, 1), g3)           # (G, C/G*kh*kw, N*Ho*Wo)
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
        x3 = x.transpose(1, 0, 2, 3).reshape(groups, C_in // groups, -1)  # (G, C_in/G, N*H*W)
        w3 = w.reshape(groups, C_in // groups, -1)                         # (G, C_in/G, C_out/G*kh*kw)
        cols = np.matmul(w3.transpose(0, 2, 1), x3)                        # (G, C_out/G*kh*kw, N*H*W)
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
            if ctx.needs_input_grad[0]:                                    # cols: (G, C_out/G*kh*kw, N*H*W)
                gx3 = np.matmul(w3, cols)                                  # (G, C_in/G, N*H*W)
                N, C_in, H, W = x_shape
                gx = np.ascontiguousarray(gx3.reshape(C_in, N, H, W).transpose(1, 0, 2, 3))
            if ctx.needs_input_grad[1]:
                gw = np.matmul(x3, cols.transpose(0, 2, 1)).reshape(w_shape)  # (G, C_in/G, C_out/G*kh*kw)
        return gx, gw, gb, None, None, None, None, None
