"""Tensor indexing: t[idx], t[idx] = v, iteration, masked_fill, gather, index_select."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._tensor_args import dim_arg, to_index
from ..ops.index import GetItem
from ._common import _as_tensor, is_tensor

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

        return where(mask, _as_tensor(value, self).to(self.dtype) if is_tensor(value) else value, self)

    def gather(self, dim: int, index: "Tensor") -> "Tensor":
        d = dim_arg(dim, self.ndim, "gather")
        idx = np.asarray(index._data)
        grids = list(np.indices(idx.shape, sparse=True))
        grids[d] = idx
        return self[tuple(grids)]

    def index_select(self, dim: int, index: "Tensor") -> "Tensor":
        d = dim_arg(dim, self.ndim, "index_select")
        return self[(slice(None),) * d + (index,)]
