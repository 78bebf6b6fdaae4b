"""Reductions over axes. `axis` is a tuple of non-negative ints or None (all axes); `keepdim` as in torch.

Backwards are written with operators and ops/_dual.py calls (one formula for numpy arrays and, under create_graph,
for Tensors). Which elements an extremum came from is a constant of the derivative: the tie mask of Amax and the
index of MaxDim are computed on the values, so their second derivatives flow through the gradient alone, as torch's.
"""
from __future__ import annotations

import numpy as np

from ._dual import call, raw, reshape, unsqueeze_to
from ._primitive import Primitive


def _count(shape: tuple, axis: tuple | None) -> int:
    return int(np.prod(shape)) if axis is None else int(np.prod([shape[a] for a in axis]))


class Sum(Primitive):
    """x.sum(axis, keepdim): the gradient is copied to every summed element."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.meta = (x.shape, axis, keepdim)
        return np.sum(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, axis, keepdim = ctx.meta
        return unsqueeze_to(g, shape, axis, keepdim), None, None


class Mean(Primitive):
    """x.mean(axis, keepdim): the gradient is spread evenly, g / count."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.meta = (x.shape, axis, keepdim)
        if _count(x.shape, axis) == 0:  # the mean of nothing is nan, quietly, as in torch
            with np.errstate(invalid="ignore"):
                return np.sum(x, axis=axis, keepdims=keepdim) / x.dtype.type(0)
        return np.mean(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, axis, keepdim = ctx.meta
        n = _count(shape, axis)
        return unsqueeze_to(g / n if n else g, shape, axis, keepdim), None, None


class Amax(Primitive):
    """amax/amin (and full max()/min()): the gradient is split evenly between tied extrema, as torch."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, is_min):
        out = np.min(x, axis=axis, keepdims=True) if is_min else np.max(x, axis=axis, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.meta = (x.shape, axis, keepdim)
        return out if keepdim else (out.reshape(()) if axis is None else np.squeeze(out, axis))

    @staticmethod
    def backward(ctx, g):
        x, out = (raw(v) for v in ctx.saved_tensors)
        shape, axis, keepdim = ctx.meta
        hit = x == out  # (shape): every tied extremum
        # (shape): 1/count at each extremum, 0 elsewhere; a constant in g's dtype (float32 stays float32)
        share = np.divide(hit, np.sum(hit, axis=axis, keepdims=True), dtype=raw(g).dtype)
        return unsqueeze_to(g, shape, axis, keepdim) * share, None, None, None


class MaxDim(Primitive):
    """x.max(dim) / x.min(dim) values: the gradient goes to the returned index (the first extremum).

    Forward is a gather at the extremum's index along dim; backward its adjoint, a scatter of g into zeros
    (IndexAddZeros, whose own backward is the gather again).
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_min):
        idx = np.argmin(x, axis=dim) if is_min else np.argmax(x, axis=dim)
        idx = np.expand_dims(idx, dim)
        ctx.save_for_backward(idx)
        ctx.meta = (x.shape, dim, keepdim)
        out = np.take_along_axis(x, idx, axis=dim)
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def backward(ctx, g):
        from .index import IndexAddZeros

        (idx,) = ctx.saved_tensors
        shape, dim, keepdim = ctx.meta
        kept = tuple(idx.shape)  # (shape with dim of size 1)
        grids = list(np.ogrid[tuple(slice(n) for n in kept)])
        grids[dim] = idx  # the position of each value in x: one per output element, never repeated
        return call(IndexAddZeros, reshape(g, kept), tuple(grids), shape, True), None, None, None


class Cumsum(Primitive):
    """x.cumsum(dim) (reverse=False): out[..., i, ...] = sum of x[..., :i+1, ...]; reverse=True sums from the end
    instead, out[..., i, ...] = sum of x[..., i:, ...]. The two are each other's adjoint, so each one's gradient
    is the other applied to grad_out."""

    @staticmethod
    def forward(ctx, x, dim, reverse=False):
        ctx.dim, ctx.reverse = dim, reverse
        if reverse:
            return np.flip(np.cumsum(np.flip(x, dim), axis=dim, dtype=x.dtype), dim)
        return np.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return call(Cumsum, g, ctx.dim, not ctx.reverse), None, None
