"""Tensor creators and torch-level functions (`tg.tensor`, `tg.zeros`, `tg.cat`, `tg.where`, ...)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import dtypes
from ._tensor_args import check_device, dim_arg
from ._value_checks import check_array_dtype, check_fits, python_int_overflow, size_kw
from .ops.selection import Where
from .ops.shape import Cat
from .random import rng_of
from .tensor import Tensor


def _np_dtype(dtype: Any, default: dtypes.DType | None = None) -> np.dtype:
    if dtype is None:
        return (default or dtypes.get_default_dtype()).np
    return dtypes.to_numpy_dtype(dtype)


def _finish(arr: np.ndarray, requires_grad: bool, device: Any, op: str) -> Tensor:
    check_device(device, op)
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size: Sequence) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:  # int() would silently truncate 2.5 to 2
        if isinstance(s, (float, np.floating)) or isinstance(s, (bool, np.bool_)):
            raise TypeError(f"size must be a tuple of ints, but found element of type {type(s).__name__} "
                            f"({s!r}) in {list(size)}")
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    return size


def _infer_array(data: Any) -> np.ndarray:
    """numpy arrays keep their dtype; Python floats become the default float, ints int64, bools bool."""
    if isinstance(data, Tensor):
        return data._data.copy()
    if isinstance(data, np.ndarray):
        check_array_dtype(data, "tensor")
        return data.copy()
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = [d.tolist() if isinstance(d, Tensor) else d for d in data]
    try:
        arr = np.array(data)
    except ValueError:  # numpy's "inhomogeneous shape": say where the nesting is ragged, as torch does
        kind, msg = _ragged(data)
        raise kind(msg) from None
    if isinstance(data, np.generic):  # numpy scalars keep their dtype, as in torch
        check_array_dtype(arr, "tensor")
        return arr
    arr = python_int_overflow(data, arr)
    if arr.dtype.kind == "f":
        arr = arr.astype(dtypes.get_default_dtype().np)
    elif arr.dtype.kind in "iu" and not isinstance(data, np.generic):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__} ({arr.dtype})")
    return arr


def _ragged(data: Any) -> tuple[type, str]:
    """torch's message for nested lists of unequal lengths, found level by level (no recursion)."""
    level, dim = [data], 0
    while level:
        seqs = [x for x in level if isinstance(x, (list, tuple))]
        if seqs and len(seqs) != len(level):
            return TypeError, (f"not a sequence: tensor() got a mix of sequences and scalars at dim {dim} "
                               f"(every element at one depth must be a list, or none)")
        if not seqs:
            break
        n = len(seqs[0])
        for x in seqs:
            if len(x) != n:
                return ValueError, f"expected sequence of length {n} at dim {dim} (got {len(x)})"
        level, dim = [y for x in seqs for y in x], dim + 1
    return ValueError, "tensor(): could not build a rectangular array from the nested sequences"


def _flat(data: Any) -> list:
    return list(data) if isinstance(data, (list, tuple)) else [data]


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (list, scalar, numpy array or Tensor)."""
    arr = _infer_array(data)
    if dtype is not None:
        target = dtypes.to_numpy_dtype(dtype)
        if not isinstance(data, (np.ndarray, Tensor)):  # torch casts arrays and tensors, but checks Python values
            check_fits(arr, target)
        arr = arr.astype(target)
    return _finish(arr, requires_grad, device, "tensor")


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like tensor() but shares memory with a numpy array when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtypes.to_numpy_dtype(dtype)) == data.dtype):
        check_array_dtype(data, "as_tensor")
        return _finish(data, False, device, "as_tensor")
    return tensor(data, dtype, device)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with `arr`."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    check_array_dtype(arr, "from_numpy")
    return Tensor._wrap(arr)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    return _finish(np.zeros(_size(size_kw(size, kw, "zeros")), _np_dtype(dtype)), requires_grad, device, "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    return _finish(np.ones(_size(size_kw(size, kw, "ones")), _np_dtype(dtype)), requires_grad, device, "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    return _finish(np.empty(_size(size_kw(size, kw, "empty")), _np_dtype(dtype)), requires_grad, device, "empty")


def full(size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (bool, int, float, np.generic)):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not {type(fill_value).__name__}")
    if dtype is None:
        dtype = (dtypes.bool if isinstance(fill_value, bool) else dtypes.int64 if isinstance(fill_value, int)
                 else dtypes.get_default_dtype())
    return _finish(np.full(_size((size,)), fill_value, _np_dtype(dtype)), requires_grad, device, "full")


def _like(t: Tensor, dtype: Any) -> np.dtype:
    return t._data.dtype if dtype is None else dtypes.to_numpy_dtype(dtype)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(input._data.shape, _like(input, dtype)), requires_grad, device, "zeros_like")


def ones_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(input._data.shape, _like(input, dtype)), requires_grad, device, "ones_like")


def empty_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(input._data.shape, _like(input, dtype)), requires_grad, device, "empty_like")


def full_like(input: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _finish(np.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad, device, "full_like")


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """[start, end) by step; int64 when all arguments are ints, else the default float dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:  # numpy would return an empty tensor
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign (start={start}, "
                           f"end={end}, step={step})")
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = _np_dtype(dtype, dtypes.int64 if is_int else None)
    return _finish(np.arange(start, end, step).astype(dt), requires_grad, device, "arange")


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative (got steps={steps})")
    return _finish(np.linspace(start, end, steps).astype(_np_dtype(dtype)), requires_grad, device, "linspace")


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), requires_grad, device, "eye")


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, **kw: Any) -> Tensor:
    """Uniform [0, 1) from the global generator (seed with tg.manual_seed)."""
    arr = rng_of(generator).random(_size(size_kw(size, kw, "rand"))).astype(_np_dtype(dtype))
    return _finish(arr, requires_grad, device, "rand")


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, **kw: Any) -> Tensor:
    """Standard normal samples from the global generator."""
    arr = rng_of(generator).standard_normal(_size(size_kw(size, kw, "randn"))).astype(_np_dtype(dtype))
    return _finish(arr, requires_grad, device, "randn")


