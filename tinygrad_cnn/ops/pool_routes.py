"""Gradient routes of the selecting pools: a scatter by saved indices and its adjoint, the gather by the same indices.

MaxPool2d and StochasticPool2d (training) output one input element per window, remembered as its tap number
(i * kw + j; -1: none); AdaptiveMaxPool2d remembers flat positions in the H*W plane. Their gradient is a scatter of g
by those indices, linear in g, so its derivative is its adjoint: the gather by the same indices, whose own derivative
is the scatter again. Both are primitives, so a pool's gradient differentiates again, to any order. The indices are
constants of the derivative (a small move of x does not change which element wins).

geom (tap routes) = (x_shape, kernel, stride, dilation, pads, out_hw), pads = (top, bottom, left, right) including
the ceil_mode overhang: the geometry the pool ran with.
"""
from __future__ import annotations

import numpy as np

from ._dual import call
from ._primitive import Primitive
from ._windows import col2im, crop2d, pad2d, tap


def _padded_shape(x_shape: tuple, pads: tuple) -> tuple:
    return (*x_shape[:2], x_shape[2] + pads[0] + pads[1], x_shape[3] + pads[2] + pads[3])


class TapScatter(Primitive):
    """g (N, C, Ho, Wo) -> (N, C, H, W): each window's g added onto the input cell at its tap number in `taps`
    (N, C, Ho, Wo) (-1: nowhere). A col2im over the kh*kw taps; cells in the padding are cropped away."""

    @staticmethod
    def forward(ctx, g: np.ndarray, taps: np.ndarray, geom: tuple) -> np.ndarray:
        x_shape, kernel, stride, dilation, pads, out_hw = geom
        kw = kernel[1]
        ctx.save_for_backward(taps)
        ctx.geom = geom
        gxp = col2im(lambda i, j: g * (taps == i * kw + j), _padded_shape(x_shape, pads), kernel, stride, dilation,
                     out_hw, g.dtype)
        return crop2d(gxp, pads)

    @staticmethod
    def backward(ctx, gg):
        (taps,) = ctx.saved_tensors
        return call(TapGather, gg, taps, ctx.geom), None, None


class TapGather(Primitive):
    """x (N, C, H, W) -> (N, C, Ho, Wo): the element of each window at its tap number in `taps` (0 for -1 or a
    padding cell). The adjoint of TapScatter; one masked copy per kernel tap."""

    @staticmethod
    def forward(ctx, x: np.ndarray, taps: np.ndarray, geom: tuple) -> np.ndarray:
        _, kernel, stride, dilation, pads, out_hw = geom
        ctx.save_for_backward(taps)
        ctx.geom = geom
        xp = pad2d(x, pads)
        out = np.zeros(taps.shape, dtype=x.dtype)
        for t in range(kernel[0] * kernel[1]):
            np.copyto(out, xp[(..., *tap(t // kernel[1], t % kernel[1], stride, dilation, out_hw))],
                      where=taps == t)
        return out

    @staticmethod
    def backward(ctx, g):
        (taps,) = ctx.saved_tensors
        return call(TapScatter, g, taps, ctx.geom), None, None


class IndexScatter2d(Primitive):
    """g (N, C, Ho, Wo) -> (N, C, H, W) = x_shape: each g added at its flat H*W position in `idx` (N, C, Ho, Wo).
    Positions may repeat (adaptive windows overlap): accumulated with one bincount."""

    @staticmethod
    def forward(ctx, g: np.ndarray, idx: np.ndarray, x_shape: tuple) -> np.ndarray:
        N, C, H, W = x_shape
        ctx.save_for_backward(idx)
        flat = (np.arange(N * C).reshape(N, C, 1, 1) * (H * W) + idx).ravel()
        grad = np.bincount(flat, weights=g.ravel(), minlength=N * C * H * W)
        return grad.astype(g.dtype, copy=False).reshape(N, C, H, W)

    @staticmethod
    def backward(ctx, gg):
        (idx,) = ctx.saved_tensors
        return call(IndexGather2d, gg, idx), None, None


class IndexGather2d(Primitive):
    """x (N, C, H, W) -> (N, C, Ho, Wo): x at the flat H*W positions `idx` (N, C, Ho, Wo); adjoint of IndexScatter2d."""

    @staticmethod
    def forward(ctx, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        N, C, H, W = x.shape
        ctx.save_for_backward(idx)
        ctx.x_shape = x.shape
        return np.take_along_axis(x.reshape(N, C, H * W), idx.reshape(N, C, -1), axis=2).reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        return call(IndexScatter2d, g, idx, ctx.x_shape), None
