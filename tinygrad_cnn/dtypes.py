"""Tensor dtypes: thin, torch-named wrappers around numpy dtypes.

`tg.float32 == torch.float32` in spirit: a `DType` compares equal to itself, to its numpy dtype and to its name, and
prints as `tinygrad_cnn.float32`. Tensors store plain numpy arrays; a DType only names the array's dtype.
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np


class DType:
    """A named numpy dtype. Shape-free; `.itemsize`, `.is_floating_point` as in torch."""

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)

    @property
    def is_floating_point(self) -> bool:
        return self.np.kind == "f"

    @property
    def itemsize(self) -> int:
        return self.np.itemsize

    def __repr__(self) -> str:
        return f"tinygrad_cnn.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.np == other.np
        try:
            return self.np == np.dtype(other)  # type: ignore[arg-type]
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.np)


float16 = half = DType("float16", np.float16)
float32 = float = DType("float32", np.float32)
float64 = double = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = short = DType("int16", np.int16)
int32 = int = DType("int32", np.int32)
int64 = long = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool = DType("bool", np.bool_)  # noqa: A001 - the torch name

_BY_NUMPY = {d.np: d for d in (float16, float32, float64, int8, int16, int32, int64, uint8, bool)}

# The only global default besides the grad-mode flag and the RNG, as in torch.set_default_dtype.
_default_float = [float32]


def from_numpy_dtype(np_dtype: np.dtype) -> DType:
    """The DType naming a numpy dtype (unknown numpy dtypes get a DType of their own name)."""
    found = _BY_NUMPY.get(np.dtype(np_dtype))
    return found if found is not None else DType(np.dtype(np_dtype).name, np_dtype)


def to_numpy_dtype(dtype: Any) -> np.dtype:
    """Accept a DType, a numpy dtype, a python type or a name; return the numpy dtype."""
    if isinstance(dtype, DType):
        return dtype.np
    if dtype is builtins.float:  # torch: `dtype=float` means the default float dtype
        return _default_float[0].np
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"unknown dtype {dtype!r}; use tg.float32, tg.float64, tg.int64 or tg.bool") from e


def promote_types(*np_dtypes: Any) -> np.dtype:
    """torch's promotion between tensors of equal standing: the highest category (bool < integer < floating)
    wins, and only dtypes of that category decide the width. Unlike numpy, int64 with float32 stays float32."""
    dts = [np.dtype(d) for d in np_dtypes]
    for kinds in ("fc", "iu", "b"):
        top = [d for d in dts if d.kind in kinds]
        if top:
            return np.result_type(*top)
    return np.result_type(*dts)


def get_default_dtype() -> DType:
    """The dtype of tensors created from Python floats (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(dtype: DType) -> None:
    """Set the dtype of tensors created from Python floats: tg.float32 or tg.float64."""
    d = from_numpy_dtype(to_numpy_dtype(dtype))
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {d}")
    _default_float[0] = d
