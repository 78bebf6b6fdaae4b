"""Tensor methods that convert: dtype and device casts (`to`, `float`, `long`, `cpu`, ...), copies (`clone`,
`contiguous`) and the `new_*` factories that take this tensor's dtype."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes
from .._tensor_args import check_device
from ..ops import elementwise as E
from ._common import is_tensor

if TYPE_CHECKING:
    from ..tensor import Tensor


class ConversionMixin:
    """Casts and copies; the `new_*` factories default to this tensor's dtype."""

    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """`.to(dtype)`, `.to('cpu')`, `.to(device, dtype)`, `.to(other_tensor)`; only the cpu device exists."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None), "to")
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        for a in args:
            if is_tensor(a):
                dtype = a.dtype
            elif isinstance(a, (dtypes.DType, np.dtype, type)):
                dtype = a
            else:
                check_device(a, "to")
        if dtype is None or np.dtype(dtypes.to_numpy_dtype(dtype)) == self._data.dtype:
            return self.clone() if copy else self
        return E.Cast.apply(self, dtypes.to_numpy_dtype(dtype))

    def type(self, dtype: Any = None) -> Any:
        return str(self.dtype) if dtype is None else self.to(dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def float(self) -> "Tensor":
        return self.to(dtypes.float32)

    def double(self) -> "Tensor":
        return self.to(dtypes.float64)

    def half(self) -> "Tensor":
        return self.to(dtypes.float16)

    def long(self) -> "Tensor":
        return self.to(dtypes.int64)

    def int(self) -> "Tensor":
        return self.to(dtypes.int32)

    def bool(self) -> "Tensor":
        return self.to(dtypes.bool)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *a: Any, **k: Any) -> "Tensor":
        check_device("cuda", "cuda")
        return self

    def clone(self) -> "Tensor":
        return E.Clone.apply(self)

    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """A copy of data with this tensor's dtype (unless given), as torch's Tensor.new_tensor."""
        from ..creation import tensor

        return tensor(data, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from ..creation import zeros

        return zeros(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from ..creation import ones

        return ones(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from ..creation import empty

        return empty(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from ..creation import full

        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def contiguous(self) -> "Tensor":
        return self if self._data.flags.c_contiguous else E.Clone.apply(self, "C")
