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
        return _rounded_div(self, other, "floor", "floor_divide")

    def __rfloordiv__(self, other: Any) -> "Tensor":
        return _rounded_div(_as_tensor(other, self), self, "floor", "floor_divide")

    floor_divide = __floordiv__

    def __mod__(self, other: Any) -> "Tensor":
        return _mod(self, other, True, "remainder")

    def __rmod__(self, other: Any) -> "Tensor":
        return _mod(_as_tensor(other, self), self, True, "remainder")

    def remainder(self, other: Any) -> "Tensor":
        """self - other * floor(self / other): the sign of other (Python's %). Broadcasts; gradients as torch."""
        return _mod(self, other, True, "remainder")

    def fmod(self, other: Any) -> "Tensor":
        """self - other * trunc(self / other): the sign of self (C's fmod). Broadcasts; gradients as torch."""
        return _mod(self, other, False, "fmod")

    def atan2(self, other: Any) -> "Tensor":
        """The angle of the point (other, self) in (-pi, pi] (integers give the default float). Broadcasts."""
        from ..ops.modulo import Atan2

        y, x = _promote(self, other, "atan2")
        if y._data.dtype.kind != "f":
            y, x = y.to(dtypes.get_default_dtype()), x.to(dtypes.get_default_dtype())
        y, x = _broadcast_pair(y, x)
        return Atan2.apply(y, x)

    arctan2 = atan2

    def add(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        """self + alpha * other (torch.add)."""
        return self + _scaled(self, other, alpha, "add")

    def sub(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        """self - alpha * other (torch.sub)."""
        return self - _scaled(self, other, alpha, "sub")

    subtract = sub

    def div(self, other: Any, *, rounding_mode: str | None = None) -> "Tensor":
        """self / other; rounding_mode 'trunc' (toward zero) or 'floor' (toward -inf) rounds the quotient and keeps
        integer dtypes (integer division by zero then raises, as torch)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{rounding_mode}'")
        return _rounded_div(self, other, rounding_mode, f"div(rounding_mode={rounding_mode!r})")

    divide = div
    true_divide = __truediv__
    mul = multiply = __mul__
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
    elif isinstance(b, int) and not isinstance(b, bool) and a._data.dtype.kind in "iu":
        b = _wrap_int(b, a._data.dtype)
    if op == "div" and a._data.dtype.kind != "f":
        a = a.to(dtypes.get_default_dtype())  # true division of integers is float in torch
    return a, b


def _wrap_int(v: int, dt: np.dtype) -> int:
    """A Python int taken modulo 2**bits into dt's range, as torch does (uint8 + 300 is uint8 + 44); numpy 2 would
    raise OverflowError instead."""
    info = np.iinfo(dt)
    if info.min <= v <= info.max:
        return v
    span = 1 << (8 * dt.itemsize)
    return (v - int(info.min)) % span + int(info.min)


def _scaled(self: Tensor, other: Any, alpha: Any, op: str) -> Any:
    """alpha * other for add/sub, with torch's refusal of a float alpha for integer tensors."""
    if alpha == 1 and not isinstance(alpha, bool):
        return other
    if isinstance(alpha, bool) and self._data.dtype != np.bool_:
        raise RuntimeError(f"{op}: Boolean alpha only supported for Boolean results.")
    kind = np.result_type(self._data.dtype, _raw(other)).kind if is_tensor(other) else self._data.dtype.kind
    if isinstance(alpha, float) and kind in "biu":
        raise RuntimeError(f"{op}: For integral input tensors, argument alpha must not be a floating point number "
                           f"(got alpha={alpha}, {self.dtype})")
    return other * alpha


def _broadcast_pair(a: Tensor, b: Tensor) -> tuple:
    """Both expanded to their common shape (the primitives in ops/modulo.py take equal shapes)."""
    shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    return (a if a._data.shape == shape else a.expand(*shape)), (b if b._data.shape == shape else b.expand(*shape))


def _check_int_divisor(a: Tensor, b: Tensor, op: str) -> None:
    if a._data.dtype.kind in "biu" and b._data.dtype.kind in "biu" and (b._data == 0).any():
        raise RuntimeError(f"ZeroDivisionError: {op}: integer division by zero (dividend {tuple(a.shape)} "
                           f"{a.dtype.name}, divisor {tuple(b.shape)} {b.dtype.name} has a zero)")


def _mod(self: Any, other: Any, floor: bool, op: str) -> Tensor:
    from ..ops.modulo import Mod

    a, b = _promote(self, other, op)
    b = _as_tensor(b, a) if not is_tensor(b) else b
    if b._data.dtype != a._data.dtype:  # a Python scalar: numpy's value-based result, cast to a's dtype
        b = b.to(a.dtype)
    _check_int_divisor(a, b, op)
    a, b = _broadcast_pair(a, b)
    return Mod.apply(a, b, floor)


def _rounded_div(self: Any, other: Any, mode: str, op: str) -> Tensor:
    """The quotient rounded toward -inf ('floor', Python's //) or zero ('trunc'); exact (numpy's floor_divide,
    not floor(a / b)). Piecewise constant: no gradient, as floor()."""
    a, b = _promote(self, other, op)
    b = _as_tensor(b, a) if not is_tensor(b) else b
    if b._data.dtype != a._data.dtype:
        b = b.to(a.dtype)
    _check_int_divisor(a, b, op)
    x, y = a._data, b._data
    if x.dtype == np.bool_:  # torch: bools divide as int64
        x, y = x.astype(np.int64), y.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "floor":
            out = np.floor_divide(x, y)
        elif x.dtype.kind in "iu":
            out = np.where((x % np.where(y == 0, 1, y) != 0) & ((x < 0) != (y < 0)), x // y + 1, x // y)
        else:
            out = np.trunc(x / y)
    return wrap(np.asarray(out, dtype=x.dtype))
