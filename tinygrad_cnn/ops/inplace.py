"""In-place updates with torch's rules.

- A leaf that requires grad (or a view of one) refuses in-place changes while grad mode is on.
- Every change bumps the version counter (shared between a tensor and its views), so a backward that saved the
  old value raises instead of silently using the new one.
- Views: an in-place change through a view (`y[1:].mul_(2)`) becomes part of the base's history, recorded as
  IndexPut(base, positions of the view, new values) like torch's CopySlices; every live view of that base then
  reads from the new history (GetItem at its positions), so no view keeps a stale gradient path.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # numpy < 2.0
    from numpy import byte_bounds

from ..autograd import grad_mode


def check_inplace(t: Any, op: str) -> None:
    """Raise (naming op and shape) for the in-place changes torch refuses."""
    if not t._data.flags.writeable:
        if any(st == 0 and n > 1 for st, n in zip(t._data.strides, t._data.shape)):
            raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor refers "
                               f"to a single memory location (an expanded tensor of shape {tuple(t.shape)}). Please "
                               f"clone() the tensor before performing the operation.")
        raise RuntimeError(f"{op}: the tensor's memory (shape {tuple(t.shape)}) is read-only, e.g. a numpy array "
                           f"made by np.frombuffer or marked non-writeable; clone() the tensor first.")
    if not grad_mode._enabled[0]:
        return
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad (shape {tuple(t.shape)}) is being used in an "
                           f"in-place operation. Wrap the update in `with tg.no_grad():` (as optimisers do) or "
                           f"operate on a clone.")
    base = t._base
    if base is not None and base.requires_grad:
        if base.grad_fn is None:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
                               f"operation (view shape {tuple(t.shape)}, leaf shape {tuple(base.shape)}).")
        if not t._view_grad_mode:
            raise RuntimeError(f"{op}: A view was created in no_grad mode and is being modified inplace with grad "
                               f"mode enabled (view shape {tuple(t.shape)}). Create the view with grad enabled, "
                               f"or make the change under no_grad.")


def inplace(t: Any, compute: Callable[[Any], Any], op: str) -> Any:
    """Compute the new value out of place, write it into t's array, and make it t's (and t's base's) history.

    While recording, compute() sees a copy of t that carries t's history, so nodes that save their input keep the
    old values; t's version still goes up, so older nodes that saved t itself will refuse to backward.
    """
    from ..tensor import Tensor

    check_inplace(t, op)
    src = t
    if grad_mode._enabled[0] and t.requires_grad:
        src = _with_history(t, Tensor._wrap(t._data.copy()))
    new = compute(src)
    _check_cast(new._data.dtype, t._data.dtype, op)
    if new._data.shape != t._data.shape:
        raise RuntimeError(f"{op}: output with shape {tuple(t._data.shape)} doesn't match the broadcast shape "
                           f"{tuple(new._data.shape)}")
    np.copyto(t._data, new._data, casting="unsafe")  # write through: views of t see the change, as in torch
    t._version_box[0] += 1
    if new.grad_fn is not None:
        _saved_output_is_t(t, new)
        _commit(t, new)
    return t


def _saved_output_is_t(t: Any, new: Any) -> None:
    """The node that computed t's new value may have saved that value (exp_, sigmoid_, tanh_, relu_ save their
    output): in torch it saved t itself, so a later in-place change of t or of a view of it makes that backward
    refuse (first order and under create_graph alike). Re-key the saved output's version check to t's counter."""
    node, box = new.grad_fn, new._version_box
    versions = getattr(node, "_saved_versions", None)
    if versions and any(v[0] is box for v in versions):
        node._saved_versions = [(t._version_box, t._version_box[0], *v[2:]) if v[0] is box else v for v in versions]


_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
                "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}


def _check_cast(result: np.dtype, target: np.dtype, op: str) -> None:
    """torch's canCast for in-place results: no float into an integer tensor, nothing but bool into a bool one
    (numpy's unsafe copy would truncate 1.5 to 1 silently)."""
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    if rank[result.kind] > rank[target.kind]:
        raise RuntimeError(f"{op}: result type {_TORCH_NAMES.get(result.name, result.name)} can't be cast to the "
                           f"desired output type {_TORCH_NAMES.get(target.name, target.name)}")


def setitem(t: Any, idx: Any, value: Any) -> None:
    """`t[idx] = value`: in place on t's array; recorded as IndexPut when grad flows through t or value."""
    from ..tensor import Tensor
    from .index import IndexPut

    check_inplace(t, "__setitem__")
    value = _fit_value(t, idx, value)
    value_grad = isinstance(value, Tensor) and value.requires_grad
    if not (grad_mode._enabled[0] and (t.requires_grad or value_grad)):
        t._data[idx] = value._data if isinstance(value, Tensor) else value  # nothing to record: no copy
        t._version_box[0] += 1
        return
    v = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, dtype=t._data.dtype))
    inplace(t, lambda s: IndexPut.apply(s, idx, v.to(t.dtype)), "__setitem__")


