"""What the Tensor mixins share: the Tensor class itself and two argument coercions.

tinygrad_cnn/tensor.py imports the mixins before it defines Tensor, so they cannot import it back at module
level; tensor.py binds `Tensor` here once, right after defining the class.
"""
from __future__ import annotations

from typing import Any

import numpy as np

Tensor: Any = None  # tinygrad_cnn.tensor.Tensor, bound by tensor.py at import


def wrap(arr: np.ndarray) -> Any:
    """A new plain Tensor around arr (no copy, not in the graph), whatever subclass the caller is."""
    return Tensor._wrap(arr)


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


def _raw(x: Any) -> Any:
    return x._data if is_tensor(x) else x

def _as_tensor(x: Any, like: Tensor) -> Tensor:
    if is_tensor(x):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and like._data.dtype.kind == "f":
        arr = arr.astype(like._data.dtype)
    return wrap(arr)
