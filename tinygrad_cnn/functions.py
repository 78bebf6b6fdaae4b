"""torch-level functions (`tg.exp(x)`, `tg.sum(x, dim)`, ...): each is the Tensor method of the same name."""
from __future__ import annotations

from typing import Any

from ._tensor_args import tensor_first as _tensor_first  # torch's TypeError for a non-Tensor input (tg.sum(1.0))
from .tensor import Tensor


@_tensor_first
def exp(input: Tensor) -> Tensor:
    return input.exp()


@_tensor_first
def log(input: Tensor) -> Tensor:
    return input.log()


@_tensor_first
def log1p(input: Tensor) -> Tensor:
    return input.log1p()


@_tensor_first
def sqrt(input: Tensor) -> Tensor:
    return input.sqrt()


@_tensor_first
def rsqrt(input: Tensor) -> Tensor:
    return input.rsqrt()


@_tensor_first
def abs(input: Tensor) -> Tensor:
    return input.abs()


@_tensor_first
def sin(input: Tensor) -> Tensor:
    return input.sin()


@_tensor_first
def cos(input: Tensor) -> Tensor:
    return input.cos()


@_tensor_first
def sign(input: Tensor) -> Tensor:
    return input.sign()


@_tensor_first
def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


@_tensor_first
def tanh(input: Tensor) -> Tensor:
    return input.tanh()


@_tensor_first
def relu(input: Tensor) -> Tensor:
    return input.relu()


@_tensor_first
def square(input: Tensor) -> Tensor:
    return input.square()


@_tensor_first
def reciprocal(input: Tensor) -> Tensor:
    return input.reciprocal()


@_tensor_first
def neg(input: Tensor) -> Tensor:
    return input.neg()


@_tensor_first
def isnan(input: Tensor) -> Tensor:
    return input.isnan()


@_tensor_first
def isinf(input: Tensor) -> Tensor:
    return input.isinf()


@_tensor_first
def isfinite(input: Tensor) -> Tensor:
    return input.isfinite()


@_tensor_first
def floor(input: Tensor) -> Tensor:
    return input.floor()


@_tensor_first
def ceil(input: Tensor) -> Tensor:
    return input.ceil()


@_tensor_first
def round(input: Tensor) -> Tensor:
    return input.round()


@_tensor_first
def t(input: Tensor) -> Tensor:
    return input.t()


@_tensor_first
def logical_not(input: Tensor) -> Tensor:
    return input.logical_not()


@_tensor_first
def sum(input: Tensor, dim=None, keepdim=False, dtype=None) -> Any:
    return input.sum(dim=dim, keepdim=keepdim, dtype=dtype)


@_tensor_first
def mean(input: Tensor, dim=None, keepdim=False, dtype=None) -> Any:
    return input.mean(dim=dim, keepdim=keepdim, dtype=dtype)


@_tensor_first
def prod(input: Tensor, dim=None, keepdim=False, dtype=None) -> Any:
    return input.prod(dim=dim, keepdim=keepdim, dtype=dtype)


