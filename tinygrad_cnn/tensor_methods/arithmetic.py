"""Tensor arithmetic: the operators (+ - * / ** @ // %, unary - and +), their named forms (`add`, `mul`, ...) and
matmul; `_promote` applies torch's type promotion and checks broadcasting before any primitive runs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes
from .._tensor_args import broadcast_check
from ..ops import elementwise as E
from ..ops.matmul import MatMul
from ._common import _as_tensor, _raw, is_tensor, wrap

if TYPE_CHECKING:
    from ..tensor import Tensor


class ArithmeticMixin:
    """Operators and matmul; every binary op goes through `_binary`, so promotion is decided in one place."""

    def _binary(self, other: Any, fn: Any, reverse: bool = False, op: str = "") -> "Tensor":
        a, b = _promote(self, other, op)
        return fn.apply(b, a) if reverse else fn.apply(a, b)

    def __add__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Add, op="add")

    def __radd__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Add, True, "add")

    def __sub__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Sub, op="sub")

    def __rsub__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Sub, True, "sub")

    def __mul__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Mul, op="mul")

    def __rmul__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Mul, True, "mul")

    def __truediv__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Div, op="div")

    def __rtruediv__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Div, True, "div")

    def __pow__(self, other: Any) -> "Tensor":
        if (self._data.dtype.kind in "iu" and isinstance(other, (int, np.integer)) and not isinstance(other, bool)
                and other < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return self._binary(other, E.Pow, op="pow")

    def __rpow__(self, other: Any) -> "Tensor":
        return self._binary(other, E.Pow, True, "pow")

    def __neg__(self) -> "Tensor":
        return E.Neg.apply(self)

    def __pos__(self) -> "Tensor":
        return self

    def __matmul__(self, other: Any) -> "Tensor":
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return _as_tensor(other, self).matmul(self)

    def __floordiv__(self, other: Any) -> "Tensor":
        return wrap(np.floor_divide(self._data, _raw(other)))

    def __mod__(self, other: Any) -> "Tensor":
        return wrap(np.mod(self._data, _raw(other)))

    add = __add__
    sub = subtract = __sub__
    mul = multiply = __mul__
    div = divide = true_divide = __truediv__
    pow = __pow__
    neg = negative = __neg__

    def matmul(self, other: "Tensor") -> "Tensor":
        from .._tensor_args import check_matmul

        other = _as_tensor(other, self)
        check_matmul(self.shape, other.shape)
        a, b = _promote(self, other, "matmul")
        return MatMul.apply(a, b)

    mm = bmm = matmul

    def dot(self, other: "Tensor") -> "Tensor":
        return self.matmul(other)


def _promote(a: Tensor, b: Any, op: str) -> tuple:
    """torch's type promotion for a binary op; also checks broadcasting, naming both shapes."""
    if is_tensor(b):
        if op != "matmul":
            broadcast_check(a._data.shape, b._data.shape, op)
        ka, kb = a._data.dtype.kind, b._data.dtype.kind
        if a._data.dtype != b._data.dtype:
            if ka == "f" and kb != "f":
                b = b.to(a.dtype)
            elif kb == "f" and ka != "f":
                a = a.to(b.dtype)
            elif b.ndim == 0 and a.ndim > 0 and ka == kb:
                b = b.to(a.dtype)  # a 0-d tensor acts like a scalar of the other's category
            elif a.ndim == 0 and b.ndim > 0 and ka == kb:
                a = a.to(b.dtype)
            else:
                dt = dtypes.promote_types(a._data.dtype, b._data.dtype)
                a, b = a.to(dt), b.to(dt)
        if op == "div" and a._data.dtype.kind != "f":  # int / int is true division: default float
            a, b = a.to(dtypes.get_default_dtype()), b.to(dtypes.get_default_dtype())
        return a, b
    if isinstance(b, (np.ndarray, list, tuple)):
        return _promote(a, _as_tensor(b, a), op)
    if isinstance(b, np.generic):  # a numpy scalar must not turn float32 into float64
        b = b.item()
    if isinstance(b, float) and a._data.dtype.kind != "f":
        a = a.to(dtypes.get_default_dtype())
    if op == "div" and a._data.dtype.kind != "f":
        a = a.to(dtypes.get_default_dtype())  # true division of integers is float in torch
    return a, b
