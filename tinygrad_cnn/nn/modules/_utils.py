"""Small argument helpers shared by the layers (torch's _pair and factory kwargs)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import dtypes
from ..._tensor_args import check_device


def pair(x: Any) -> tuple:
    """torch.nn.modules.utils._pair: 3 -> (3, 3); (3, 5) stays; a 1-element sequence is repeated."""
    if isinstance(x, (tuple, list)):
        return tuple(x) if len(x) != 1 else (x[0], x[0])
    return (x, x)


def factory_dtype(dtype: Any, device: Any, op: str) -> np.dtype:
    """The numpy dtype for a layer's parameters: `dtype=` if given, else the default float dtype."""
    check_device(device, op)
    if dtype is None:
        return dtypes.get_default_dtype().np
    return dtypes.to_numpy_dtype(dtype)


def empty_parameter(shape: Any, dt: np.dtype) -> Any:
    """An uninitialised Parameter; a negative size gets torch's error naming the whole shape (numpy's names none)."""
    from ...creation import _size
    from ...tensor import Tensor
    from ..parameter import Parameter

    return Parameter(Tensor._wrap(np.empty(_size((shape,)), dt)))


def check_features(op: str, expected: int, input: Any, what: str = "features", dim: int = -1) -> None:
    """Raise "Linear(in_features=120) got input with 84 features, shape (50, 84)"-style errors."""
    if input.ndim == 0 or input.shape[dim] != expected:
        got = "no dimensions" if input.ndim == 0 else f"{input.shape[dim]} {what}"
        raise RuntimeError(f"{op} got input with {got}, shape {tuple(input.shape)}")
