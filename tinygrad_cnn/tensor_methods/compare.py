"""Tensor comparisons and logical/bitwise operators (no gradient): ==, <, &, ~, isnan, any, all, ..."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .._tensor_args import axes_arg, broadcast_check
from ._common import _raw, wrap

if TYPE_CHECKING:
    from ..tensor import Tensor


class CompareMixin:
    """Comparisons give bool tensors outside the graph; `__hash__` stays by identity though `__eq__` is elementwise."""

    def _compare(self, other: Any, fn: Callable) -> "Tensor":
        o = _raw(other)
        broadcast_check(self._data.shape, np.shape(o), "comparison")
        return wrap(np.asarray(fn(self._data, o)))

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    greater, less, greater_equal, less_equal = __gt__, __lt__, __ge__, __le__

    def __and__(self, other: Any) -> "Tensor":
        return self._compare(other, np.logical_and if self._data.dtype == np.bool_ else np.bitwise_and)

    def __or__(self, other: Any) -> "Tensor":
        return self._compare(other, np.logical_or if self._data.dtype == np.bool_ else np.bitwise_or)

    def __xor__(self, other: Any) -> "Tensor":
        return self._compare(other, np.logical_xor if self._data.dtype == np.bool_ else np.bitwise_xor)

    def __invert__(self) -> "Tensor":
        if self._data.dtype.kind not in "biu":
            raise TypeError(f"~ (operator.invert) is only implemented on integer and Boolean-type tensors (got "
                            f"{self.dtype}, shape {tuple(self.shape)}); for a logical not use x == 0 or "
                            f"x.logical_not()")
        return wrap(np.logical_not(self._data) if self._data.dtype == np.bool_ else ~self._data)

    bitwise_not = __invert__

    def logical_not(self) -> "Tensor":
        """True where self is zero (any dtype), as torch.logical_not."""
        return wrap(np.logical_not(self._data))
    __hash__ = object.__hash__

    def equal(self, other: "Tensor") -> bool:
        return bool(self.shape == other.shape and np.array_equal(self._data, other._data))

    def allclose(self, other: "Tensor", rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(np.allclose(self._data, _raw(other), rtol=rtol, atol=atol))

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> "Tensor":
        o = _raw(other)
        broadcast_check(self._data.shape, np.shape(o), "isclose")
        return wrap(np.asarray(np.isclose(self._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan)))

    def isnan(self) -> "Tensor":
        return wrap(np.isnan(self._data))

    def isinf(self) -> "Tensor":
        return wrap(np.isinf(self._data))

    def isfinite(self) -> "Tensor":
        return wrap(np.isfinite(self._data))

    def any(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return wrap(np.asarray(np.any(self._data, axis=axes_arg(dim, self.ndim, "any"), keepdims=keepdim)))

    def all(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return wrap(np.asarray(np.all(self._data, axis=axes_arg(dim, self.ndim, "all"), keepdims=keepdim)))
