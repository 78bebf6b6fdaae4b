"""torch-like printing: `tensor([1., 2.], requires_grad=True)`, `grad_fn=<MulBackward0>`, non-default dtypes."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes


def tensor_repr(t: Any) -> str:
    arr = t._data
    body = np.array2string(arr, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3,
                           formatter=_formatter(arr))
    extras = []
    default_float = dtypes.get_default_dtype().np
    if arr.dtype.kind == "f" and arr.dtype != default_float or arr.dtype.kind in "iu" and arr.dtype != np.int64:
        extras.append(f"dtype={t.dtype}")
    if arr.size == 0 and arr.ndim != 1:
        extras.insert(0, f"size={tuple(arr.shape)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"


def _formatter(arr: np.ndarray) -> dict:
    if arr.dtype.kind != "f" or arr.size == 0:
        return {}
    finite = arr[np.isfinite(arr)]
    ints = finite.size > 0 and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8
    if ints:  # torch prints whole floats as "1." and keeps a common width
        return {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
    big = finite.size > 0 and (np.abs(finite).max() >= 1e8 or np.abs(finite[finite != 0]).min(initial=1) < 1e-4)
    if big:
        return {"float_kind": lambda v: f"{v:.4e}"}
    return {"float_kind": lambda v: f"{v:.4f}"}
