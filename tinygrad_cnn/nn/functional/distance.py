"""nn.functional: cosine_similarity, pairwise_distance (torch.nn.functional names, arguments and defaults)."""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor

__all__ = ["cosine_similarity", "pairwise_distance"]


def _check(x1: object, x2: object, name: str) -> tuple[int, ...]:
    for t, arg in ((x1, "x1"), (x2, "x2")):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(t).__name__}")
    try:
        return tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    except ValueError:
        raise RuntimeError(f"{name}: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} are not "
                           f"broadcastable") from None


def _safe_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """||x||_2 along dim (keepdim), used as max(||x||, eps) in the forward only, as torch (which clamps the norm in
    place under no_grad): the gradient flows through the unclamped norm. sqrt is taken of 1 where the sum is 0, so
    a zero vector has a zero (not nan) norm gradient."""
    sq = (x * x).sum(dim, keepdim=True)
    zero = Tensor._wrap(sq._data == 0)
    norm = (sq + zero.to(sq.dtype)).sqrt() * (~zero).to(sq.dtype)
    return norm + (norm.clamp_min(eps) - norm).detach()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim, after broadcasting x1 and x2.

    Shape: x1, x2 broadcastable to (*, D, *) with D at dim -> the broadcast shape without dim.

    Raises:
        RuntimeError: shapes that do not broadcast.
        IndexError: dim out of range for the broadcast shape.
    """
    shape = _check(x1, x2, "cosine_similarity")
    if not -len(shape) <= dim < max(len(shape), 1):
        raise IndexError(f"cosine_similarity: Dimension out of range (expected to be in range of "
                         f"[{-max(len(shape), 1)}, {max(len(shape), 1) - 1}], but got {dim}) (broadcast shape {shape})")
    a, b = (x if x.is_floating_point() else x.float() for x in (x1, x2))
    a, b = a.expand(*shape), b.expand(*shape)
    return ((a / _safe_norm(a, dim, eps)) * (b / _safe_norm(b, dim, eps))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim (eps avoids a zero difference, as torch).

    Shape: x1, x2 broadcastable to (*, D) -> (*) (or (*, 1) with keepdim); 1-D inputs give a 0-d result.
    """
    _check(x1, x2, "pairwise_distance")
    return (x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim)