def _fit_value(t: Any, idx: Any, value: Any) -> Any:
    """The value, checked to broadcast to t[idx] (torch's error naming both shapes, not numpy's) and without the
    extra leading 1-dims torch accepts (`t[0] = ones(1, 4)` for a (3, 4) tensor)."""
    from ..tensor import Tensor

    shape = tuple(np.shape(value._data if isinstance(value, Tensor) else value))
    if not shape:
        return value
    target = t._data[idx].shape
    vshape = shape
    while len(vshape) > len(target) and vshape[0] == 1:
        vshape = vshape[1:]
    where = f"(assigning a value of shape {shape} to a selection of shape {target} of a tensor of shape " \
            f"{tuple(t.shape)})"
    if len(vshape) > len(target):
        raise RuntimeError(f"__setitem__: the value has more dimensions ({len(shape)}) than the selection "
                           f"({len(target)}) {where}")
    for d, (n, v) in enumerate(zip(target[len(target) - len(vshape):], vshape), start=len(target) - len(vshape)):
        if v not in (n, 1):
            raise RuntimeError(f"__setitem__: The expanded size of the tensor ({n}) must match the existing size "
                               f"({v}) at non-singleton dimension {d}.  Target sizes: {list(target)}.  Tensor "
                               f"sizes: {list(vshape)} {where}")
    if vshape == shape:
        return value
    return value.reshape(vshape) if isinstance(value, Tensor) else np.reshape(np.asarray(value), vshape)


def _with_history(src: Any, t: Any) -> Any:
    """t (a fresh Tensor) made to carry src's place in the graph."""
    t.grad_fn, t._output_nr, t.requires_grad = src.grad_fn, src._output_nr, src.requires_grad
    return t


def _commit(t: Any, new: Any) -> None:
    """Make `new` the history of t; for a view, of its base (IndexPut at the view's positions)."""
    from ..tensor import Tensor
    from .index import IndexPut

    from .index import GetItem

    base = t._base
    if base is None:
        _point(t, new)
        _refresh_views(t)
        return
    idx = view_index(base._data, t._data)
    _point(base, IndexPut.apply(_with_history(base, Tensor._wrap(base._data)), idx, new))
    _point(t, GetItem.apply(base, idx))
    _refresh_views(base, skip=t)


class _OldVersion:
    """Stands for a tensor's value before an in-place change, on the node that produced that value: hooks
    registered so far keep firing there (with the old value's gradient, as torch); retain_grad does not."""

    _retains_grad = False

    def __init__(self, hooks: list) -> None:
        self._hooks = hooks

    def __call__(self) -> "_OldVersion":  # stands in for the weakref the engine calls
        return self


def _point(t: Any, new: Any) -> None:
    """t takes new's place in the graph; retain_grad and later hooks follow the tensor to its new version."""
    old = t.grad_fn
    if old is not None and (t._hooks or t._retains_grad) and old._out_tensors:
        old._out_tensors[t._output_nr] = _OldVersion(t._hooks) if t._hooks else None
        t._hooks = []
    t.grad_fn, t._output_nr, t.requires_grad = new.grad_fn, new._output_nr, True
    if t._retains_grad:
        t.grad_fn._out_tensors[t._output_nr] = weakref.ref(t)


def _refresh_views(base: Any, skip: Any = None) -> None:
    """Every live view of base now reads from base's new history: GetItem(base, positions of the view)."""
    from .index import GetItem

    if not base._views:
        return
    for v in list(base._views.values()):
        if v is not skip:
            _point(v, GetItem.apply(base, view_index(base._data, v._data)))


def view_index(base: np.ndarray, view: np.ndarray) -> tuple:
    """The positions in `base` of every element of `view` (an array inside base's memory), as an index tuple of
    integer arrays of view's shape, so that base[index] == view. Found from the two arrays' strides and offsets:
    a lookup table over base's memory span holds each memory slot's index into base.
    """
    isz = base.itemsize
    lo, hi = byte_bounds(base)
    span = (hi - lo) // isz
    table = np.full(max(span, 1), -1, np.int64)  # memory slot -> flat (C-order) index into base
    start_b = (base.__array_interface__["data"][0] - lo) // isz
    slots_b = as_strided(table[start_b:], base.shape, [s // isz * 8 for s in base.strides])
    slots_b[...] = np.arange(base.size).reshape(base.shape)
    start_v = (view.__array_interface__["data"][0] - lo) // isz
    flat = as_strided(table[start_v:], view.shape, [s // isz * 8 for s in view.strides]).copy()
    return np.unravel_index(flat, base.shape)
