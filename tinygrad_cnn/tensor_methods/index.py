"""Tensor indexing: t[idx], t[idx] = v, iteration, masked_fill, gather, index_select, masked_select, nonzero,
tril/triu, and the scatters (scatter, scatter_add, index_add) that write by index."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._tensor_args import dim_arg, to_index
from ..ops.index import GetItem
from ._common import is_tensor, wrap

if TYPE_CHECKING:
    from ..tensor import Tensor


class IndexMixin:
    """Indexing; `to_index` turns a torch-style index into a numpy one and checks it against the shape."""

    def __getitem__(self, idx: Any) -> "Tensor":
        return GetItem.apply(self, to_index(idx, self.shape))

    def __setitem__(self, idx: Any, value: Any) -> None:
        from ..ops.inplace import setitem

        setitem(self, to_index(idx, self.shape), value)

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def masked_fill(self, mask: "Tensor", value: Any) -> "Tensor":
        from ..creation import where

        if not is_tensor(value):  # torch casts a scalar to self's dtype (masked_fill(m, 1.5) of ints keeps ints)
            value = wrap(np.asarray(_raw_scalar(value)).astype(self._data.dtype))
        return where(mask, value.to(self.dtype), self)

    def gather(self, dim: int, index: "Tensor") -> "Tensor":
        d = dim_arg(dim, self.ndim, "gather")
        idx = np.asarray(index._data)
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"gather(): Expected dtype int64 for index (got {index.dtype})")
        if idx.ndim != self.ndim or any(n > m for k, (n, m) in enumerate(zip(idx.shape, self.shape)) if k != d):
            raise RuntimeError(f"gather(): index {tuple(idx.shape)} must have as many dims as self "
                               f"{tuple(self.shape)} and be no larger in any dim other than {d}")
        _check_bounds(idx, self.shape[d], d, "gather")
        grids = list(np.indices(idx.shape, sparse=True))
        grids[d] = idx
        return self[tuple(grids)]

    def index_select(self, dim: int, index: "Tensor") -> "Tensor":
        d = dim_arg(dim, self.ndim, "index_select")
        idx = np.asarray(index._data)
        if idx.ndim > 1 or idx.dtype.kind not in "iu":
            raise IndexError(f"index_select(): Index is supposed to be a vector of integers (got shape "
                             f"{tuple(idx.shape)}, {index.dtype})")
        _check_bounds(idx, self.shape[d], d, "index_select", IndexError)
        return self[(slice(None),) * d + (index,)]

    def take(self, index: "Tensor") -> "Tensor":
        """self viewed as 1-D, indexed by index (negative positions count from the end); index's shape."""
        idx = np.asarray(index._data)
        n = self.numel()
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx.max() if idx.max() >= n else idx.min()
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
        return self.reshape(-1)[idx]

    def select(self, dim: int, index: int) -> "Tensor":
        """The slice at position index along dim (that dim removed): self[:, ..., index] with index in dim."""
        d = dim_arg(dim, self.ndim, "select")
        n = self.shape[d]
        if not -n <= int(index) < n:
            raise IndexError(f"select(): index {index} out of range for tensor of size {list(self.shape)} at "
                             f"dimension {d}")
        return self[(slice(None),) * d + (int(index),)]

    def index_put(self, indices: Any, values: "Tensor", accumulate: bool = False) -> "Tensor":
        """A copy with self[indices] = values (accumulate: += , repeated positions adding up)."""
        return self.clone().index_put_(indices, values, accumulate)

    def index_put_(self, indices: Any, values: "Tensor", accumulate: bool = False) -> "Tensor":
        """self[indices] = values in place; indices is a tuple of index tensors (one per leading dim)."""
        from ..ops.index import IndexAdd
        from ..ops.inplace import inplace

        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"index_put_(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
        if is_tensor(values) and values._data.dtype != self._data.dtype:
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got {self.dtype} for "
                               f"the destination and {values.dtype} for the source.")
        idx = to_index(tuple(indices), self.shape)
        if not accumulate:
            self[idx] = values
            return self
        v = values if is_tensor(values) else wrap(np.asarray(values, self._data.dtype))
        return inplace(self, lambda s: IndexAdd.apply(s, idx, v), "index_put_")

    def masked_select(self, mask: "Tensor") -> "Tensor":
        """The elements where mask (broadcast with self) is True, as a 1-D tensor."""
        shape = np.broadcast_shapes(self._data.shape, mask._data.shape)
        x = self if tuple(self.shape) == shape else self.expand(*shape)
        return x[np.broadcast_to(mask._data, shape)]

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """Indices of the non-zero elements: (count, ndim) int64, or one 1-D tensor per dim with as_tuple."""
        if as_tuple:
            return tuple(wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(self._data)))
        return wrap(np.argwhere(self._data).astype(np.int64))

    def diag(self, diagonal: int = 0) -> "Tensor":
        """1-D (n,) -> 2-D (n + |k|, n + |k|) with the vector on diagonal k (zeros elsewhere);
        2-D (r, c) -> 1-D: the elements x[i, i + k] of diagonal k (empty when k is outside the matrix)."""
        from ..ops.index import IndexPut

        k = int(diagonal)
        if self.ndim == 1:
            n = self.shape[0] + abs(k)
            pos = np.arange(self.shape[0])
            idx = (pos + max(-k, 0), pos + max(k, 0))  # (row, column) of each diagonal element
            return IndexPut.apply(wrap(np.zeros((n, n), self._data.dtype)), idx, self)
        if self.ndim != 2:
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D (shape {tuple(self.shape)})")
        r, c = self.shape
        length = max(0, min(r, c - k) if k >= 0 else min(r + k, c))
        pos = np.arange(length)
        return self[(pos + max(-k, 0), pos + max(k, 0))]

    def tril(self, diagonal: int = 0) -> "Tensor":
        """Zero above the diagonal-th diagonal of the last two dims."""
        return self.masked_fill(wrap(~_band(self, diagonal, lower=True)), 0)

    def triu(self, diagonal: int = 0) -> "Tensor":
        """Zero below the diagonal-th diagonal of the last two dims."""
        return self.masked_fill(wrap(~_band(self, diagonal, lower=False)), 0)

    def scatter(self, dim: int, index: "Tensor", src: Any = None, value: Any = None) -> "Tensor":
        """A copy with out[index[i][j]][j] = src[i][j] (dim 0; likewise for other dims); src may be a number."""
        from ..ops.index import IndexPut

        src = value if src is None else src
        idx = _scatter_index(self, dim, index, src, "scatter")
        if is_tensor(src):
            return IndexPut.apply(self, idx, src[tuple(slice(0, n) for n in index.shape)])
        return IndexPut.apply(self, idx, np.asarray(src).astype(self._data.dtype))

    def scatter_add(self, dim: int, index: "Tensor", src: "Tensor") -> "Tensor":
        """A copy with src[i][j] added at out[index[i][j]][j] (dim 0); repeated indices add up."""
        from ..ops.index import IndexAdd

        idx = _scatter_index(self, dim, index, src, "scatter_add")
        return IndexAdd.apply(self, idx, src[tuple(slice(0, n) for n in index.shape)])

    def index_add(self, dim: int, index: "Tensor", source: "Tensor", *, alpha: Any = 1) -> "Tensor":
        """A copy with alpha * source[i] added at position index[i] along dim; repeated indices add up."""
        from ..ops.index import IndexAdd

        d = dim_arg(dim, self.ndim, "index_add")
        idx = np.asarray(index._data)
        want = tuple(self.shape[:d]) + (idx.size,) + tuple(self.shape[d + 1:])
        if idx.ndim > 1 or idx.dtype.kind not in "iu" or tuple(source.shape) != want:
            raise RuntimeError(f"index_add(): expected a 1-D integer index and source of shape {want} (self "
                               f"{tuple(self.shape)}, dim {d}, index {tuple(index.shape)} {index.dtype}, source "
                               f"{tuple(source.shape)})")
        if source._data.dtype != self._data.dtype:
            raise RuntimeError(f"index_add_(): self ({self.dtype}) and source ({source.dtype}) must have the same "
                               f"scalar type")
        _check_bounds(idx, self.shape[d], d, "index_add", IndexError)
        return IndexAdd.apply(self, (slice(None),) * d + (idx.reshape(-1),), source * alpha if alpha != 1 else source)