@_tensor_first
def max(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.max(dim=dim, keepdim=keepdim)


@_tensor_first
def min(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.min(dim=dim, keepdim=keepdim)


@_tensor_first
def amax(input: Tensor, dim=(), keepdim=False) -> Any:
    return input.amax(dim=dim, keepdim=keepdim)


@_tensor_first
def amin(input: Tensor, dim=(), keepdim=False) -> Any:
    return input.amin(dim=dim, keepdim=keepdim)


@_tensor_first
def argmax(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.argmax(dim=dim, keepdim=keepdim)


@_tensor_first
def argmin(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.argmin(dim=dim, keepdim=keepdim)


@_tensor_first
def var(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Any:
    return input.var(dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction)


@_tensor_first
def std(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Any:
    return input.std(dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction)


@_tensor_first
def norm(input: Tensor, p="fro", dim=None, keepdim=False, dtype=None) -> Any:
    return input.norm(p=p, dim=dim, keepdim=keepdim, dtype=dtype)


@_tensor_first
def clamp(input: Tensor, min=None, max=None) -> Any:
    return input.clamp(min=min, max=max)


@_tensor_first
def add(input: Tensor, other: Any, *, alpha: Any = 1) -> Any:
    return input.add(other, alpha=alpha)


@_tensor_first
def sub(input: Tensor, other: Any, *, alpha: Any = 1) -> Any:
    return input.sub(other, alpha=alpha)


subtract = sub


@_tensor_first
def mul(input: Tensor, other: Any) -> Any:
    return input.mul(other)


@_tensor_first
def div(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Any:
    return input.div(other, rounding_mode=rounding_mode)


divide = div


@_tensor_first
def pow(input: Tensor, exponent: Any) -> Any:
    return input.pow(exponent)


@_tensor_first
def maximum(input: Tensor, other: Any) -> Any:
    return input.maximum(other)


@_tensor_first
def minimum(input: Tensor, other: Any) -> Any:
    return input.minimum(other)


@_tensor_first
def matmul(input: Tensor, other: Any) -> Any:
    return input.matmul(other)


@_tensor_first
def mm(input: Tensor, mat2: Any) -> Any:
    return input.mm(mat2)


@_tensor_first
def bmm(input: Tensor, mat2: Any) -> Any:
    return input.bmm(mat2)


@_tensor_first
def dot(input: Tensor, other: Any) -> Any:
    return input.dot(other)


@_tensor_first
def flatten(input: Tensor, start_dim=0, end_dim=-1) -> Any:
    return input.flatten(start_dim=start_dim, end_dim=end_dim)


@_tensor_first
def squeeze(input: Tensor, dim=None) -> Any:
    return input.squeeze(dim=dim)


@_tensor_first
def unsqueeze(input: Tensor, dim: Any) -> Any:
    return input.unsqueeze(dim)


@_tensor_first
def transpose(input: Tensor, dim0: Any, dim1: Any) -> Any:
    return input.transpose(dim0, dim1)


@_tensor_first
def permute(input: Tensor, dims: Any) -> Any:
    return input.permute(dims)


@_tensor_first
def softmax(input: Tensor, dim: Any) -> Any:
    return input.softmax(dim)


@_tensor_first
def log_softmax(input: Tensor, dim: Any) -> Any:
    return input.log_softmax(dim)


@_tensor_first
def allclose(input: Tensor, other: Any, rtol=1e-05, atol=1e-08) -> Any:
    return input.allclose(other, rtol=rtol, atol=atol)


@_tensor_first
def equal(input: Tensor, other: Any) -> Any:
    return input.equal(other)


@_tensor_first
def eq(input: Tensor, other: Any) -> Any:
    return input.eq(other)


@_tensor_first
def ne(input: Tensor, other: Any) -> Any:
    return input.ne(other)


@_tensor_first
def lt(input: Tensor, other: Any) -> Any:
    return input.lt(other)


@_tensor_first
def le(input: Tensor, other: Any) -> Any:
    return input.le(other)


@_tensor_first
def gt(input: Tensor, other: Any) -> Any:
    return input.gt(other)


@_tensor_first
def ge(input: Tensor, other: Any) -> Any:
    return input.ge(other)


@_tensor_first
def unbind(input: Tensor, dim=0) -> Any:
    return input.unbind(dim=dim)


@_tensor_first
def any(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.any(dim=dim, keepdim=keepdim)


@_tensor_first
def all(input: Tensor, dim=None, keepdim=False) -> Any:
    return input.all(dim=dim, keepdim=keepdim)


@_tensor_first
def clone(input: Tensor) -> Any:
    return input.clone()


@_tensor_first
def detach(input: Tensor) -> Any:
    return input.detach()


@_tensor_first
def numel(input: Tensor) -> Any:
    return input.numel()


@_tensor_first
def gather(input: Tensor, dim: Any, index: Any) -> Any:
    return input.gather(dim, index)


@_tensor_first
def index_select(input: Tensor, dim: Any, index: Any) -> Any:
    return input.index_select(dim, index)


@_tensor_first
def masked_fill(input: Tensor, mask: Any, value: Any) -> Any:
    return input.masked_fill(mask, value)


@_tensor_first
def reshape(input: Tensor, shape: Any) -> Any:
    return input.reshape(shape)


__all__ = ["abs", "add", "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "bmm", "ceil", "clamp",
           "clone", "cos", "detach", "div", "divide", "dot", "eq", "equal", "exp", "flatten", "floor", "gather",
           "ge", "gt", "index_select", "isfinite", "isinf", "isnan", "le", "log", "log1p", "log_softmax",
           "logical_not", "lt", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "mm", "mul",
           "ne", "neg", "norm", "numel", "permute", "pow", "prod", "reciprocal", "relu", "reshape", "round",
           "rsqrt", "sigmoid", "sign", "sin", "softmax", "sqrt", "square", "squeeze", "std", "sub", "subtract",
           "sum", "t", "tanh", "transpose", "unbind", "unsqueeze", "var"]
