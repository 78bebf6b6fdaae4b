"""Softmax primitives along one axis. Both shift by the row maximum, so exp never overflows (logits of 1e4 are fine),
and both save only their output: the derivative of each is a function of it. The backwards are written with
ops/_dual.py calls on the saved output, so they differentiate again (create_graph) to any order.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Context
from ._dual import exp, sum as dsum
from ._primitive import Primitive


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x - max(x, axis): every entry <= 0, so exp() is in (0, 1]. A row of all -inf stays nan, as in torch."""
    with np.errstate(invalid="ignore"):
        return x - x.max(axis=axis, keepdims=True)


class LogSoftmax(Primitive):
    """log_softmax(x, dim) = x - logsumexp(x, dim). Shape: x (*) -> (*), the same shape.

    Backward from the saved output y: grad_x = g - exp(y) * sum(g, dim).
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = (dim % x.ndim,) if x.ndim else ()
        if x.size == 0:
            out = x.copy()
        else:
            s = _shifted(x, dim)
            out = s - np.log(np.exp(s).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray, None]:
        (out,) = ctx.saved_tensors
        return g - exp(out) * dsum(g, ctx.dim, True), None


class Softmax(Primitive):
    """softmax(x, dim) = exp(x) / sum(exp(x), dim). Shape: x (*) -> (*), the same shape.

    Backward from the saved output y: grad_x = y * (g - sum(g * y, dim)) (softmax_grad).
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = (dim % x.ndim,) if x.ndim else ()
        if x.size == 0:
            out = x.copy()
        else:
            e = np.exp(_shifted(x, dim))
            out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray, None]:
        (out,) = ctx.saved_tensors
        return softmax_grad(out, g, ctx.dim), None


def softmax_grad(out, g, dims: tuple):
    """The gradient of softmax along dims from its output: out * (g - sum(g * out, dims)). Shape: (*) -> (*).
    Used by Softmax and by CrossEntropy for its softmax output (one formula, both carriers)."""
    return out * (g - dsum(g * out, dims, True))
