"""In-place updates with torch's rules: a leaf that requires grad refuses them (outside no_grad); every change bumps
the version counter, so a backward that needs the old value raises instead of silently using the new one."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd import grad_mode


def check_inplace(t: Any, op: str) -> None:
    if t.requires_grad and t.grad_fn is None and grad_mode._enabled[0]:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad (shape {tuple(t.shape)}) is being used in an "
                           f"in-place operation. Wrap the update in `with tg.no_grad():` (as optimisers do) or "
                           f"operate on a clone.")


def inplace(t: Any, compute: Callable[[Any], Any], op: str) -> Any:
    """Compute the new value out of place, write it into t's array, and move t's history to the new node.

    While recording, compute() sees a copy of t that carries t's history, so nodes that save their input keep the
    old values; t's own version still goes up, so older nodes that saved t itself will refuse to backward.
    """
    from ..tensor import Tensor

    check_inplace(t, op)
    src = t
    if grad_mode._enabled[0] and t.requires_grad:
        src = Tensor._wrap(t._data.copy())
        src.grad_fn, src._output_nr, src.requires_grad = t.grad_fn, t._output_nr, True
    new = compute(src)
    if new._data.shape != t._data.shape:
        raise RuntimeError(f"{op}: output with shape {tuple(t._data.shape)} doesn't match the broadcast shape "
                           f"{tuple(new._data.shape)}")
    np.copyto(t._data, new._data, casting="unsafe")  # write through: views of t see the change, as in torch
    t._version_box[0] += 1
    if new.grad_fn is not None:
        t.grad_fn, t._output_nr, t.requires_grad = new.grad_fn, new._output_nr, True
    return t


def setitem(t: Any, idx: Any, value: Any) -> None:
    """`t[idx] = value`: in place on t's array; recorded as IndexPut when grad flows through t or value."""
    from ..tensor import Tensor
    from .index import IndexPut

    check_inplace(t, "__setitem__")
    v = value._data if isinstance(value, Tensor) else value
    needs = grad_mode._enabled[0] and (t.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
    if needs:
        vt = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(v, dtype=t._data.dtype))
        new = IndexPut.apply(t, idx, vt.to(t.dtype))
        t._data[...] = new._data
        t.grad_fn, t._output_nr, t.requires_grad = new.grad_fn, 0, True
    else:
        t._data[idx] = v
    t._version_box[0] += 1
