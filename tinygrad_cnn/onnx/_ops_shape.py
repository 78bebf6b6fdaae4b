"""Translators of shape, indexing, reduction and softmax primitives.

The trace sees concrete shapes (the example batch). Shapes written into the graph keep a dynamic batch working:
Reshape copies the leading dims it keeps (ONNX `0`) and infers the first changed one (`-1`); Expand writes 1
where the input already has the size, so those dims follow the input.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import index as ix
from ..ops import reduce as red
from ..ops import shape as sh
from ..ops import softmax as sm
from . import _trace
from ._call import Call, translates
from ._graph import Value

_INT64_MAX = 2 ** 63 - 1
_INT64_MIN = -(2 ** 63)


def _axes(axis: object, ndim: int) -> list[int] | None:
    if axis is None:
        return None
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    return [int(a) % ndim if ndim else 0 for a in items]


def _concrete(shape: tuple, size: int) -> tuple:
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        shape = tuple(size // known if s == -1 else s for s in shape)
    return shape


@translates(sh.Reshape, sh.View)
def reshape(c: Call) -> str:
    x = c.x(0)
    target = _concrete(c.args[1], int(np.prod(x.shape)))
    keep = 0
    while keep < min(len(target), x.ndim) and target[keep] == x.shape[keep]:
        keep += 1
    spec = [0] * keep + list(target[keep:])
    if keep < len(target) and keep < x.ndim:
        spec[keep] = -1  # the first changed dim absorbs a different batch; the others are fixed sizes
    return c.b.node("Reshape", [c.name(x), c.b.ints(spec, "shape")])


@translates(sh.Permute)
def permute(c: Call) -> str:
    return c.b.node("Transpose", [c.inp(0)], perm=[int(d) for d in c.args[1]])


@translates(sh.Expand)
def expand(c: Call) -> str:
    x, target = c.x(0), tuple(int(s) for s in c.args[1])
    lead = len(target) - x.ndim
    spec = [1 if i >= lead and x.shape[i - lead] == s else s for i, s in enumerate(target)]
    return c.b.node("Expand", [c.name(x), c.b.ints(spec, "shape")])


@translates(sh.Cat)
def cat(c: Call) -> str:
    xs = c.args[1:]
    ndim = next(a.ndim for a in xs if hasattr(a, "ndim"))
    return c.b.node("Concat", [c.name(a, c._first_tensor()) for a in xs], axis=int(c.args[0]) % ndim)


@translates(sh.Pad)
def pad(c: Call) -> str:
    """((before, after), ...) per axis; negative values crop (ONNX Pad allows them too)."""
    x, pads, value = c.args
    before, after = [int(p[0]) for p in pads], [int(p[1]) for p in pads]
    return c.b.node("Pad", [c.name(x), c.b.ints(before + after, "pads"), c.name(value, x)], mode="constant")


@translates(red.Sum, red.Mean)
def reduce_sum_mean(c: Call) -> str:
    x, axis, keepdim = c.args
    op = "ReduceSum" if c.fn is red.Sum else "ReduceMean"
    return c.b.reduce(op, c.name(x), _axes(axis, x.ndim), bool(keepdim))


@translates(red.Amax)
def reduce_max(c: Call) -> str:
    x, axis, keepdim, is_min = c.args
    return c.b.reduce("ReduceMin" if is_min else "ReduceMax", c.name(x), _axes(axis, x.ndim), bool(keepdim))


@translates(red.MaxDim)
def max_dim(c: Call) -> list:
    """(values, indices) along one dim: ReduceMax/Min and ArgMax/Min (the first extreme, as numpy)."""
    x, dim, keepdim, is_min = c.args
    b = c.b
    axis = int(dim) % x.ndim
    values = b.reduce("ReduceMin" if is_min else "ReduceMax", c.name(x), [axis], bool(keepdim))
    indices = b.node("ArgMin" if is_min else "ArgMax", [c.name(x)], axis=axis, keepdims=int(bool(keepdim)))
    return [values, indices]


@translates(red.Cumsum)
def cumsum(c: Call) -> str:
    x = c.x(0)
    return c.b.node("CumSum", [c.name(x), c.b.const(np.asarray(int(c.args[1]) % x.ndim, np.int64), "axis")])


@translates(sm.Softmax, sm.LogSoftmax)
def softmax(c: Call) -> str:
    x, dim = c.x(0), int(c.args[1])
    return c.b.node("Softmax" if c.fn is sm.Softmax else "LogSoftmax", [c.name(x)], axis=dim % max(x.ndim, 1))


@translates(ix.GetItem)
def getitem(c: Call) -> str:
    """Basic indices (slices, ints, None, ...) and at most one integer array (Gather): Slice, Gather, Squeeze,
    Unsqueeze, in that order. Boolean masks and several arrays select data-dependent shapes: refused."""
    x, idx = c.x(0), c.args[1]
    items = _expand_ellipsis(idx if isinstance(idx, tuple) else (idx,), x.ndim)
    if sum(_is_array(i) for i in items) > 1 or any(
            np.dtype(i.dtype) == np.bool_ if isinstance(i, Value) else np.asarray(i).dtype == np.bool_
            for i in items if _is_array(i) or isinstance(i, bool)):
        raise c.error("boolean masks and several index arrays are not supported")
    plan = _index_plan(c, x, items, idx)
    b = c.b
    out = src = c.name(x)
    if plan["axes"]:
        out = b.node("Slice", [out] + [b.ints(plan[k], k) for k in ("starts", "ends", "axes", "steps")])
    if plan["gather"] is not None:
        axis, indices = plan["gather"]
        out = b.node("Gather", [out, c.name(indices) if isinstance(indices, Value) else b.const(indices, "indices")],
                     axis=axis)
    if plan["squeeze"]:
        out = b.squeeze(out, plan["squeeze"])
    if plan["unsqueeze"]:
        out = b.unsqueeze(out, plan["unsqueeze"])
    return out if out != src else b.node("Identity", [out])


def _index_plan(c: Call, x: Any, items: list, idx: Any) -> dict:
    """Slice bounds per input axis, the gathered axis and indices, int axes to squeeze, None positions."""
    plan: dict = {"starts": [], "ends": [], "axes": [], "steps": [], "squeeze": [], "unsqueeze": [], "gather": None}
    has_array = any(_is_array(i) for i in items)
    axis = out_pos = 0
    for item in items:
        if item is None:
            plan["unsqueeze"].append(out_pos)
            out_pos += 1
            continue
        if _is_array(item):  # a constant index array, or a traced index tensor (its values known at run time)
            plan["gather"] = (axis, item if isinstance(item, Value) else np.asarray(item, dtype=np.int64))
            out_pos += len(item.shape) if isinstance(item, Value) else plan["gather"][1].ndim
        elif isinstance(item, slice):
            if item != slice(None):
                _add_slice(plan, axis, *_slice_bounds(item, x.shape[axis]))
            out_pos += 1
        else:  # an int
            if has_array:
                raise c.error(f"index {idx!r}: an integer next to an index array is not supported")
            i = int(item)
            _add_slice(plan, axis, i, i + 1 if i != -1 else _INT64_MAX, 1)
            plan["squeeze"].append(axis)
        axis += 1
    return plan


def _is_array(item: Any) -> bool:
    return isinstance(item, (np.ndarray, list, Value))


def _add_slice(plan: dict, axis: int, start: int, stop: int, step: int) -> None:
    for key, v in (("starts", start), ("ends", stop), ("axes", axis), ("steps", step)):
        plan[key].append(v)


def _expand_ellipsis(items: tuple, ndim: int) -> list:
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    out: list = []
    for i in items:
        out.extend([slice(None)] * (ndim - used) if i is Ellipsis else [i])
    if not any(i is Ellipsis for i in items):
        out.extend([slice(None)] * (ndim - used))
    return out


def _slice_bounds(s: slice, size: int) -> tuple[int, int, int]:
    """Concrete start/stop/step for ONNX Slice; an open end stays open so a longer axis is cut the same way."""
    step = 1 if s.step is None else int(s.step)
    start, stop, _ = s.indices(size)
    if s.start is None:
        start = 0 if step > 0 else _INT64_MAX
    if s.stop is None:
        stop = _INT64_MAX if step > 0 else _INT64_MIN
    elif step < 0 and stop == -1:
        stop = _INT64_MIN
    return start, stop, step


@translates(_trace.ArgExtreme)
def arg_extreme(c: Call) -> str:
    """argmax/argmin: over one dim, or over the flattened tensor when dim is None."""
    x, dim, keepdim, is_min = c.args
    b = c.b
    src = c.name(x)
    if dim is None:
        src, dim = b.node("Reshape", [src, b.ints([-1], "shape")]), 0
    return b.node("ArgMin" if is_min else "ArgMax", [src], axis=int(dim) % max(len(x.shape), 1),
                  keepdims=int(bool(keepdim)))
