"""torch-level ordering, scan, selection and scatter functions (`tg.sort(x)`, `tg.topk`, `tg.cumsum`, `tg.flip`,
`tg.tril`, ...): each is the Tensor method of the same name (see tinygrad_cnn/tensor_methods)."""
from __future__ import annotations

from typing import Any

from .tensor import Tensor


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return input.sort(dim=dim, descending=descending, stable=stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return input.argsort(dim=dim, descending=descending, stable=stable)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    return input.topk(k, dim=dim, largest=largest, sorted=sorted)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: int | None = None) -> Any:
    return input.unique(sorted=sorted, return_inverse=return_inverse, return_counts=return_counts, dim=dim)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Any:
    return input.bincount(weights=weights, minlength=minlength)


def cumsum(input: Tensor, dim: int, dtype: Any = None) -> Any:
    return input.cumsum(dim, dtype=dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Any:
    return input.logsumexp(dim, keepdim=keepdim)


def flip(input: Tensor, dims: Any) -> Any:
    return input.flip(dims)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Any:
    return input.roll(shifts, dims)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Any:
    return input.narrow(dim, start, length)


def movedim(input: Tensor, source: Any, destination: Any) -> Any:
    return input.movedim(source, destination)


moveaxis = movedim


def tile(input: Tensor, dims: Any) -> Any:
    return input.tile(dims)


def tril(input: Tensor, diagonal: int = 0) -> Any:
    return input.tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Any:
    return input.triu(diagonal)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    return input.nonzero(as_tuple=as_tuple)


def masked_select(input: Tensor, mask: Tensor) -> Any:
    return input.masked_select(mask)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None) -> Any:
    return input.scatter(dim, index, src, value)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Any:
    return input.scatter_add(dim, index, src)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Any:
    return input.index_add(dim, index, source, alpha=alpha)


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    return input.isclose(other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def outer(input: Tensor, vec2: Tensor) -> Any:
    """The outer product of two 1-D tensors: (n,), (m,) -> (n, m)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(input.shape)} and {tuple(vec2.shape)}")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


__all__ = ["argsort", "bincount", "cumsum", "flip", "index_add", "isclose", "logsumexp", "masked_select",
           "moveaxis", "movedim", "narrow", "nonzero", "outer", "roll", "scatter", "scatter_add", "sort", "tile",
           "topk", "tril", "triu", "unique"]
