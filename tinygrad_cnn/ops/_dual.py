"""One formula, two carriers: the calls a primitive's backward is written with.

A primitive's derivative is written once. The engine runs it on one of two carriers:
- numpy arrays (first-order backward, the default): every call below runs numpy at once, nothing is recorded;
  a primitive called on arrays runs its `forward` on a throwaway ctx;
- Tensors (`create_graph=True`): every call is the primitive's `apply`, recorded on the tape, so the gradient is
  itself differentiable, to any order.

Operators (`+ - * / **`, unary `-`, comparisons, `x[idx]`) already work on both carriers. What differs between
numpy and torch (`.sum(axis=)`, `.transpose`, `.astype`, `np.exp(tensor)`) goes through the functions here.
A value computed with `raw(x)` is a constant of the derivative (a sign, a mask): use it only where the true
derivative of that factor is zero.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import function as _function


class _Scratch:
    """The ctx of a forward run as a plain function: nothing needs a gradient and nothing is saved."""

    __slots__ = ("needs_input_grad", "__dict__")

    def __init__(self, n: int) -> None:
        self.needs_input_grad = (False,) * n

    def save_for_backward(self, *values: Any) -> None:
        pass

    def mark_non_differentiable(self, *outputs: Any) -> None:
        pass


def _tensor_type() -> type:
    return _function._TENSOR[0] or _function._load_tensor()


def is_tensor(x: Any) -> bool:
    """True when x is a Tensor (the create_graph carrier)."""
    return isinstance(x, _tensor_type())


def raw(x: Any) -> Any:
    """The numpy value of x (a Tensor's array, or x itself): a constant, cut from any graph."""
    return x._data if isinstance(x, _tensor_type()) else x


def call(fn: type, *args: Any) -> Any:
    """fn's value on args: `fn.apply(*args)` when a Tensor is among them, else `fn.forward` on the arrays."""
    Tensor = _tensor_type()
    for a in args:
        if isinstance(a, Tensor):
            return fn.apply(*args)
    return fn.forward(_Scratch(len(args)), *args)


# --- the calls backwards use: each is one primitive --------------------------------------------------------
_MODULES: list = []  # the primitive modules, imported on first use (primitives import this module)


def _ops() -> Any:
    # cached: an import statement costs ~1 us, a third of a small array backward's dual call
    if not _MODULES:
        from . import elementwise, reduce, selection, shape, matmul

        _MODULES.append((elementwise, reduce, selection, shape, matmul))
    return _MODULES[0]


def exp(x: Any) -> Any:
    return call(_ops()[0].Exp, x)


def log(x: Any) -> Any:
    return call(_ops()[0].Log, x)


def sqrt(x: Any) -> Any:
    return call(_ops()[0].Sqrt, x)


def sin(x: Any) -> Any:
    return call(_ops()[0].Sin, x)


def cos(x: Any) -> Any:
    return call(_ops()[0].Cos, x)


def tanh(x: Any) -> Any:
    return call(_ops()[0].Tanh, x)


def sigmoid(x: Any) -> Any:
    return call(_ops()[0].Sigmoid, x)


def where(cond: Any, a: Any, b: Any) -> Any:
    """cond ? a : b (broadcasting); cond is a constant."""
    return call(_ops()[2].Where, raw(cond), a, b)


def sum(x: Any, axis: tuple | None = None, keepdim: bool = False) -> Any:  # noqa: A001 - the op's name
    """x summed over axis (a tuple of non-negative ints, or None for all)."""
    return call(_ops()[1].Sum, x, axis, keepdim)


def reshape(x: Any, shape: tuple) -> Any:
    return x if tuple(x.shape) == tuple(shape) else call(_ops()[3].Reshape, x, tuple(shape))


def permute(x: Any, dims: tuple) -> Any:
    return call(_ops()[3].Permute, x, tuple(dims))


def swap_last(x: Any) -> Any:
    """x with its last two dims swapped (a matrix transpose over batch dims)."""
    n = len(x.shape)
    return permute(x, tuple(range(n - 2)) + (n - 1, n - 2))


def expand(x: Any, shape: tuple) -> Any:
    """x broadcast to shape (a view on the array path)."""
    return x if tuple(x.shape) == tuple(shape) else call(_ops()[3].Expand, x, tuple(shape))


def matmul(a: Any, b: Any) -> Any:
    return call(_ops()[4].MatMul, a, b)


def cast(x: Any, dtype: Any) -> Any:
    """x in numpy dtype `dtype` (no copy when it already is)."""
    return x if raw(x).dtype == dtype else call(_ops()[0].Cast, x, np.dtype(dtype))


def sum_to(g: Any, shape: tuple) -> Any:
    """Sum g (a broadcast of `shape`) back down to `shape`: the adjoint of broadcasting (expand).

    Shape: g (*B) with B = broadcast(shape, other) -> (*shape).
    """
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    extra = len(g.shape) - len(shape)
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    return reshape(sum(g, axes, False), shape)


def unsqueeze_to(g: Any, shape: tuple, axis: tuple | None, keepdim: bool) -> Any:
    """A reduction's result g brought back to the input's shape by broadcasting (the adjoint of sum).

    Shape: g (reduced shape, with or without kept dims) -> (*shape).
    """
    if axis is None:
        kept = (1,) * len(shape)
    elif keepdim:
        kept = tuple(g.shape)
    else:
        kept = tuple(1 if i in axis else n for i, n in enumerate(shape))
    return expand(reshape(g, kept), shape)
