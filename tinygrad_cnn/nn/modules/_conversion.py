"""dtype conversion of a Module's parameters and buffers: `.to(dtype)`, `.double()`, `.float()`, `.half()`.

Parameters are converted in place (same Parameter objects, new arrays), so an optimizer built before `.double()`
keeps working; integer buffers such as `num_batches_tracked` are left alone, as in torch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ... import dtypes
from ..._tensor_args import check_device
from ...autograd import grad_mode
from ...tensor import Tensor

if TYPE_CHECKING:  # the mixin's methods return the Module they are called on
    from .module import Module


class ConversionMixin:
    """Module methods that convert every parameter, gradient and buffer (torch.nn.Module semantics)."""

    def _apply(self, fn: Callable[[Tensor], Tensor]) -> "Module":
        """Convert every parameter, its grad and every buffer with fn; parameters keep their identity."""
        with grad_mode.no_grad():
            for module in self.modules():
                for p in module._parameters.values():
                    if p is None:
                        continue
                    p._data = fn(p)._data  # same Parameter object, so optimizers holding it stay valid
                    if p.grad is not None:
                        p.grad = Tensor._wrap(fn(p.grad)._data)
                for k, b in module._buffers.items():
                    if b is not None:
                        module._buffers[k] = fn(b)
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """`.to(dtype)`, `.to('cpu')`, `.to(tensor)`: floating-point parameters and buffers change dtype."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None), "Module.to")
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments: {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (dtypes.DType, np.dtype)) or a is float:
                dtype = a
            else:
                check_device(a, "Module.to")
        if dtype is None:
            return self
        target = dtypes.from_numpy_dtype(dtypes.to_numpy_dtype(dtype))
        if not target.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={target}")
        return self._apply(lambda t: t.to(target) if t.is_floating_point() else t)

    def float(self) -> "Module":
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> "Module":
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> "Module":
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def type(self, dst_type: Any) -> "Module":
        return self._apply(lambda t: t.to(dst_type))

    def cpu(self) -> "Module":
        return self

    def cuda(self, device: Any = None) -> "Module":
        check_device("cuda" if device is None else device, "Module.cuda")
        return self
