"""Activation primitives not already in ops/elementwise.py (ReLU, Sigmoid, Tanh live there).

Each is one fused pass where composing Tensor ops would need several nodes or be unstable (softplus, logsigmoid).
Gradients at kinks follow torch's choices, noted per class. Constants are Python floats so float32 stays float32.
Backwards are written once with operators and ops/_dual.py calls on the saved input/output (differentiable again
under create_graph); the masks of piecewise definitions are constants of the derivative.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Context
from ._dual import call, exp, is_tensor, sigmoid, tanh, where
from ._primitive import Primitive

# numpy has no erf and scipy is not a dependency: math.erf per element is exact to an ulp (about 0.15 s per 1e6).
_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's dtype."""
    return np.asarray(_erf(x), dtype=np.float64).astype(x.dtype, copy=False)


class Erf(Primitive):
    """erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise; d/dx = 2/sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return erf(x)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray]:
        (x,) = ctx.saved_tensors
        return (g * (exp(-x * x) * (2 / math.sqrt(math.pi))),)  # a Python float: float32 stays float32


class LeakyReLU(Primitive):
    """x if x > 0 else negative_slope * x; at x == 0 the gradient is negative_slope (as torch)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, negative_slope: float) -> np.ndarray:
        pos = x > 0
        ctx.save_for_backward(pos)
        ctx.slope = negative_slope
        return np.where(pos, x, x * negative_slope)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray, None]:
        (pos,) = ctx.saved_tensors  # a constant mask: the second derivative is 0 away from the kink, as torch's
        return where(pos, g, g * ctx.slope), None


class ELU(Primitive):
    """scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)); ELU, SELU and CELU are this with three constants.

    For x <= 0 the gradient is scale * alpha * input_scale * exp(input_scale * x) (torch's branch choice at 0),
    written as input_scale * (out + alpha * scale) from the saved output (torch's is_result form), so it is
    differentiable again through the output.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
        pos = x > 0
        e = np.exp(np.where(pos, 0, x) * input_scale)  # only the negative side is exponentiated: no overflow
        ctx.consts = (alpha, scale, input_scale)
        out = np.where(pos, x * scale, (e - 1) * (alpha * scale))
        ctx.save_for_backward(pos, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray, None, None, None]:
        pos, out = ctx.saved_tensors
        alpha, scale, input_scale = ctx.consts
        neg = out + alpha * scale if input_scale == 1 else (out + alpha * scale) * input_scale  # ELU/SELU: 1
        return where(pos, g if scale == 1 else g * scale, g * neg), None, None, None


class GELU(Primitive):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses 0.5 (1 + tanh(k (x + 0.044715 x^3)))."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, approximate: str) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            return 0.5 * x * (1 + np.tanh(k * (x + 0.044715 * x * x * x)))
        return 0.5 * x * (1 + erf(x * math.sqrt(0.5)))

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray, None]:
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = tanh(k * (x + 0.044715 * x * x * x))
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        else:
            d = 0.5 * (1 + call(Erf, x * math.sqrt(0.5))) + x * exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return g * d, None


class Softplus(Primitive):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold; gradient sigmoid(beta x) (1 there)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
        bx = x * beta
        linear = bx > threshold
        # max(bx, 0) + log1p(exp(-|bx|)) never overflows, even with a huge threshold
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        ctx.save_for_backward(x, linear, bx)
        ctx.beta = beta
        return np.where(linear, x, soft)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray, None, None]:
        x, linear, bx = ctx.saved_tensors
        if is_tensor(x):  # the saved beta * x is an array-path cache: under create_graph it must be on the graph
            bx = x * ctx.beta
        return where(linear, g, g * sigmoid(bx)), None, None


class LogSigmoid(Primitive):
    """log(sigmoid(x)) = -softplus(-x), stable for any x; gradient sigmoid(-x)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray]:
        (x,) = ctx.saved_tensors
        return (g * sigmoid(-x),)


class SiLU(Primitive):
    """x * sigmoid(x); gradient s (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray]:
        x, s = ctx.saved_tensors
        if is_tensor(x):  # the saved sigmoid is an array-path cache: under create_graph it must be on the graph
            s = sigmoid(x)
        return (g * s * (1 + x * (1 - s)),)


class Hardtanh(Primitive):
    """clip(x, min_val, max_val); the gradient passes only strictly inside (0 at both edges, unlike clamp)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
        if ctx.needs_input_grad[0]:  # the mask costs three passes: not under no_grad (inference)
            ctx.save_for_backward((x > min_val) & (x < max_val))
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple[np.ndarray, None, None]:
        (inside,) = ctx.saved_tensors  # a constant mask
        return g * inside, None, None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
