"""Norms (`tg.linalg.vector_norm`, `matrix_norm`, `norm`), composed from differentiable primitives.

A p-norm is (sum |x|^p)^(1/p). Written naively its gradient is NaN where the norm is 0 (0 * inf from the root's
derivative at 0) and, for p < 1, wherever an element is 0; torch uses the subgradient 0 there. `_safe_root` and
`_safe_pow` route those points through a `where` whose untaken branch is a harmless constant, so the gradient is
exactly 0 there and every other gradient (and every higher derivative) is the plain formula's.
"""
from __future__ import annotations

from typing import Any

import numpy as np


from .._tensor_args import axes_arg
from ..tensor import Tensor

_INF = float("inf")


def _safe_root(s: Tensor, p: float) -> Tensor:
    """s ** (1/p) for s >= 0 with derivative 0 (torch's subgradient) where s == 0, instead of 0 * inf = NaN."""
    from ..creation import where

    zero = s == 0  # a bool constant of the derivative
    safe = where(zero, 1.0, s)
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return where(zero, 0.0, root)


def _safe_pow(a: Tensor, p: float) -> Tensor:
    """a ** p for a >= 0; for 0 < p < 1 the derivative at a == 0 is infinite, and torch uses 0 there."""
    from ..creation import where

    if p >= 1:
        return a ** p
    zero = a == 0
    return where(zero, 0.0, where(zero, 1.0, a) ** p)


def _float_input(x: Any, op: str, dtype: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'x' (position 1) must be Tensor, not {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if not x.is_floating_point():
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {x.dtype} "
                           f"(shape {tuple(x.shape)})")
    return x


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ord-norm of x over dim (all elements when None), as torch.linalg.vector_norm.

    Shape: x (*) -> x's shape without the reduced dims (kept as size 1 with keepdim). ord: any float, inf or -inf
    (max / min of |x|) or 0 (the count of non-zero elements). Gradient 0 where the norm is 0, as torch.
    """
    x = _float_input(x, "linalg.vector_norm", dtype)
    if isinstance(ord, str) or isinstance(ord, bool):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r} (use matrix_norm for 'fro' and "
                           f"'nuc')")
    ord = float(ord)
    axes = axes_arg(dim, x.ndim, "linalg.vector_norm")
    if abs(ord) == _INF:
        if x.numel() == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because "
                               f"the operation does not have an identity")
        a = x.abs()
        return a.amax(dim=() if axes is None else axes, keepdim=keepdim) if ord > 0 else \
            a.amin(dim=() if axes is None else axes, keepdim=keepdim)
    if ord == 0:  # a count: no gradient flows, but the result stays in x's graph like torch's
        return (x != 0).to(x.dtype).sum(dim=axes, keepdim=keepdim) + (x * 0).sum(dim=axes, keepdim=keepdim)
    if ord == 1:
        return x.abs().sum(dim=axes, keepdim=keepdim)
    if ord == 2:
        return _safe_root((x * x).sum(dim=axes, keepdim=keepdim), 2)
    return _safe_root(_safe_pow(x.abs(), ord).sum(dim=axes, keepdim=keepdim), ord)


def _matrix_dims(x: Tensor, dim: Any, op: str) -> tuple:
    if x.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions (got shape {tuple(x.shape)})")
    d = axes_arg(dim, x.ndim, op)
    if d is None or len(d) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {dim}")
    return tuple(int(k) % x.ndim for k in dim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The ord-norm of the matrices in the two dims `dim` of A, as torch.linalg.matrix_norm.

    Shape: A (*, m, n) -> (*) (size-1 dims kept with keepdim). ord: 'fro', 'nuc' (sum of singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (max / min row sum).
    """
    A = _float_input(A, "linalg.matrix_norm", dtype)
    r, c = _matrix_dims(A, dim, "linalg.matrix_norm")
    if ord == "fro":
        return vector_norm(A, 2, (r, c), keepdim)
    if ord in ("nuc", 2, -2, 2.0, -2.0):
        from .decompositions import svdvals

        moved = A.movedim((r, c), (-2, -1))
        s = svdvals(moved)
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if float(ord) > 0 else s.amin(-1))
        return _keep(out, (r, c), A.ndim) if keepdim else out
    if ord in (1, -1, _INF, -_INF):
        inner, outer = (r, c) if abs(float(ord)) == 1 else (c, r)  # 1: sum over rows (per column); inf: per row
        sums = A.abs().sum(dim=inner, keepdim=True)
        out = sums.amax(dim=outer, keepdim=True) if float(ord) > 0 else sums.amin(dim=outer, keepdim=True)
        return out if keepdim else out.squeeze((r, c))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported (use 'fro', 'nuc', 1, -1, 2, -2, inf, -inf)")


def _keep(out: Tensor, dims: tuple, ndim: int) -> Tensor:
    for d in sorted(dims):
        out = out.unsqueeze(d)
    return out


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.linalg.norm: a vector norm over one dim (or all of a 1-D input), a matrix norm over two dims (or a
    2-D input); with ord=None and dim=None, the 2-norm of all elements."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(ord, str) or (dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) == 2) \
            or (dim is None and A.ndim == 2):
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if dim is None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.ndim}D (shape {tuple(A.shape)})")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def tensor_norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """torch.norm / Tensor.norm: 'fro' (the 2-norm over dim, or all elements), 'nuc', or a vector p-norm."""
    if p == "nuc":
        return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if p == "fro":
        p = 2
    if x.is_floating_point() or dtype is not None:
        return vector_norm(x, p, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got {x.dtype} instead "
                       f"(shape {tuple(x.shape)})")