def randint(low: int, high: int | None = None, size: Sequence[int] = (), generator: Any = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers in [low, high) (torch: randint(high, size) or randint(low, high, size))."""
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be a tuple of ints, got {type(size).__name__}")
    if low >= high:
        raise RuntimeError(f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    arr = rng_of(generator).integers(low, high, size=_size((size,))).astype(_np_dtype(dtype, dtypes.int64))
    return _finish(arr, requires_grad, device, "randint")


def randperm(n: int, generator: Any = None, dtype: Any = None, device: Any = None) -> Tensor:
    return _finish(rng_of(generator).permutation(_size((n,))[0]).astype(_np_dtype(dtype, dtypes.int64)), False,
                   device, "randperm")


def rand_like(input: Tensor, dtype: Any = None) -> Tensor:
    return rand(*input.shape, dtype=_like(input, dtype))


def randn_like(input: Tensor, dtype: Any = None) -> Tensor:
    return randn(*input.shape, dtype=_like(input, dtype))


def normal(mean: float, std: float, size: Sequence[int], generator: Any = None, dtype: Any = None) -> Tensor:
    arr = rng_of(generator).normal(mean, std, _size((size,))).astype(_np_dtype(dtype))
    return Tensor._wrap(arr)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along dim; all other dims must match (the error names the first mismatch)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    ref = tensors[0]
    d = dim_arg(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != ref.ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, ref.shape)) if k != d):
            raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}. Expected shape like "
                               f"{tuple(ref.shape)} but got {tuple(t.shape)} for tensor number {i} in the list.")
    dt = dtypes.promote_types(*[t._data.dtype for t in tensors])
    return Cat.apply(d, *[t if t._data.dtype == dt else t.to(dt) for t in tensors])


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {tuple(tensors[0].shape)} at "
                               f"entry 0 and {tuple(t.shape)} at entry {i}")
    d = dim_arg(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces of `split_size` along dim (the last may be smaller) or of the given section sizes."""
    d = dim_arg(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0 and n > 0:
            raise RuntimeError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(tensor[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """`chunks` pieces (or fewer) of size ceil(n / chunks) along dim."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = dim_arg(dim, input.ndim, "chunk")
    if input.shape[d] == 0:  # torch: `chunks` empty pieces
        return tuple(input[(slice(None),) * d + (slice(0, 0),)] for _ in range(chunks))
    size = max(-(-input.shape[d] // chunks), 1)
    return split(input, size, d)


def _scalar_dtype(v: Any) -> np.dtype:
    """The dtype torch gives a Python scalar: bool, int64 or the default float."""
    if isinstance(v, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(v, (int, np.integer)):
        return np.dtype(np.int64)
    return dtypes.get_default_dtype().np


def _where_dtype(a: Any, b: Any) -> np.dtype:
    """torch's result dtype of where(cond, a, b): tensors promote together; a scalar only raises the category."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        return dtypes.promote_types(a._data.dtype, b._data.dtype)
    if not ta and not tb:
        return dtypes.promote_types(_scalar_dtype(a), _scalar_dtype(b))
    t, v = (a, b) if ta else (b, a)
    rank = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 2}
    sv = _scalar_dtype(v)
    return sv if rank[sv.kind] > rank[t._data.dtype.kind] else t._data.dtype


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """Elements of input where condition is True, of other elsewhere (broadcasting). One argument: nonzero()."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(cond))
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{condition.dtype if isinstance(condition, Tensor) else cond.dtype}")
    dt = _where_dtype(input, other)
    a = input.to(dt) if isinstance(input, Tensor) else Tensor._wrap(np.asarray(input, dtype=dt))
    b = other.to(dt) if isinstance(other, Tensor) else Tensor._wrap(np.asarray(other, dtype=dt))
    from ._tensor_args import broadcast_check

    broadcast_check(a._data.shape, b._data.shape, "where")  # names both shapes (not numpy's message)
    broadcast_check(cond.shape, np.broadcast_shapes(a._data.shape, b._data.shape), "where")
    return Where.apply(cond, a, b)

