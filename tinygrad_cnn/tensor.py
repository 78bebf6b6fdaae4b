"""Tensor: a numpy array plus what autograd needs (requires_grad, grad, grad_fn, a version counter).

Every differentiable method is a call to one primitive's `apply` (see `tinygrad_cnn/ops`); arithmetic on Tensors
records nodes on the tape while grad mode is on. Method names, arguments and errors follow torch.Tensor.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

import numpy as np

from . import dtypes
from .autograd.function import AccumulateGrad
from .device import device
from ._tensor_args import dim_arg
from .tensor_methods import (ArithmeticMixin, CompareMixin, ConversionMixin, IndexMixin, InplaceMixin, LinalgMixin,
                             PointwiseMixin, ReduceMixin, SamplingMixin, ShapeMixin, SortMixin)
from .tensor_methods import _common
# helpers that lived here before the split; other modules import them from tinygrad_cnn.tensor
from .tensor_methods._common import _as_tensor, _raw  # noqa: F401
from .tensor_methods.arithmetic import _promote  # noqa: F401
from .tensor_methods.inplace import _overwrite  # noqa: F401
from .tensor_methods.pointwise import _floating  # noqa: F401


class Tensor(ArithmeticMixin, PointwiseMixin, CompareMixin, ReduceMixin, ShapeMixin, IndexMixin,
             InplaceMixin, ConversionMixin, SortMixin, SamplingMixin, LinalgMixin):
    """An n-dimensional array that records the operations applied to it (define-by-run)."""

    __array_priority__ = 1000  # numpy scalars on the left defer to our reflected operators
    # view tracking (set by autograd.function._mark_view): the tensor whose memory this one views, the views of
    # this tensor that autograd must re-point after an in-place change, and the grad mode the view was made in
    _base: "Tensor | None" = None
    _views: Any = None
    _view_grad_mode: bool = True

    def __init__(self, data: Any = None, requires_grad: bool = False) -> None:
        if isinstance(data, np.ndarray):
            if data.dtype.kind not in "biufc":  # no object/string tensors, as torch
                from ._value_checks import check_array_dtype

                check_array_dtype(data, "Tensor")
            arr = data
        else:  # torch.Tensor(list) makes a float tensor of the default dtype
            arr = np.asarray([] if data is None else data, dtype=dtypes.get_default_dtype().np)
        self._data: np.ndarray = arr
        self.grad: Tensor | None = None
        self.grad_fn: Any = None
        self.requires_grad: bool = False
        self._output_nr = 0
        self._version_box = [0]
        self._retains_grad = False
        self._hooks: list = []
        self._accumulator: AccumulateGrad | None = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr: np.ndarray, version_box: list | None = None) -> "Tensor":
        """Fast internal constructor: no copy, no checks."""
        t = cls.__new__(cls)
        t._data = arr
        t.__dict__["grad"] = None  # past the checking setter: this runs for every op output
        t.grad_fn = None
        t.requires_grad = False
        t._output_nr = 0
        t._version_box = version_box if version_box is not None else [0]
        t._retains_grad = False
        t._hooks = []
        t._accumulator = None
        return t

    # --- copying and pickling (as torch: data and requires_grad travel, graph links and hooks do not) -------
    def __reduce_ex__(self, protocol: Any) -> Any:
        extra = {k: v for k, v in self.__dict__.items() if k not in _INTERNAL}  # user attributes, as torch
        return (_rebuild_tensor, (type(self), self._data, self.requires_grad, extra))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        import copy

        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               f"protocol at the moment (this tensor of shape {tuple(self.shape)} has grad_fn="
                               f"<{self.grad_fn.name()}>); deep-copy t.detach() instead")
        if id(self) not in memo:
            extra = {k: copy.deepcopy(v, memo) for k, v in self.__dict__.items() if k not in _INTERNAL}
            t = _rebuild_tensor(type(self), self._data.copy(), self.requires_grad, extra)
            t.grad = None if self.grad is None else copy.deepcopy(self.grad, memo)
            memo[id(self)] = t
        return memo[id(self)]

    # --- .grad: checked on assignment, as torch (a wrong shape would otherwise be broadcast by an optimizer) ----
    @property
    def grad(self) -> "Tensor | None":
        return self.__dict__["grad"]

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            _check_grad_assignment(self, value)
        self.__dict__["grad"] = value

    # --- autograd plumbing ---------------------------------------------------------------------------------
    def _edge(self) -> tuple:
        """(node, output_nr) that gradients for this tensor flow into."""
        if self.grad_fn is not None:
            return self.grad_fn, self._output_nr
        if self._accumulator is None:
            self._accumulator = AccumulateGrad(self)
        return self._accumulator, 0

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients (got {self.dtype}, "
                               f"shape {tuple(self.shape)}); convert with .float() first")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        self._retains_grad = True
        self.grad_fn._out_tensors[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> Any:
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        self._hooks.append(hook)
        if self.grad_fn is not None:
            self.grad_fn._out_tensors[self._output_nr] = weakref.ref(self)
        hooks = self._hooks

        class _Handle:
            def remove(self) -> None:
                if hook in hooks:
                    hooks.remove(hook)

        return _Handle()

    def register_post_accumulate_grad_hook(self, hook: Callable[["Tensor"], None]) -> Any:
        """Call hook(self) after backward has accumulated into this leaf's `.grad` (torch >= 2.1); the hook
        returns None. Not called by autograd.grad, which accumulates nothing. DDP starts its all-reduces here."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        hooks = self._edge()[0].post_hooks

        class _Handle:
            def remove(self) -> None:
                if hook in hooks:
                    hooks.remove(hook)

        hooks.append(hook)
        return _Handle()

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs: Sequence["Tensor"] | None = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`. Non-scalars need `gradient` (same shape)."""
        from .autograd.api import backward

        backward([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """The same data (shared memory and version counter), cut from the graph."""
        return Tensor._wrap(self._data, self._version_box)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    @property
    def _version(self) -> int:
        return self._version_box[0]

    @property
    def data(self) -> "Tensor":
        """A detached tensor sharing memory; changes through it are not tracked by autograd (as in torch)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    # --- properties ----------------------------------------------------------------------------------------
    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> "Size | int":
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim_arg(dim, self.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> "device":
        return _CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> Any:
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[dim_arg(dim, self.ndim, "stride")]

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # --- conversion ----------------------------------------------------------------------------------------
    def numpy(self, force: bool = False) -> np.ndarray:
        """The underlying array (shared memory). Refuses when the tensor requires grad, like torch."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return self._data.copy() if force else self._data

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                               f"(shape {tuple(self.shape)})")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

    def __repr__(self) -> str:
        from ._format import tensor_repr

        return tensor_repr(self)


_CPU = device("cpu")
_INTERNAL = frozenset(("_data", "grad", "grad_fn", "requires_grad", "_output_nr", "_version_box", "_retains_grad",
                       "_hooks", "_accumulator", "_base", "_views", "_view_grad_mode"))


def _check_grad_assignment(t: Tensor, value: Any) -> None:
    """torch's checks of `t.grad = value`: a Tensor of t's shape and dtype."""
    if not isinstance(value, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
    if value._data.shape != t._data.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of size "
                           f"'{list(t._data.shape)}'. Please ensure that the gradient and the tensor are the same size")
    if value._data.dtype != t._data.dtype:
        raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype.name}' to a tensor with dtype "
                           f"'{t.dtype.name}'. Please ensure that the gradient and the tensor have the same dtype")


def _rebuild_tensor(cls: type, data: np.ndarray, requires_grad: bool, extra: dict) -> Tensor:
    """Unpickle / deep-copy target: a fresh leaf of class cls with the given data."""
    t = Tensor._wrap.__func__(cls, data)
    t.requires_grad = bool(requires_grad)
    t.__dict__.update(extra)
    return t


class Size(tuple):
    """torch.Size: a tuple of ints with a torch-like repr."""

    def __repr__(self) -> str:
        return f"tinygrad_cnn.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self))


_common.Tensor = Tensor  # the mixins make and recognise Tensors through this (see tensor_methods/_common.py)
