"""Tensor element-wise functions: exp/log/sqrt/trig, rounding, clamp, maximum/minimum, activations and softmax."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes
from ..ops import elementwise as E
from ..ops.selection import Clamp, Maximum, Minimum
from ._common import _as_tensor, is_tensor, wrap
from .arithmetic import _promote

if TYPE_CHECKING:
    from ..tensor import Tensor


class PointwiseMixin:
    """Element-wise math; integer inputs to exp/log/... become the default float dtype (`_floating`), as in torch."""

    def exp(self) -> "Tensor":
        return E.Exp.apply(_floating(self))

    def log(self) -> "Tensor":
        return E.Log.apply(_floating(self))

    def log1p(self) -> "Tensor":
        return (self + 1).log()

    def sqrt(self) -> "Tensor":
        return E.Sqrt.apply(_floating(self))

    def rsqrt(self) -> "Tensor":
        return 1 / self.sqrt()

    def reciprocal(self) -> "Tensor":
        return 1 / self

    def square(self) -> "Tensor":
        return self * self

    def abs(self) -> "Tensor":
        return E.Abs.apply(self)

    def sin(self) -> "Tensor":
        return E.Sin.apply(_floating(self))

    def cos(self) -> "Tensor":
        return E.Cos.apply(_floating(self))

    def erf(self) -> "Tensor":
        from ..ops.activation import Erf

        return Erf.apply(_floating(self))

    def sign(self) -> "Tensor":
        return wrap(np.sign(self._data))

    def floor(self) -> "Tensor":
        return wrap(np.floor(self._data))

    def ceil(self) -> "Tensor":
        return wrap(np.ceil(self._data))

    def round(self) -> "Tensor":
        return wrap(np.round(self._data))

    def clamp(self, min: Any = None, max: Any = None) -> "Tensor":  # noqa: A002 - torch names
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if is_tensor(min) or is_tensor(max):
            # tensor bounds: one primitive so ties get torch's gradients (not maximum's 50/50 split)
            x, lo, hi = self, None, None
            if min is not None:
                x, lo = _promote(x, _as_tensor(min, x), "clamp")
            if max is not None:
                x, hi = _promote(x, _as_tensor(max, x), "clamp")
            lo = lo if lo is None or lo._data.dtype == x._data.dtype else lo.to(x.dtype)
            return Clamp.apply(x, lo, hi)
        x = self
        if x._data.dtype.kind not in "fc" and any(isinstance(b, float) for b in (min, max)):
            x = x.to(dtypes.get_default_dtype())  # int tensor, float bound: the default float, as torch
        return Clamp.apply(x, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> "Tensor":  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> "Tensor":  # noqa: A002
        return self.clamp(max=max)

    def maximum(self, other: "Tensor") -> "Tensor":
        return self._binary(other, Maximum, op="maximum")

    def minimum(self, other: "Tensor") -> "Tensor":
        return self._binary(other, Minimum, op="minimum")

    def relu(self) -> "Tensor":
        return E.ReLU.apply(self)

    def sigmoid(self) -> "Tensor":
        return E.Sigmoid.apply(_floating(self))

    def tanh(self) -> "Tensor":
        return E.Tanh.apply(_floating(self))

    def softmax(self, dim: int, dtype: Any = None) -> "Tensor":
        from ..nn import functional as F

        return F.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> "Tensor":
        from ..nn import functional as F

        return F.log_softmax(self, dim, dtype=dtype)

    def where(self, condition: "Tensor", other: Any) -> "Tensor":
        from ..creation import where

        return where(condition, self, other)


def _floating(x: Tensor) -> Tensor:
    """Integer inputs to exp/log/... become the default float dtype, as in torch."""
    return x if x._data.dtype.kind in "fc" else x.to(dtypes.get_default_dtype())
