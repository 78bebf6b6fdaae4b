"""torch-level functions (`tg.exp(x)`, `tg.sum(x, dim)`, ...): each is the Tensor method of the same name."""
from __future__ import annotations

import inspect as _inspect
from typing import Any

from ._tensor_args import tensor_first as _tensor_first
from .tensor import Tensor


def exp(input: Tensor) -> Tensor:
    return input.exp()


def log(input: Tensor) -> Tensor:
    return input.log()


def log1p(input: Tensor) -> Tensor:
    return input.log1p()


def sqrt(input: Tensor) -> Tensor:
    return input.sqrt()


def rsqrt(input: Tensor) -> Tensor:
    return input.rsqrt()


def abs(input: Tensor) -> Tensor:
    return input.abs()


def sin(input: Tensor) -> Tensor:
    return input.sin()


def cos(input: Tensor) -> Tensor:
    return input.cos()


def sign(input: Tensor) -> Tensor:
    return input.sign()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def relu(input: Tensor) -> Tensor:
    return input.relu()


def square(input: Tensor) -> Tensor:
    return input.square()


def reciprocal(input: Tensor) -> Tensor:
    return input.reciprocal()


def neg(input: Tensor) -> Tensor:
    return input.neg()


def isnan(input: Tensor) -> Tensor:
    return input.isnan()


def isinf(input: Tensor) -> Tensor:
    return input.isinf()


def isfinite(input: Tensor) -> Tensor:
    return input.isfinite()


def floor(input: Tensor) -> Tensor:
    return input.floor()


def ceil(input: Tensor) -> Tensor:
    return input.ceil()


def round(input: Tensor) -> Tensor:
    return input.round()


def t(input: Tensor) -> Tensor:
    return input.t()


def logical_not(input: Tensor) -> Tensor:
    return input.logical_not()


def sum(input: Tensor, dim=None, keepdim=False, dtype=None) -> Any:
    return input.sum(dim=dim, keepdim=keepdim, dtype=dtype)


def mean(input: Tensor, dim=None, keepdim=False, dtype=None) -> Any:
    return input.mean(dim=dim, keepdim=keepdim, dtype=dtype)


def prod(input: Tensor, dim=None, keepdim=False, dtype=None) -> Any:
    return input.prod(dim=dim, keepdim=keepdim, dtype=dtype)


def max(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.max(dim=dim, keepdim=keepdim)


def min(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.min(dim=dim, keepdim=keepdim)


def amax(input: Tensor, dim=(), keepdim=False) -> Any:
    return input.amax(dim=dim, keepdim=keepdim)


def amin(input: Tensor, dim=(), keepdim=False) -> Any:
    return input.amin(dim=dim, keepdim=keepdim)


def argmax(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.argmax(dim=dim, keepdim=keepdim)


def argmin(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.argmin(dim=dim, keepdim=keepdim)


def var(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Any:
    return input.var(dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction)


def std(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Any:
    return input.std(dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction)


def norm(input: Tensor, p="fro", dim=None, keepdim=False, dtype=None) -> Any:
    return input.norm(p=p, dim=dim, keepdim=keepdim, dtype=dtype)


def clamp(input: Tensor, min=None, max=None) -> Any:
    return input.clamp(min=min, max=max)


def add(input: Tensor, other: Any, *, alpha: Any = 1) -> Any:
    return input.add(other, alpha=alpha)


def sub(input: Tensor, other: Any, *, alpha: Any = 1) -> Any:
    return input.sub(other, alpha=alpha)


subtract = sub


def mul(input: Tensor, other: Any) -> Any:
    return input.mul(other)


def div(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Any:
    return input.div(other, rounding_mode=rounding_mode)


divide = div


def pow(input: Tensor, exponent: Any) -> Any:
    return input.pow(exponent)


def maximum(input: Tensor, other: Any) -> Any:
    return input.maximum(other)


def minimum(input: Tensor, other: Any) -> Any:
    return input.minimum(other)


def matmul(input: Tensor, other: Any) -> Any:
    return input.matmul(other)


def mm(input: Tensor, mat2: Any) -> Any:
    return input.mm(mat2)


def bmm(input: Tensor, mat2: Any) -> Any:
    return input.bmm(mat2)


def dot(input: Tensor, other: Any) -> Any:
    return input.dot(other)


def flatten(input: Tensor, start_dim=0, end_dim=-1) -> Any:
    return input.flatten(start_dim=start_dim, end_dim=end_dim)


def squeeze(input: Tensor, dim=None) -> Any:
    return input.squeeze(dim=dim)


def unsqueeze(input: Tensor, dim: Any) -> Any:
    return input.unsqueeze(dim)


def transpose(input: Tensor, dim0: Any, dim1: Any) -> Any:
    return input.transpose(dim0, dim1)


def permute(input: Tensor, dims: Any) -> Any:
    return input.permute(dims)


def softmax(input: Tensor, dim: Any) -> Any:
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: Any) -> Any:
    return input.log_softmax(dim)


def allclose(input: Tensor, other: Any, rtol=1e-05, atol=1e-08) -> Any:
    return input.allclose(other, rtol=rtol, atol=atol)


def equal(input: Tensor, other: Any) -> Any:
    return input.equal(other)


def eq(input: Tensor, other: Any) -> Any:
    return input.eq(other)


def ne(input: Tensor, other: Any) -> Any:
    return input.ne(other)


def lt(input: Tensor, other: Any) -> Any:
    return input.lt(other)


def le(input: Tensor, other: Any) -> Any:
    return input.le(other)


def gt(input: Tensor, other: Any) -> Any:
    return input.gt(other)


def ge(input: Tensor, other: Any) -> Any:
    return input.ge(other)


def unbind(input: Tensor, dim=0) -> Any:
    return input.unbind(dim=dim)


def any(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.any(dim=dim, keepdim=keepdim)


def all(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.all(dim=dim, keepdim=keepdim)


def clone(input: Tensor) -> Any:
    return input.clone()


def detach(input: Tensor) -> Any:
    return input.detach()


def numel(input: Tensor) -> Any:
    return input.numel()


def gather(input: Tensor, dim: Any, index: Any) -> Any:
    return input.gather(dim, index)


def index_select(input: Tensor, dim: Any, index: Any) -> Any:
    return input.index_select(dim, index)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Any:
    return input.masked_fill(mask, value)


def reshape(input: Tensor, shape: Any) -> Any:
    return input.reshape(shape)


# every function above takes the Tensor first, as `input`: check it once here rather than in each of them
for _name, _fn in list(globals().items()):
    if _inspect.isfunction(_fn) and _fn.__module__ == __name__ and not _name.startswith("_") and \
            next(iter(_inspect.signature(_fn).parameters), None) == "input":
        globals()[_name] = _tensor_first(_fn)
del _name, _fn
