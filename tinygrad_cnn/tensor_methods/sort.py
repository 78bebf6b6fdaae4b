"""Tensor ordering methods: sort, argsort, topk (values differentiable, through gather), unique, bincount."""
from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from .._tensor_args import dim_arg
from ._common import wrap

if TYPE_CHECKING:
    from ..tensor import Tensor

_sort_result = namedtuple("sort", ["values", "indices"])
_topk_result = namedtuple("topk", ["values", "indices"])


def _order(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Indices sorting x along dim, ties in their original order (what torch's CPU sort gives)."""
    if descending:
        key = -x.astype(np.int64) if x.dtype.kind in "bu" else -x
        return np.argsort(key, axis=dim, kind="stable")
    return np.argsort(x, axis=dim, kind="stable")


class SortMixin:
    """Sorting and counting; the returned values carry gradients back to the positions they came from."""

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """(values, indices) along dim; Shape: same as self; indices int64."""
        if self.ndim == 0:
            return _sort_result(self.clone(), wrap(np.zeros((), np.int64)))
        d = dim_arg(dim, self.ndim, "sort")
        idx = wrap(_order(self._data, d, descending))
        return _sort_result(self.gather(d, idx), idx)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> "Tensor":
        return self.sort(dim, descending, stable).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        """(values, indices) of the k largest (smallest) along dim, in order. Shape: self with dim -> k."""
        d = dim_arg(dim, self.ndim, "topk") if self.ndim else 0
        size = self.shape[d] if self.ndim else 1
        if not 0 <= int(k) <= size:
            raise RuntimeError(f"topk: selected index k out of range (k={k}, size {size} of dim {d} of a tensor of "
                               f"shape {tuple(self.shape)})")
        values, idx = self.sort(d, descending=largest)
        if self.ndim == 0:
            return _topk_result(values, idx)
        return _topk_result(values.narrow(d, 0, int(k)), idx.narrow(d, 0, int(k)))

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
               dim: int | None = None) -> Any:
        """The distinct values (sorted), flattened unless dim is given; optionally inverse indices and counts."""
        axis = None if dim is None else dim_arg(dim, self.ndim, "unique")
        values, inverse, counts = np.unique(self._data, return_inverse=True, return_counts=True, axis=axis)
        inverse = inverse.reshape(self._data.shape if axis is None else -1)  # torch: the input's shape, or 1-D
        out = [wrap(values)]
        if return_inverse:
            out.append(wrap(inverse.astype(np.int64)))
        if return_counts:
            out.append(wrap(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    def bincount(self, weights: "Tensor | None" = None, minlength: int = 0) -> "Tensor":
        """Counts of each value 0..max of a 1-D non-negative integer tensor (sums of weights if given)."""
        x = self._data
        if x.ndim != 1 or x.dtype.kind not in "iu" or (x.size and x.min() < 0):
            raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got dtype {self.dtype}, "
                               f"shape {tuple(self.shape)})")
        if weights is None:
            return wrap(np.bincount(x, minlength=minlength).astype(np.int64))
        w = weights._data
        return wrap(np.bincount(x, weights=w, minlength=minlength).astype(w.dtype if w.dtype.kind == "f"
                                                                             else np.float64))
