"""What torch checks when a tensor is made from Python values: ints beyond int64, values that do not fit the target
integer dtype, arrays of dtypes no tensor can hold, and the `size=` keyword of the creators. numpy would wrap
around, pick uint64/float64/object, or cast silently; each check raises torch's error instead."""
from __future__ import annotations

from typing import Any

import numpy as np


def size_kw(size: tuple, kw: dict, op: str) -> tuple:
    """torch also takes the shape as `size=` (tg.ones(size=(2, 3))); any other keyword is an error."""
    if "size" in kw:
        if size:
            raise TypeError(f"{op}() got multiple values for argument 'size'")
        size = (kw.pop("size"),)
    if kw:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(kw))}'")
    return size


INT64_MAX = 2 ** 63 - 1


def python_leaves(data: Any) -> list:
    """The scalars of a nested list/tuple, level by level (no recursion)."""
    level, out = [data], []
    while level:
        nxt = []
        for x in level:
            (nxt.extend if isinstance(x, (list, tuple)) else out.append)(x)
        level = nxt
    return out


def python_int_overflow(data: Any, arr: np.ndarray) -> np.ndarray:
    """torch reads Python ints as int64: one outside int64 in an all-int list is an error, where numpy would pick
    uint64, float64 or object and so wrap or silently change the dtype."""
    kind = arr.dtype.kind
    if kind == "f" and not (arr.size and np.nanmax(np.abs(np.where(np.isfinite(arr), arr, 0))) >= 2.0 ** 63):
        return arr
    if kind not in "fuO":
        return arr
    leaves = python_leaves(data)
    ints = [v for v in leaves if isinstance(v, (int, np.integer))]
    if len(ints) == len(leaves) and any(not -INT64_MAX - 1 <= int(v) <= INT64_MAX for v in ints):
        big = next(int(v) for v in ints if not -INT64_MAX - 1 <= int(v) <= INT64_MAX)
        raise ValueError(f"Overflow when unpacking long long: tensor() got the Python int {big}, outside int64 "
                         f"[-2**63, 2**63 - 1]")
    if kind == "O" and all(isinstance(v, (int, float, np.integer, np.floating)) for v in leaves):
        return arr.astype(np.float64)  # huge ints next to floats: a float tensor, as in torch
    return arr


def check_array_dtype(arr: np.ndarray, op: str) -> None:
    """torch has no object/string/datetime tensors: refuse them with torch's message."""
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{op}(): can't convert np.ndarray of type numpy.{arr.dtype.type.__name__}. The only "
                        f"supported types are: float64, float32, float16, complex64, complex128, int64, int32, int16, "
                        f"int8, uint64, uint32, uint16, uint8, and bool.")


def check_fits(arr: np.ndarray, np_dtype: np.dtype) -> None:
    """A Python value outside the target integer dtype is an error in torch (no silent wrap-around). Negative
    values within the signed range of an unsigned dtype wrap, as torch does (tensor([-1], dtype=uint8) is 255)."""
    if np_dtype.kind not in "iu" or arr.dtype.kind not in "iuf" or arr.size == 0:
        return
    info = np.iinfo(np_dtype)
    lo = -int(info.max) if np_dtype.kind == "u" else int(info.min)
    bad = ~np.isfinite(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, bool)
    with np.errstate(invalid="ignore"):
        bad |= (arr < lo) | (arr > int(info.max))
    if bad.any():
        raise RuntimeError(f"value cannot be converted to type {np_dtype.name} without overflow: tensor() got "
                           f"{arr[bad].flat[0].item()!r} (range of {np_dtype.name}: [{info.min}, {info.max}])")
