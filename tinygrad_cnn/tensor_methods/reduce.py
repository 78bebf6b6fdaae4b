"""Tensor reductions: sum, mean, var/std, max/min (values and indices), amax/amin, argmax/argmin, prod, norm,
and the running sum cumsum and logsumexp."""
from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .. import dtypes
from .._tensor_args import axes_arg, dim_arg
from ..ops import reduce as R
from ._common import is_tensor, wrap

if TYPE_CHECKING:
    from ..tensor import Tensor


_values_indices = namedtuple("values_indices", ["values", "indices"])


class ReduceMixin:
    """Reductions; `dim` is an int, a tuple of ints or None (all dims), normalised by `axes_arg`/`dim_arg`."""

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
        from ..linalg.norms import _safe_root

        # constant values: var 0, and sqrt's derivative there is infinite; torch's subgradient is 0
        return _safe_root(self.var(dim, unbiased, keepdim, correction=correction), 2)

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
        _nonempty_dim(self, d, name)
        values = R.MaxDim.apply(self, d, keepdim, is_min)
        idx = np.argmin(self._data, axis=d) if is_min else np.argmax(self._data, axis=d)
        idx = np.expand_dims(idx, d) if keepdim else idx
        return _values_indices(values, wrap(np.asarray(idx, dtype=np.int64)))

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        if is_tensor(dim):
            return self.maximum(dim)
        return self._extreme(dim, keepdim, False, "max")

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        if is_tensor(dim):
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

    def prod(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bui" and dtype is None:
            x = x.to(dtypes.int64)  # torch multiplies integers and bools as int64
        if dim is None:
            return _prod(x)
        return _prod(x, dim_arg(dim, x.ndim, "prod"), keepdim)

    def median(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The lower median (element (n - 1) // 2 in sorted order; NaN if any NaN). Without dim: a 0-d tensor whose
        gradient is shared equally by the elements equal to it (torch's); with dim: (values, indices), the
        gradient going to the index picked (the first in a stable sort)."""
        if dim is None:
            return _median_all(self)
        d = dim_arg(dim, self.ndim, "median")
        if self.ndim == 0:
            return _values_indices(self.clone(), wrap(np.zeros((), np.int64)))
        _nonempty_dim(self, d, "median")
        order = np.argsort(self._data, axis=d, kind="stable")
        pick = np.take(order, [(self.shape[d] - 1) // 2], axis=d)
        nan = np.isnan(self._data) if self._data.dtype.kind == "f" else np.zeros(self._data.shape, bool)
        pick = np.where(nan.any(axis=d, keepdims=True), np.argmax(nan, axis=d, keepdims=True), pick)
        values = self.gather(d, wrap(pick))
        if not keepdim:
            values, pick = values.squeeze(d), pick.squeeze(d)
        return _values_indices(values, wrap(pick.astype(np.int64)))

    def cumsum(self, dim: int, dtype: Any = None) -> "Tensor":
        """Running sums along dim (same shape); integers and bools sum as int64, as in torch."""
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bui" and dtype is None:
            x = x.to(dtypes.int64)
        if x.ndim == 0:
            dim_arg(dim, 0, "cumsum")
            return x.clone()
        return R.Cumsum.apply(x, dim_arg(dim, x.ndim, "cumsum"))

    def cumprod(self, dim: int, *, dtype: Any = None) -> "Tensor":
        """Running products along dim (same shape); integers and bools multiply as int64, as in torch.

        Composed as a chain of multiplications of the slices along dim, so the gradient is exact even where x has
        zeros (dividing the output by x would not be). Cost: one node per slice.
        """
        from ..creation import stack

        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bui" and dtype is None:
            x = x.to(dtypes.int64)
        if x.ndim == 0:
            dim_arg(dim, 0, "cumprod")
            return x.clone()
        d = dim_arg(dim, x.ndim, "cumprod")
        if x.shape[d] == 0:
            return x.clone()
        outs = []
        for piece in x.unbind(d):
            outs.append(piece if not outs else outs[-1] * piece)
        return stack(outs, d)

    def diff(self, n: int = 1, dim: int = -1, prepend: "Tensor | None" = None,
             append: "Tensor | None" = None) -> "Tensor":
        """n-th forward difference along dim: out[i] = x[i + 1] - x[i], applied n times, after joining prepend and
        append to x along dim. Shape: size m along dim becomes max(m - n, 0)."""
        from ..creation import cat

        if self.ndim == 0:
            raise RuntimeError("diff expects input to be at least one-dimensional")
        d = dim_arg(dim, self.ndim, "diff")
        x = self
        if prepend is not None or append is not None:
            edge = (*self.shape[:d], 1, *self.shape[d + 1:])  # a 0-d prepend/append is one slice along dim
            x = cat([p if p.ndim else p.expand(*edge) for p in (prepend, self, append) if p is not None], d)
        for _ in range(n):
            m = x.shape[d]
            if m == 0:
                break
            hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
            x = (hi != lo) if x._data.dtype == np.bool_ else hi - lo  # bools: logical xor, as torch
        return x

    def logsumexp(self, dim: Any, keepdim: bool = False) -> "Tensor":
        """log(sum(exp(x), dim)), shifted by the (detached) max so large inputs do not overflow."""
        from .pointwise import _floating

        x = _floating(self)
        # the max of nothing is undefined; a zero shift (from sum) gives torch's -inf for empty reductions
        m = x.detach().amax(dim=dim, keepdim=True) if x.numel() else x.detach().sum(dim=dim, keepdim=True)
        m = m.masked_fill(m.isinf(), 0)  # all -inf (or an inf) along dim: no shift, as torch
        out = (x - m).exp().sum(dim=dim, keepdim=True).log() + m
        axes = axes_arg(dim, x.ndim, "logsumexp")
        return out if keepdim else out.squeeze(axes if axes is not None else tuple(range(x.ndim)))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        """torch.norm: the p-norm over dim (all elements when None); gradient 0 where the norm is 0 (torch's
        subgradient; sqrt(sum(x*x)) would give NaN there). See tinygrad_cnn/linalg/norms.py."""
        from ..linalg.norms import tensor_norm

        return tensor_norm(self, p, dim, keepdim, dtype)


def _arg_extreme(x: Tensor, dim: Any, keepdim: bool, fn: Callable, name: str) -> Tensor:
    if dim is None or x.ndim == 0:
        if x.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        if dim is not None:
            dim_arg(dim, 0, name)
        return wrap(np.asarray(fn(x._data), dtype=np.int64))
    d = dim_arg(dim, x.ndim, name)
    _nonempty_dim(x, d, name)
    return wrap(np.asarray(fn(x._data, axis=d, keepdims=keepdim), dtype=np.int64))


def _median_all(x: Tensor) -> Tensor:
    """median() of all elements: the value itself (exact) plus a zero-valued term that shares its gradient
    equally among the elements equal to it, as torch does."""
    flat = x._data.reshape(-1)
    if flat.size == 0:
        return wrap(np.asarray(np.nan, x._data.dtype))
    if flat.dtype.kind == "f" and np.isnan(flat).any():
        m = np.asarray(np.nan, flat.dtype)
        hit = np.isnan(x._data)
    else:
        m = np.sort(flat, kind="stable")[(flat.size - 1) // 2]
        hit = x._data == m
    out = wrap(np.asarray(m, x._data.dtype))
    if x.requires_grad:
        share = wrap((hit / hit.sum()).astype(x._data.dtype))
        out = out + ((x - x.detach()) * share).sum()  # exactly 0 in value; d/dx = share
    return out


def _nonempty_dim(x: Tensor, d: int, name: str) -> None:
    """torch's IndexError for an arg/max/min reduction over a size-0 dim (numpy's error names no op or dim)."""
    if x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size (input shape "
                         f"{tuple(x.shape)})")


def _prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Product composed as a chain of multiplications over the slices along dim (exact gradient with zeros)."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    out = None
    for piece in x.unbind(dim):
        out = piece if out is None else out * piece
    if out is None:
        out = wrap(np.ones(tuple(n for i, n in enumerate(x.shape) if i != dim), x._data.dtype))
    return out.unsqueeze(dim) if keepdim else out
