"""Tensor: a numpy array plus what autograd needs (requires_grad, grad, grad_fn, a version counter).

Every differentiable method is a call to one primitive's `apply` (see `tinygrad_cnn/ops`); arithmetic on Tensors
records nodes on the tape while grad mode is on. Method names, arguments and errors follow torch.Tensor.
"""
from __future__ import annotations

import weakref
from collections import namedtuple
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import dtypes
from .autograd import grad_mode
from .autograd.function import AccumulateGrad
from .ops import elementwise as E
from .ops import reduce as R
from .ops import shape as S
from .ops.index import GetItem, IndexPut
from .ops.matmul import MatMul
from ._tensor_args import axes_arg, broadcast_check, dim_arg, shape_arg, check_device, to_index

_values_indices = namedtuple("values_indices", ["values", "indices"])


class Tensor:
    """An n-dimensional array that records the operations applied to it (define-by-run)."""

    __array_priority__ = 1000  # numpy scalars on the left defer to our reflected operators
    # view tracking (set by autograd.function._mark_view): the tensor whose memory this one views, the views of
    # this tensor that autograd must re-point after an in-place change, and the grad mode the view was made in
    _base: "Tensor | None" = None
    _views: Any = None
    _view_grad_mode: bool = True

    def __init__(self, data: Any = None, requires_grad: bool = False) -> None:
        if isinstance(data, np.ndarray):
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
        t.grad = None
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
    def device(self) -> str:
        return "cpu"

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

    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """`.to(dtype)`, `.to('cpu')`, `.to(device, dtype)`, `.to(other_tensor)`; only the cpu device exists."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None), "to")
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        for a in args:
            if isinstance(a, Tensor):
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
        from .creation import tensor

        return tensor(data, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import zeros

        return zeros(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import ones

        return ones(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import empty

        return empty(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import full

        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def contiguous(self) -> "Tensor":
        return self if self._data.flags.c_contiguous else E.Clone.apply(self, "C")

    def __repr__(self) -> str:
        from ._format import tensor_repr

        return tensor_repr(self)

    # --- arithmetic ----------------------------------------------------------------------------------------
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
        return Tensor._wrap(np.floor_divide(self._data, _raw(other)))

    def __mod__(self, other: Any) -> "Tensor":
        return Tensor._wrap(np.mod(self._data, _raw(other)))

    add = __add__
    sub = subtract = __sub__
    mul = multiply = __mul__
    div = divide = true_divide = __truediv__
    pow = __pow__
    neg = negative = __neg__

    def matmul(self, other: "Tensor") -> "Tensor":
        from ._tensor_args import check_matmul

        other = _as_tensor(other, self)
        check_matmul(self.shape, other.shape)
        a, b = _promote(self, other, "matmul")
        return MatMul.apply(a, b)

    mm = bmm = matmul

    def dot(self, other: "Tensor") -> "Tensor":
        return self.matmul(other)

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

    def sign(self) -> "Tensor":
        return Tensor._wrap(np.sign(self._data))

    def floor(self) -> "Tensor":
        return Tensor._wrap(np.floor(self._data))

    def ceil(self) -> "Tensor":
        return Tensor._wrap(np.ceil(self._data))

    def round(self) -> "Tensor":
        return Tensor._wrap(np.round(self._data))

    def clamp(self, min: Any = None, max: Any = None) -> "Tensor":  # noqa: A002 - torch names
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            # tensor bounds: one primitive so ties get torch's gradients (not maximum's 50/50 split)
            x, lo, hi = self, None, None
            if min is not None:
                x, lo = _promote(x, _as_tensor(min, x), "clamp")
            if max is not None:
                x, hi = _promote(x, _as_tensor(max, x), "clamp")
            lo = lo if lo is None or lo._data.dtype == x._data.dtype else lo.to(x.dtype)
            return E.Clamp.apply(x, lo, hi)
        x = self
        if x._data.dtype.kind not in "fc" and any(isinstance(b, float) for b in (min, max)):
            x = x.to(dtypes.get_default_dtype())  # int tensor, float bound: the default float, as torch
        return E.Clamp.apply(x, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> "Tensor":  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> "Tensor":  # noqa: A002
        return self.clamp(max=max)

    def maximum(self, other: "Tensor") -> "Tensor":
        return self._binary(other, E.Maximum, op="maximum")

    def minimum(self, other: "Tensor") -> "Tensor":
        return self._binary(other, E.Minimum, op="minimum")

    def relu(self) -> "Tensor":
        return E.ReLU.apply(self)

    def sigmoid(self) -> "Tensor":
        return E.Sigmoid.apply(_floating(self))

    def tanh(self) -> "Tensor":
        return E.Tanh.apply(_floating(self))

    def softmax(self, dim: int) -> "Tensor":
        from .nn import functional as F

        return F.softmax(self, dim)

    def log_softmax(self, dim: int) -> "Tensor":
        from .nn import functional as F

        return F.log_softmax(self, dim)

    def where(self, condition: "Tensor", other: Any) -> "Tensor":
        from .creation import where

        return where(condition, self, other)

    # --- comparisons (no gradient) -------------------------------------------------------------------------
    def _compare(self, other: Any, fn: Callable) -> "Tensor":
        o = _raw(other)
        broadcast_check(self._data.shape, np.shape(o), "comparison")
        return Tensor._wrap(np.asarray(fn(self._data, o)))

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
        return Tensor._wrap(np.logical_not(self._data) if self._data.dtype == np.bool_ else ~self._data)

    logical_not = __invert__
    __hash__ = object.__hash__

    def equal(self, other: "Tensor") -> bool:
        return bool(self.shape == other.shape and np.array_equal(self._data, other._data))

    def allclose(self, other: "Tensor", rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(np.allclose(self._data, _raw(other), rtol=rtol, atol=atol))

    def isnan(self) -> "Tensor":
        return Tensor._wrap(np.isnan(self._data))

    def isinf(self) -> "Tensor":
        return Tensor._wrap(np.isinf(self._data))

    def isfinite(self) -> "Tensor":
        return Tensor._wrap(np.isfinite(self._data))

    def any(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return Tensor._wrap(np.asarray(np.any(self._data, axis=axes_arg(dim, self.ndim, "any"), keepdims=keepdim)))

    def all(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        return Tensor._wrap(np.asarray(np.all(self._data, axis=axes_arg(dim, self.ndim, "all"), keepdims=keepdim)))

    # --- reductions ----------------------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bui" and dtype is None:
            x = x.to(dtypes.int64)  # torch sums integers and bools as int64
        return R.Sum.apply(x, axes_arg(dim, self.ndim, "sum"), keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind not in "fc":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {x.dtype}")
        return R.Mean.apply(x, axes_arg(dim, self.ndim, "mean"), keepdim)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: Any = None) -> "Tensor":
        """Variance, composed from primitives: sum((x - mean)^2) / (N - correction), correction=1 by default."""
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        axis = axes_arg(dim, self.ndim, "var")
        n = self.numel() if axis is None else int(np.prod([self.shape[a] for a in axis]))
        centred = self - self.mean(dim=axis, keepdim=True)
        return (centred * centred).sum(dim=axis, keepdim=keepdim) / max(n - correction, 0)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: Any = None) -> "Tensor":
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def _extreme(self, dim: Any, keepdim: bool, is_min: bool, name: str) -> Any:
        if dim is None:
            if self.numel() == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   f"Specify the reduction dim with the 'dim' argument.")
            return R.Amax.apply(self, None, False, is_min)
        d = dim_arg(dim, self.ndim, name)
        if self.ndim == 0:  # torch allows dim 0 / -1 on a 0-d tensor: the value itself, index 0
            values, idx = self.reshape(1)._extreme(0, False, is_min, name)
            return _values_indices(values, idx)
        values = R.MaxDim.apply(self, d, keepdim, is_min)
        idx = np.argmin(self._data, axis=d) if is_min else np.argmax(self._data, axis=d)
        idx = np.expand_dims(idx, d) if keepdim else idx
        return _values_indices(values, Tensor._wrap(np.asarray(idx, dtype=np.int64)))

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return self._extreme(dim, keepdim, False, "max")

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return self._extreme(dim, keepdim, True, "min")

    def amax(self, dim: Any = (), keepdim: bool = False) -> "Tensor":
        return R.Amax.apply(self, axes_arg(None if dim == () else dim, self.ndim, "amax"), keepdim, False)

    def amin(self, dim: Any = (), keepdim: bool = False) -> "Tensor":
        return R.Amax.apply(self, axes_arg(None if dim == () else dim, self.ndim, "amin"), keepdim, True)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        return _arg_extreme(self, dim, keepdim, np.argmax, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        return _arg_extreme(self, dim, keepdim, np.argmin, "argmin")

    def prod(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        if dim is None:
            return _prod(self)
        return _prod(self, dim_arg(dim, self.ndim, "prod"), keepdim)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> "Tensor":
        if p in ("fro", 2, 2.0):
            return (self * self).sum(dim=dim, keepdim=keepdim).sqrt()
        if p in (1, 1.0):
            return self.abs().sum(dim=dim, keepdim=keepdim)
        if p == float("inf"):
            return self.abs().amax(dim=() if dim is None else dim, keepdim=keepdim)
        return (self.abs() ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)

    # --- shape ---------------------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> "Tensor":
        return S.Reshape.apply(self, shape_arg(shape, self.numel(), self.shape, "reshape"))

    def view(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (dtypes.DType, np.dtype)):
            return Tensor._wrap(self._data.view(dtypes.to_numpy_dtype(shape[0])))
        target = shape_arg(shape, self.numel(), self.shape, "view")
        try:
            np.reshape(self._data, target, copy=False)
        except ValueError:
            raise RuntimeError(f"view size is not compatible with input tensor's size and stride (at least one "
                               f"dimension spans across two contiguous subspaces): cannot view shape "
                               f"{tuple(self.shape)} with strides {self.stride()} as {target}. Use .reshape(...) "
                               f"instead.") from None
        return S.View.apply(self, target)

    def view_as(self, other: "Tensor") -> "Tensor":
        return self.view(*other.shape)

    def reshape_as(self, other: "Tensor") -> "Tensor":
        return self.reshape(*other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        if self.ndim == 0:
            return self.reshape(1)
        s = dim_arg(start_dim, self.ndim, "flatten")
        e = dim_arg(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come after end_dim "
                               f"({end_dim}) for a tensor of shape {tuple(self.shape)}")
        shp = self.shape
        return self.reshape(*shp[:s], int(np.prod(shp[s:e + 1])), *shp[e + 1:])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> "Tensor":
        d = dim_arg(dim, self.ndim, "unflatten")
        return self.reshape(*self.shape[:d], *sizes, *self.shape[d + 1:])

    def squeeze(self, dim: Any = None) -> "Tensor":
        if dim is None:
            new = tuple(n for n in self.shape if n != 1)
        else:
            axes = axes_arg(dim, self.ndim, "squeeze") or ()
            new = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return S.Reshape.apply(self, new)

    def unsqueeze(self, dim: int) -> "Tensor":
        d = dim_arg(dim, self.ndim + 1, "unsqueeze")
        shp = tuple(self.shape)
        return S.Reshape.apply(self, shp[:d] + (1,) + shp[d:])

    def permute(self, *dims: Any) -> "Tensor":
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                               f"length of the desired ordering of dimensions i.e. input.dim() = {self.ndim} is not "
                               f"equal to len(dims) = {len(dims)}")
        norm = tuple(dim_arg(d, self.ndim, "permute") for d in dims)
        if len(set(norm)) != len(norm):
            raise RuntimeError(f"permute(): duplicate dims are not allowed: {dims}")
        return S.Permute.apply(self, norm)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        if self.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return self
        order = list(range(self.ndim))
        a, b = dim_arg(dim0, self.ndim, "transpose"), dim_arg(dim1, self.ndim, "transpose")
        order[a], order[b] = order[b], order[a]
        return S.Permute.apply(self, tuple(order))

    swapaxes = transpose

    def t(self) -> "Tensor":
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def T(self) -> "Tensor":
        return S.Permute.apply(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    def expand(self, *sizes: Any) -> "Tensor":
        from ._tensor_args import expand_shape

        return S.Expand.apply(self, expand_shape(self.shape, sizes))

    def expand_as(self, other: "Tensor") -> "Tensor":
        return self.expand(*other.shape)

    def repeat(self, *sizes: Any) -> "Tensor":
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        if len(sizes) < self.ndim:
            raise RuntimeError(f"Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than number "
                               f"of dimensions of tensor ({self.ndim})")
        x = self.reshape((1,) * (len(sizes) - self.ndim) + tuple(self.shape))
        inter = []
        for n, r in zip(x.shape, sizes):
            inter += [1, n]
        big = []
        for n, r in zip(x.shape, sizes):
            big += [r, n]
        return x.reshape(*inter).expand(*big).reshape(*[n * r for n, r in zip(x.shape, sizes)])

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple:
        from .creation import split

        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        from .creation import chunk

        return chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple:
        d = dim_arg(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    # --- indexing ------------------------------------------------------------------------------------------
    def __getitem__(self, idx: Any) -> "Tensor":
        return GetItem.apply(self, to_index(idx, self.shape))

    def __setitem__(self, idx: Any, value: Any) -> None:
        from .ops.inplace import setitem

        setitem(self, to_index(idx, self.shape), value)

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def masked_fill(self, mask: "Tensor", value: Any) -> "Tensor":
        from .creation import where

        return where(mask, _as_tensor(value, self).to(self.dtype) if isinstance(value, Tensor) else value, self)

    def gather(self, dim: int, index: "Tensor") -> "Tensor":
        d = dim_arg(dim, self.ndim, "gather")
        idx = np.asarray(index._data)
        grids = list(np.indices(idx.shape, sparse=True))
        grids[d] = idx
        return self[tuple(grids)]

    def index_select(self, dim: int, index: "Tensor") -> "Tensor":
        d = dim_arg(dim, self.ndim, "index_select")
        return self[(slice(None),) * d + (index,)]

    # --- in-place ------------------------------------------------------------------------------------------
    def add_(self, other: Any, alpha: Any = 1) -> "Tensor":
        from .ops.inplace import inplace

        return inplace(self, lambda s: s + (other * alpha if alpha != 1 else other), "add_")

    def sub_(self, other: Any, alpha: Any = 1) -> "Tensor":
        from .ops.inplace import inplace

        return inplace(self, lambda s: s - (other * alpha if alpha != 1 else other), "sub_")

    def mul_(self, other: Any) -> "Tensor":
        from .ops.inplace import inplace

        return inplace(self, lambda s: s * other, "mul_")

    def div_(self, other: Any) -> "Tensor":
        from .ops.inplace import inplace

        return inplace(self, lambda s: s / other, "div_")

    def pow_(self, other: Any) -> "Tensor":
        from .ops.inplace import inplace

        return inplace(self, lambda s: s ** other, "pow_")

    def clamp_(self, min: Any = None, max: Any = None) -> "Tensor":  # noqa: A002
        from .ops.inplace import inplace

        return inplace(self, lambda s: s.clamp(min, max), "clamp_")

    def relu_(self) -> "Tensor":
        from .ops.inplace import inplace

        return inplace(self, lambda s: s.relu(), "relu_")

    def zero_(self) -> "Tensor":
        from .ops.inplace import check_inplace

        check_inplace(self, "zero_")  # so a refusal names zero_, not the fill_ it is made of
        return self.fill_(0)

    def fill_(self, value: Any) -> "Tensor":
        from .ops.inplace import inplace

        v = _raw(value)
        return inplace(self, lambda s: _overwrite(s, Tensor._wrap(np.full(s._data.shape, v, s._data.dtype))), "fill_")

    def copy_(self, src: "Tensor") -> "Tensor":
        from .ops.inplace import inplace

        src = _as_tensor(src, self)
        return inplace(self, lambda s: _overwrite(s, src.to(s.dtype).expand(*s.shape)), "copy_")

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> "Tensor":
        from .random import default_rng

        return self._fill_random(default_rng().uniform(a, b, self._data.shape), "uniform_")

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> "Tensor":
        from .random import default_rng

        return self._fill_random(default_rng().normal(mean, std, self._data.shape), "normal_")

    def _fill_random(self, values: np.ndarray, op: str) -> "Tensor":
        from .ops.inplace import check_inplace, inplace

        if grad_mode._enabled[0] and self.requires_grad:  # a non-leaf: the old value's gradient becomes zero
            new = Tensor._wrap(values.astype(self._data.dtype))
            return inplace(self, lambda s: _overwrite(s, new), op)
        check_inplace(self, op)
        self._data[...] = values
        self._version_box[0] += 1
        return self

    def __iadd__(self, other: Any) -> "Tensor":
        return self.add_(other)

    def __isub__(self, other: Any) -> "Tensor":
        return self.sub_(other)

    def __imul__(self, other: Any) -> "Tensor":
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> "Tensor":
        return self.div_(other)


_INTERNAL = frozenset(("_data", "grad", "grad_fn", "requires_grad", "_output_nr", "_version_box", "_retains_grad",
                       "_hooks", "_accumulator", "_base", "_views", "_view_grad_mode"))


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


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _as_tensor(x: Any, like: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and like._data.dtype.kind == "f":
        arr = arr.astype(like._data.dtype)
    return Tensor._wrap(arr)


def _floating(x: Tensor) -> Tensor:
    """Integer inputs to exp/log/... become the default float dtype, as in torch."""
    return x if x._data.dtype.kind in "fc" else x.to(dtypes.get_default_dtype())


def _promote(a: Tensor, b: Any, op: str) -> tuple:
    """torch's type promotion for a binary op; also checks broadcasting, naming both shapes."""
    if isinstance(b, Tensor):
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


def _overwrite(old: Tensor, new: Tensor) -> Tensor:
    """`new` as the next version of `old`: recorded as a where() so old's history gets a zero gradient."""
    if not old.requires_grad and not new.requires_grad:
        return new
    return E.Where.apply(np.zeros(old._data.shape, dtype=bool), old, new)


def _arg_extreme(x: Tensor, dim: Any, keepdim: bool, fn: Callable, name: str) -> Tensor:
    if dim is None or x.ndim == 0:
        if x.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        if dim is not None:
            dim_arg(dim, 0, name)
        return Tensor._wrap(np.asarray(fn(x._data), dtype=np.int64))
    d = dim_arg(dim, x.ndim, name)
    return Tensor._wrap(np.asarray(fn(x._data, axis=d, keepdims=keepdim), dtype=np.int64))


def _prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Product composed as a chain of multiplications over the slices along dim (exact gradient with zeros)."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    out = None
    for piece in x.unbind(dim):
        out = piece if out is None else out * piece
    if out is None:
        out = Tensor._wrap(np.ones(tuple(n for i, n in enumerate(x.shape) if i != dim), x._data.dtype))
    return out.unsqueeze(dim) if keepdim else out
