"""Tensor shape methods: reshape/view, flatten, squeeze, permute/transpose, expand, repeat, split/chunk/unbind,
flip/roll, narrow, movedim, tile."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .. import dtypes
from .._tensor_args import axes_arg, dim_arg, shape_arg
from ..ops import shape as S
from ._common import _raw, wrap

if TYPE_CHECKING:
    from ..tensor import Tensor


class ShapeMixin:
    """Shape changes; views (reshape, permute, expand) share memory with the input, as in torch."""

    def reshape(self, *shape: Any) -> "Tensor":
        return S.Reshape.apply(self, shape_arg(shape, self.numel(), self.shape, "reshape"))

    def view(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (dtypes.DType, np.dtype)):
            return wrap(self._data.view(dtypes.to_numpy_dtype(shape[0])))
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

    def unfold(self, dimension: int, size: int, step: int) -> "Tensor":
        """Windows of `size` elements every `step` along `dimension`: that dim becomes the window count
        (n - size) // step + 1 and a new last dim of length `size` holds each window (torch.Tensor.unfold).
        An index into self, so the gradient of overlapping windows adds up."""
        d = dim_arg(dimension, self.ndim, "unfold")
        n = self.shape[d] if self.ndim else 1
        if size < 0 or size > n:
            raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
        if step <= 0:
            raise RuntimeError(f"unfold: step is {step} but must be > 0")
        if self.ndim == 0:
            return self.reshape(1)
        starts = np.arange(0, n - size + 1, step)
        windows = self[(slice(None),) * d + (starts[:, None] + np.arange(size),)]  # (..., count, size, ...)
        return windows.movedim(d + 1, -1)

    def broadcast_to(self, size: Any) -> "Tensor":
        """self expanded to `size` under broadcasting rules (torch.broadcast_to; a view, as expand)."""
        return self.expand(*tuple(size))

    def expand(self, *sizes: Any) -> "Tensor":
        from .._tensor_args import expand_shape

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

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None) -> "Tensor":
        """Each slice along dim repeated repeats[i] times in place (dim None: of the flattened tensor).
        repeats is an int or a 0-d / 1-d integer tensor of size 1 or size(dim). Shape: size(dim) -> sum(repeats).
        Composed as an index_select, so the gradient sums the copies."""
        x, d = (self.reshape(-1), 0) if dim is None else (self, dim_arg(dim, self.ndim, "repeat_interleave"))
        if x.ndim == 0:
            x = x.reshape(1)
        reps = np.asarray(_raw(repeats))
        if reps.dtype.kind not in "iu" or reps.ndim > 1:
            raise RuntimeError(f"repeat_interleave: repeats must be an int or a 0-d or 1-d integer tensor, got "
                               f"dtype {reps.dtype}, shape {reps.shape}")
        n = x.shape[d]
        if reps.ndim == 1 and reps.shape[0] not in (1, n):
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {reps.shape[0]} and input.size({d}) = {n}")
        if (reps < 0).any():
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        idx = np.repeat(np.arange(n), np.broadcast_to(reps, (n,)))
        if output_size is not None and output_size != idx.shape[0]:
            raise RuntimeError(f"repeat_interleave: output_size ({output_size}) does not match the sum of repeats "
                               f"({idx.shape[0]})")
        return x[(slice(None),) * d + (idx,)]

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple:
        from ..creation import split

        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        from ..creation import chunk

        return chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple:
        d = dim_arg(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def flip(self, *dims: Any) -> "Tensor":
        """Reverse the order along each of dims (a copy, as in torch)."""
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        out = self
        for d in axes_arg(dims, self.ndim, "flip") or ():
            out = _take(out, d, np.arange(self.shape[d] - 1, -1, -1))
        return out

    def roll(self, shifts: Any, dims: Any = None) -> "Tensor":
        """Shift elements along dims, wrapping around; without dims the flattened tensor is rolled."""
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
        out = self
        for s, d in zip(shifts, dims):
            d = dim_arg(d, self.ndim, "roll")
            n = self.shape[d]
            out = _take(out, d, (np.arange(n) - int(s)) % n) if n else out
        return out

    def narrow(self, dim: int, start: int, length: int) -> "Tensor":
        """The slice [start, start + length) along dim (a view)."""
        d = dim_arg(dim, self.ndim, "narrow")
        n = self.shape[d]
        start = int(start) + n if int(start) < 0 else int(start)
        if not (0 <= start <= n and 0 <= int(length) <= n - start):
            raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim "
                               f"{d} (shape {tuple(self.shape)})")
        return self[(slice(None),) * d + (slice(start, start + int(length)),)]

    def movedim(self, source: Any, destination: Any) -> "Tensor":
        src = (source,) if isinstance(source, int) else tuple(source)
        dst = (destination,) if isinstance(destination, int) else tuple(destination)
        if len(src) != len(dst):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                               f"contain the same number of dims as destination ({list(dst)} dims)")
        src = tuple(dim_arg(d, self.ndim, "movedim") for d in src)
        dst = tuple(dim_arg(d, self.ndim, "movedim") for d in dst)
        if len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise RuntimeError(f"movedim: repeated dim in source {list(src)} or destination {list(dst)}")
        rest = iter(d for d in range(self.ndim) if d not in src)
        where = dict(zip(dst, src))
        return self.permute(*[where[i] if i in where else next(rest) for i in range(self.ndim)])

    moveaxis = movedim

    def tile(self, *dims: Any) -> "Tensor":
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return self.repeat(*((1,) * (self.ndim - len(dims)) + tuple(dims)))


def _take(x: "Tensor", dim: int, positions: np.ndarray) -> "Tensor":
    """x's elements at `positions` (1-D int array) along dim: one GetItem (a copy), so gradients flow back."""
    from ..ops.index import GetItem

    return GetItem.apply(x, (slice(None),) * dim + (positions,))
