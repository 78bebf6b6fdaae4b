"""Reductions over axes. `axis` is a tuple of non-negative ints or None (all axes); `keepdim` as in torch."""
from __future__ import annotations

import numpy as np

from ._dual import unsqueeze_to
from ._primitive import Primitive


def expand_back(g: np.ndarray, shape: tuple, axis: tuple | None, keepdim: bool) -> np.ndarray:
    """Broadcast a reduced gradient back to the input shape (a read-only view, no copy).

    Shape: g (reduced shape, with or without kept dims) -> (*shape).
    """
    if axis is None:
        return np.broadcast_to(g.reshape((1,) * len(shape)) if len(shape) else g, shape)
    if not keepdim:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


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
        x, out = ctx.saved_tensors
        shape, axis, keepdim = ctx.meta
        hit = x == out  # (shape): every tied extremum
        count = hit.sum(axis=axis, keepdims=True)
        share = expand_back(g, shape, axis, keepdim) * hit / count
        return share.astype(g.dtype, copy=False), None, None, None


class MaxDim(Primitive):
    """x.max(dim) / x.min(dim) values: the gradient goes to the returned index (the first extremum)."""

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
        (idx,) = ctx.saved_tensors
        shape, dim, keepdim = ctx.meta
        grad = np.zeros(shape, dtype=g.dtype)
        np.put_along_axis(grad, idx, g if keepdim else np.expand_dims(g, dim), axis=dim)
        return grad, None, None, None


class Cumsum(Primitive):
    """x.cumsum(dim): out[..., i, ...] = sum of x[..., :i+1, ...]; the gradient is grad_out summed from the end."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        d = ctx.dim
        return np.flip(np.cumsum(np.flip(g, d), axis=d), d), None
