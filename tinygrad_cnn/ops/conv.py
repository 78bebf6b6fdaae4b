"""Convolution primitives. Their derivatives are convolutions again, so gradients of gradients work to any order:

    Conv2d(x, w)          y = x * w (cross-correlation)   dx = ConvTranspose2d(g, w)   dw = Conv2dWeight(x, g)
    ConvTranspose2d(x, w) y = adjoint of Conv2d in x       dx = Conv2d(g, w)            dw = Conv2dWeight(g, x)
    Conv2dWeight(x, g)    dw = <g, Conv2d(x, .)>           dx = ConvTranspose2d(g, ggw) dg = Conv2d(x, ggw)

All three share one geometry: an "image" of spatial size image_hw, padded by pads = (top, bottom, left, right),
and the windows of a kernel (kh, kw) placed every `stride` cells, taps `dilation` apart; out_hw windows per axis
(all that fit, or the first ones). Every backward is written once with `_dual` calls (numpy arrays on the
first-order path, Tensors under create_graph). The array kernels (im2col, FFT) are chosen per shape by
_conv_select.py (tg.backends.cudnn.benchmark).
"""
from __future__ import annotations

import numpy as np

from . import _conv_im2col as im2col
from . import _conv_select as algos
from ._primitive import Primitive
from ._windows import Pads, Pair

from ._dual import call, is_tensor, sum as dsum


def _shared_layout(g: object, cache: tuple | None) -> object:
    """On the array path, when the forward ran im2col, lay the output gradient out batch-last once: the im2col
    gradient kernels then read it in place (the other algorithms read NCHW; a Tensor is left as it is)."""
    if is_tensor(g) or cache is None or cache[0] != "im2col":
        return g
    return im2col.batch_last(g)


def _bias_grad(g: object) -> object:
    """The bias gradient, g summed over (N, H, W). On a C-contiguous array: per-sample matrix-vector products with
    ones, then a sum over the batch (3x faster than numpy's reduction over axes (0, 2, 3): 0.35 -> 0.11 ms on
    (50, 32, 32, 32)); otherwise (a Tensor under create_graph, a batch-last array) the Sum primitive."""
    if is_tensor(g) or not g.flags.c_contiguous:
        return dsum(g, (0, 2, 3))
    N, C, H, W = g.shape
    return (g.reshape(N, C, H * W) @ np.ones(H * W, g.dtype)).sum(0)


class Conv2d(Primitive):
    """2-D cross-correlation (torch's conv2d). x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) or None
    -> (N, O, H_out, W_out), H_out = floor((H + top + bottom - dilation*(kh-1) - 1) / stride) + 1, or the first
    out_hw windows when given (the input gradient of a transposed convolution).

    Arguments are validated by nn.functional.conv2d.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads,
                dilation: Pair, groups: int, out_hw: Pair | None = None) -> np.ndarray:
        kernel = w.shape[2:]
        out_hw = out_hw or im2col.out_size(x.shape[2:], kernel, stride, pads, dilation)
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        y, cache = algos.forward(x, w, b, stride, pads, dilation, groups, out_hw, keep=need_w)
        ctx.save_for_backward(x if need_w else None, w if need_x else None, cache)
        ctx.meta = (x.shape, kernel, stride, pads, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, g: np.ndarray) -> tuple:
        x, w, cache = ctx.saved_tensors
        x_shape, kernel, stride, pads, dilation, groups = ctx.meta
        g = _shared_layout(g, cache)
        # both gradients transform g: on the array path they share that work (FFT: g's spectrum) through memo
        memo = {} if ctx.needs_input_grad[0] and ctx.needs_input_grad[1] and not is_tensor(g) else None
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = call(ConvTranspose2d, g, w, None, stride, pads, dilation, groups, x_shape[2:], memo)
        if ctx.needs_input_grad[1]:
            gw = call(Conv2dWeight, x, g, kernel, stride, pads, dilation, groups, cache, memo)
        if ctx.needs_input_grad[2]:
            gb = _bias_grad(g)
        return gx, gw, gb, None, None, None, None, None


class ConvTranspose2d(Primitive):
    """Transposed convolution: the adjoint of Conv2d(., w) in its input, run forward.

    x (N, C_in, H, W) (one value per window), w (C_in, C_out/groups, kh, kw), b (C_out,) or None
    -> (N, C_out, *out_hw) (the image). nn.functional.conv_transpose2d passes pads = (p, p, q, q) and
    out_hw = (H - 1) s - 2 p + d (k - 1) + output_padding + 1 per axis. memo: see Conv2dWeight (not
    differentiable; Conv2d's backward passes one to both its gradients).
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads,
                dilation: Pair, groups: int, out_hw: Pair, memo: dict | None = None) -> np.ndarray:
        y = algos.transpose(x, w, stride, pads, dilation, groups, out_hw, memo)
        if b is not None:
            y += b.reshape(-1, 1, 1)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.meta = (x.shape, w.shape[2:], stride, pads, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, g: np.ndarray) -> tuple:
        x, w = ctx.saved_tensors
        x_shape, kernel, stride, pads, dilation, groups = ctx.meta
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = call(Conv2d, g, w, None, stride, pads, dilation, groups, x_shape[2:])
        if ctx.needs_input_grad[1]:
            gw = call(Conv2dWeight, g, x, kernel, stride, pads, dilation, groups, None)
        if ctx.needs_input_grad[2]:
            gb = _bias_grad(g)
        return gx, gw, gb, None, None, None, None, None, None


class Conv2dWeight(Primitive):
    """The weight gradient of Conv2d as an op of its own: x (N, C, H, W) (image), g (N, O, Ho, Wo) (one value per
    window) -> (O, C/groups, kh, kw), gw[o, c, i, j] = sum over n and windows p of g[n, o, p] * x_pad[n, c, tap].

    cache: what Conv2d's forward kept for it ((algorithm, x's columns or spectrum), not differentiable) or None:
    it saves recomputing that from x. memo: a dict shared with the ConvTranspose2d of the same backward (work on
    g done once, e.g. its spectrum), or None.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
                groups: int, cache: tuple | None = None, memo: dict | None = None) -> np.ndarray:
        gw = algos.weight(x, g, kernel, stride, pads, dilation, groups, cache, memo)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, g if ctx.needs_input_grad[0] else None)
        ctx.meta = (x.shape, g.shape, stride, pads, dilation, groups)
        return gw

    @staticmethod
    def backward(ctx, ggw: np.ndarray) -> tuple:
        x, g = ctx.saved_tensors
        x_shape, g_shape, stride, pads, dilation, groups = ctx.meta
        gx = gg = None
        if ctx.needs_input_grad[0]:
            gx = call(ConvTranspose2d, g, ggw, None, stride, pads, dilation, groups, x_shape[2:])
        if ctx.needs_input_grad[1]:
            gg = call(Conv2d, x, ggw, None, stride, pads, dilation, groups, g_shape[2:])
        return gx, gg, None, None, None, None, None, None, None
