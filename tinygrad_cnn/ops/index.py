"""Indexing: x[idx] for basic (slices, ints, None, Ellipsis) and advanced (integer arrays, boolean masks) indices."""
from __future__ import annotations

import numpy as np

from ._primitive import Primitive


def is_advanced(idx: object) -> bool:
    """True when idx contains an array or list index (numpy's advanced indexing: results are copies)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return any(isinstance(i, (np.ndarray, list)) for i in items)


class GetItem(Primitive):
    """x[idx]: the gradient is scattered back into zeros of x's shape; repeated indices add up."""

    view_op = True  # the output may share the input's memory (see autograd.function._mark_view)

    @staticmethod
    def forward(ctx, x, idx):
        ctx.meta = (x.shape, x.dtype)
        ctx.save_for_backward(idx if isinstance(idx, np.ndarray) else None)
        ctx.idx = idx
        out = x[idx]
        if not isinstance(out, np.ndarray):  # ints only: numpy gives a scalar copy, torch a 0-d view
            out = x[(idx if isinstance(idx, tuple) else (idx,)) + (Ellipsis,)]
        return out

    @staticmethod
    def backward(ctx, g):
        shape, dtype = ctx.meta
        grad = np.zeros(shape, dtype=g.dtype)
        if is_advanced(ctx.idx):
            np.add.at(grad, ctx.idx, g)  # duplicates in an index array must accumulate, not overwrite
        else:
            grad[ctx.idx] = g
        return grad, None


class IndexPut(Primitive):
    """out = x with out[idx] = v (the autograd side of `x[idx] = v`): x gets g with idx zeroed, v gets g[idx]."""

    @staticmethod
    def forward(ctx, x, idx, v):
        ctx.idx = idx
        ctx.v_shape = np.shape(v)
        out = np.array(x, copy=True)
        out[idx] = v
        return out

    @staticmethod
    def backward(ctx, g):
        from ._broadcast import unbroadcast

        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = np.array(g, copy=True)
            gx[ctx.idx] = 0
        if ctx.needs_input_grad[2]:
            gv = unbroadcast(np.asarray(g[ctx.idx]), ctx.v_shape)
        return gx, None, gv


class IndexAdd(Primitive):
    """out = x with v added at x[idx], repeated positions adding up (scatter_add, index_add): x gets g unchanged,
    v gets g[idx] (the gather that is the transpose of the scatter)."""

    @staticmethod
    def forward(ctx, x, idx, v):
        ctx.idx = idx
        ctx.v_shape = np.shape(v)
        out = np.array(x, copy=True)
        np.add.at(out, idx, v)  # unbuffered: duplicate positions accumulate
        return out

    @staticmethod
    def backward(ctx, g):
        from ._broadcast import unbroadcast

        gv = unbroadcast(np.asarray(g[ctx.idx]), ctx.v_shape) if ctx.needs_input_grad[2] else None
        return (g if ctx.needs_input_grad[0] else None), None, gv