def _raw_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _band(x: "Tensor", diagonal: int, lower: bool) -> np.ndarray:
    """The (rows, cols) bool mask of tril/triu for x's last two dims."""
    if x.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions (got shape "
                           f"{tuple(x.shape)})")
    rows, cols = x.shape[-2:]
    ones = np.ones((rows, cols), dtype=bool)
    return np.tril(ones, diagonal) if lower else np.triu(ones, diagonal)


def _scatter_index(x: "Tensor", dim: int, index: "Tensor", src: Any, op: str) -> tuple:
    """The numpy index of scatter's target positions: index's own position, with dim replaced by index's value."""
    d = dim_arg(dim, x.ndim, op)
    idx = np.asarray(index._data)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index (got {index.dtype})")
    if idx.ndim != x.ndim or any(n > m for k, (n, m) in enumerate(zip(idx.shape, x.shape)) if k != d):
        raise RuntimeError(f"{op}(): index {tuple(idx.shape)} must have as many dims as self {tuple(x.shape)} and "
                           f"be no larger in any dim other than {d}")
    if is_tensor(src):
        if src._data.dtype != x._data.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype ({x.dtype} vs {src.dtype})")
        if src.ndim != x.ndim or any(n > m for n, m in zip(idx.shape, src.shape)):
            raise RuntimeError(f"{op}(): index {tuple(idx.shape)} must be no larger than src {tuple(src.shape)}")
    _check_bounds(idx, x.shape[d], d, op)
    grids = list(np.indices(idx.shape, sparse=True))
    grids[d] = idx
    return tuple(grids)


def _check_bounds(idx: np.ndarray, size: int, d: int, op: str, kind: type = RuntimeError) -> None:
    """gather/scatter/index_select/index_add take positions in [0, size): torch refuses a negative index here
    (numpy would wrap it around to count from the end)."""
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise kind(f"{op}(): index {bad} is out of bounds for dimension {d} with size {size}")
