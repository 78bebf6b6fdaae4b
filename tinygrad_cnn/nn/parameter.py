"""`Parameter` and `Buffer`: Tensor subclasses that `Module.__setattr__` recognises (torch.nn.parameter).

A Parameter is a leaf tensor that requires grad by default; assigning one to a Module attribute registers it, so it
shows up in `parameters()` and `state_dict()`. A Buffer marks a tensor to be registered with `register_buffer`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..tensor import Tensor


def _array_of(data: Any) -> tuple[np.ndarray, list | None]:
    """The array to wrap (shared with a Tensor, as torch shares storage) and the version counter to share."""
    if data is None:
        return np.empty(0, dtype=dtypes.get_default_dtype().np), None
    if isinstance(data, Tensor):
        return data._data, data._version_box
    arr = np.asarray(data)
    if arr.dtype.kind == "f" and not isinstance(data, np.ndarray):
        arr = arr.astype(dtypes.get_default_dtype().np)  # Python floats follow the default dtype
    return arr, None


class Parameter(Tensor):
    """A Tensor that is a module parameter: `nn.Parameter(data=None, requires_grad=True)`.

    `Parameter(t)` shares t's memory (and version counter), as in torch; the parameter is always a leaf.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        arr, version_box = _array_of(data)
        super().__init__(arr, requires_grad=requires_grad)
        if version_box is not None:
            self._version_box = version_box

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        # as torch: a fresh leaf with a copy of the data; grad, hooks and graph links are not copied
        if id(self) not in memo:
            memo[id(self)] = Parameter(Tensor._wrap(self._data.copy()), self.requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol: Any) -> Any:
        # pickle the data and the flag only (as torch): graph links and hooks are not picklable state
        return (_rebuild_parameter, (self._data, self.requires_grad))


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(Tensor._wrap(data), requires_grad)


class Buffer(Tensor):
    """A tensor to be registered as a buffer when assigned to a Module attribute: `nn.Buffer(data, persistent=True)`.

    The module stores a plain Tensor sharing this data (as torch does), so `type(module.name)` is Tensor.
    """

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        arr, version_box = _array_of(data)
        super().__init__(arr)
        if version_box is not None:
            self._version_box = version_box
        self.persistent = persistent
