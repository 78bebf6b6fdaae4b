"""Argument checks shared by Tensor methods and creators. Errors name the op, the argument and the shapes."""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, Sequence

import numpy as np


def dim_arg(dim: Any, ndim: int, op: str) -> int:
    """Normalise one dim (negative counts from the end); IndexError like torch when out of range."""
    d = int(dim)
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= d <= hi:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return d % ndim if ndim else 0


def axes_arg(dim: Any, ndim: int, op: str) -> tuple | None:
    """None (all dims) or a sorted tuple of distinct normalised dims, from an int, list or tuple."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dims) == 0:
        return None  # torch: dim=() / [] reduces over everything
    norm = tuple(sorted(dim_arg(d, ndim, op) for d in dims))
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"{op}: dim {norm} appears multiple times in the list of dims")
    return norm if ndim else None


def shape_arg(shape: Sequence, numel: int, old: Sequence[int], op: str) -> tuple:
    """Resolve a reshape target (varargs or one sequence, with at most one -1) and check the element count."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (got shape {shape})")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape dimension {min(shape)} in {shape}")
    known = int(np.prod([s for s in shape if s != -1]))
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel} "
                               f"(input shape {tuple(old)})")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel} "
                           f"(input shape {tuple(old)})")
    return shape


def expand_shape(old: Sequence[int], sizes: Sequence) -> tuple:
    """torch.expand's target: -1 keeps a dim; only size-1 dims (or new leading dims) may grow."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if len(sizes) < len(old):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(old)}), shape {tuple(old)}")
    lead = len(sizes) - len(old)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s == -1:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension ({i})")
            out.append(int(s))
            continue
        o = old[i - lead]
        if s == -1:
            out.append(o)
        elif o == s or o == 1:
            out.append(int(s))
        else:
            raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing size ({o}) "
                               f"at non-singleton dimension {i}. Target sizes: {list(sizes)}. Tensor sizes: "
                               f"{list(old)}")
    return tuple(out)


def broadcast_check(a: Sequence[int], b: Sequence[int], op: str) -> None:
    """Raise naming both shapes when they cannot broadcast (instead of numpy's error from deep inside)."""
    for i, (x, y) in enumerate(zip(reversed(a), reversed(b))):
        if x != y and x != 1 and y != 1:
            dim = max(len(a), len(b)) - 1 - i
            raise RuntimeError(f"{op}: The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {dim} (shapes {tuple(a)} and {tuple(b)})")


def check_matmul(a: Sequence[int], b: Sequence[int]) -> None:
    if len(a) == 0 or len(b) == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a)} and {tuple(b)}")
    ka = a[-1]
    kb = b[0] if len(b) == 1 else b[-2]
    if ka != kb:
        raise RuntimeError(f"matmul: mat1 and mat2 shapes cannot be multiplied: inner dimensions differ "
                           f"({ka} vs {kb}) for shapes {tuple(a)} @ {tuple(b)}")
    if len(a) > 2 and len(b) > 2:
        broadcast_check(a[:-2], b[:-2], "matmul (batch dims)")


def check_device(device: Any, op: str) -> None:
    """Only 'cpu' exists here; accept it (and None) for compatibility with torch code."""
    if device is None:
        return
    name = str(getattr(device, "type", device))
    if name.split(":")[0] != "cpu":
        raise RuntimeError(f"{op}: device {device!r} is not available: tinygrad_cnn runs on numpy and only has "
                           f"the 'cpu' device")


def to_index(idx: Any, shape: Sequence[int]) -> Any:
    """Turn Tensors inside an index into numpy arrays and check integer indices against the shape."""
    from .tensor import Tensor

    items = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for it in items:
        if isinstance(it, Tensor):
            it = it._data
            if it.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors "
                                 f"(got {it.dtype})")
            if it.dtype == np.uint8:  # torch: a byte tensor is a mask (deprecated), never integer positions
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                              "instead.", UserWarning, stacklevel=3)
                it = it.astype(np.bool_)
        elif isinstance(it, list):
            it = _list_index(it)
        elif isinstance(it, slice) and it.step is not None and it.step <= 0:
            # torch has no negative strides; numpy would silently reverse
            raise ValueError("step must be greater than zero" if it.step else "slice step cannot be zero")
        out.append(it)
    _check_int_bounds(out, shape)
    return tuple(out) if isinstance(idx, tuple) else out[0]


def _list_index(items: list) -> np.ndarray:
    """A list index as an array; an empty list selects nothing (numpy would make it float64 and refuse it)."""
    arr = np.asarray(items)
    if arr.size == 0 and arr.dtype.kind == "f":
        return arr.astype(np.int64)
    if arr.dtype.kind not in "biu":
        raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors (got a list of "
                         f"{arr.dtype})")
    return arr


def _consumed(it: Any) -> int:
    """How many dims of the indexed tensor one index item uses up."""
    if it is None or it is Ellipsis:
        return 0
    if isinstance(it, np.ndarray) and it.dtype == np.bool_:
        return it.ndim
    return 1


def _check_int_bounds(items: list, shape: Sequence[int]) -> None:
    """IndexError for an integer index outside its dim, naming the dim and its size (as torch)."""
    if sum(_consumed(i) for i in items) > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)} (shape {tuple(shape)})")
    dim = 0
    for k, it in enumerate(items):
        if it is Ellipsis:
            dim = len(shape) - sum(_consumed(i) for i in items[k + 1:])
            continue
        if isinstance(it, (int, np.integer)) and not isinstance(it, (bool, np.bool_)):
            if not -shape[dim] <= it < shape[dim]:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size {shape[dim]}")
        if isinstance(it, np.ndarray) and it.dtype == np.bool_ and it.ndim:
            covered = tuple(shape[dim:dim + it.ndim])
            if it.shape != covered:  # numpy's message names "axes"; torch's names both shapes
                raise IndexError(f"The shape of the mask {list(it.shape)} at index {dim} does not match the shape "
                                 f"of the indexed tensor {list(shape)} at index {dim}")
        dim += _consumed(it)


def tensor_first(fn: Callable) -> Callable:
    """torch's TypeError for a non-Tensor `input` (tg.sum(1.0)), instead of "'float' has no attribute 'sum'"."""
    @functools.wraps(fn)
    def checked(input: Any, *args: Any, **kwargs: Any) -> Any:
        from .tensor import Tensor

        if not isinstance(input, Tensor):
            raise TypeError(f"{fn.__name__}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return fn(input, *args, **kwargs)
    return checked
