"""Indexing: x[idx] for basic (slices, ints, None, Ellipsis) and advanced (integer arrays, boolean masks) indices.

The linear ops here come in adjoint pairs, each the other's backward, so gradients of gradients stay on the tape:
GetItem (read at idx) <-> IndexAddZeros (add into zeros at idx). IndexPut and IndexAdd write into a copy of x;
their gradients are an IndexPut of zeros (x's) and a GetItem (v's). Backwards use ops/_dual.py calls only.
"""
from __future__ import annotations

import numpy as np

from ._dual import call, sum_to
from ._primitive import Primitive


def is_advanced(idx: object) -> bool:
    """True when idx contains an array or list index (numpy's advanced indexing: results are copies)."""
    if isinstance(idx, tuple):  # a plain loop: this runs in every indexing backward, any() costs a generator
        for i in idx:
            if isinstance(i, (np.ndarray, list)):
                return True
        return False
    return isinstance(idx, (np.ndarray, list))


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
        return call(IndexAddZeros, g, ctx.idx, ctx.meta[0]), None


class IndexAddZeros(Primitive):
    """zeros(shape) with v added at [idx], repeated positions adding up: GetItem's adjoint (torch's index
    backward, `zeros.index_put_(idx, v, accumulate=True)`); its own backward is GetItem again.

    Shapes: v has the shape of zeros(shape)[idx] -> (*shape). distinct=True: the caller knows no position repeats,
    so a plain assignment does (numpy's unbuffered add.at is many times slower).
    """

    @staticmethod
    def forward(ctx, v, idx, shape, distinct=False):
        ctx.idx = idx
        out = np.zeros(shape, dtype=v.dtype)
        if distinct or not is_advanced(idx):  # basic indices never repeat a position
            out[idx] = v
        else:
            np.add.at(out, idx, v)  # duplicates in an index array must accumulate, not overwrite
        return out

    @staticmethod
    def backward(ctx, g):
        return call(GetItem, g, ctx.idx), None, None, None


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
        gx = call(IndexPut, g, ctx.idx, 0) if ctx.needs_input_grad[0] else None  # g with idx zeroed
        gv = sum_to(call(GetItem, g, ctx.idx), ctx.v_shape) if ctx.needs_input_grad[2] else None
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
        gv = sum_to(call(GetItem, g, ctx.idx), ctx.v_shape) if ctx.needs_input_grad[2] else None
        return (g if ctx.needs_input_grad[0] else None), None, gv
