"""torch-level functions added for issue 12 (tg.fmod, tg.remainder, tg.atan2, tg.take, tg.median, tg.bernoulli, ...):
each is the Tensor method of that name; a non-Tensor `input` gets torch's TypeError."""
from __future__ import annotations

from typing import Any

from ._tensor_args import tensor_first
from .tensor import Tensor

__all__ = ["arctan2", "atan2", "bernoulli", "broadcast_to", "det", "floor_divide", "fmod", "index_put", "inverse",
           "logdet", "median", "multinomial", "remainder", "select", "slogdet", "take"]


@tensor_first
def floor_divide(input: Tensor, other: Any) -> Any:
    return input.floor_divide(other)


@tensor_first
def remainder(input: Tensor, other: Any) -> Any:
    return input.remainder(other)


@tensor_first
def fmod(input: Tensor, other: Any) -> Any:
    return input.fmod(other)


@tensor_first
def atan2(input: Tensor, other: Any) -> Any:
    return input.atan2(other)


arctan2 = atan2


@tensor_first
def take(input: Tensor, index: Any) -> Any:
    return input.take(index)


@tensor_first
def select(input: Tensor, dim: Any, index: Any) -> Any:
    return input.select(dim, index)


@tensor_first
def broadcast_to(input: Tensor, size: Any) -> Any:
    return input.broadcast_to(size)


@tensor_first
def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Any:
    return input.index_put(indices, values, accumulate)


@tensor_first
def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    return input.median(dim, keepdim)


@tensor_first
def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Any:
    return input.bernoulli(p, generator=generator)


@tensor_first
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Any:
    return input.multinomial(num_samples, replacement, generator=generator)


@tensor_first
def det(input: Tensor) -> Any:
    return input.det()


@tensor_first
def slogdet(input: Tensor) -> Any:
    return input.slogdet()


@tensor_first
def logdet(input: Tensor) -> Any:
    return input.logdet()


@tensor_first
def inverse(input: Tensor) -> Any:
    return input.inverse()
