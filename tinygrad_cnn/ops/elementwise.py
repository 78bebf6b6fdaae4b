"""Elementwise primitives with broadcasting: arithmetic, exp/log/sqrt/abs/sin/cos, ReLU/Sigmoid/Tanh, Cast, Clone.
Each backward undoes broadcasting with `sum_to`. Clamp, Maximum, Minimum and Where are in selection.py.
Backwards are written with operators and ops/_dual.py calls, so they are differentiable themselves.

Arguments may be arrays or Python scalars (`x * 2`); a scalar never needs a gradient.
"""
from __future__ import annotations

import numpy as np

from ._broadcast import _shape
from ._dual import cos, log, raw, sin, sum_to, where
from ._primitive import Primitive


class Add(Primitive):
    """a + b (broadcasting)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return (sum_to(g, sa) if ctx.needs_input_grad[0] else None,
                sum_to(g, sb) if ctx.needs_input_grad[1] else None)


class Sub(Primitive):
    """a - b (broadcasting)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return (sum_to(g, sa) if ctx.needs_input_grad[0] else None,
                sum_to(-g, sb) if ctx.needs_input_grad[1] else None)


class Mul(Primitive):
    """a * b (broadcasting): d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.shapes = (_shape(a), _shape(b))
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        return (sum_to(g * b, sa) if ctx.needs_input_grad[0] else None,
                sum_to(g * a, sb) if ctx.needs_input_grad[1] else None)


class Div(Primitive):
    """a / b (broadcasting): d/da = 1/b, d/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.shapes = (_shape(a), _shape(b))
        return np.true_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        return (sum_to(g / b, sa) if ctx.needs_input_grad[0] else None,
                sum_to(-g * a / (b * b), sb) if ctx.needs_input_grad[1] else None)


class Neg(Primitive):
    """-x."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class Pow(Primitive):
    """a ** b, either may be a scalar: d/da = b a^(b-1) (0 where b == 0), d/db = a^b log a (0 where a == 0, b >= 0)."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        # the output only when the exponent needs a gradient (as torch): pow_(2) saves no result, so changing the
        # tensor in place afterwards is allowed (ops/inplace.py checks a saved result against its new versions)
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                ga = sum_to(where(raw(b) == 0, 0, g * (b * a ** (b - 1))), sa)
            if ctx.needs_input_grad[1]:
                gb = sum_to(where((raw(a) == 0) & (raw(b) >= 0), 0, g * (out * log(a))), sb)
        return ga, gb


class Exp(Primitive):
    """exp(x); the derivative is the output itself, so only the output is saved."""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * out,)


class Log(Primitive):
    """log(x): d/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / x,)


class Sqrt(Primitive):
    """sqrt(x): d/dx = 1 / (2 sqrt(x)), computed from the saved output."""

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g / (2 * out),)


class Abs(Primitive):
    """|x|: d/dx = sign(x), 0 at 0 (torch's subgradient)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * np.sign(raw(x)),)  # sign is flat: a constant of the derivative


class Sin(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * cos(x),)


class Cos(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (-g * sin(x),)


class ReLU(Primitive):
    """max(x, 0): the gradient passes where the output is positive (0 at x == 0, as torch)."""

    _backward_name = "ReluBackward0"  # torch's spelling

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (where(raw(out) > 0, g, 0.0),)  # a select, not g * mask: an inf arriving at x <= 0 gives 0, as torch


class Sigmoid(Primitive):
    """1 / (1 + exp(-x)), computed without overflow; d/dx = s (1 - s) from the saved output."""

    @staticmethod
    def forward(ctx, x):
        # exp of a non-positive number never overflows: split by sign
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * out * (1 - out),)


class Tanh(Primitive):
    """tanh(x); d/dx = 1 - tanh^2 from the saved output."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * (1 - out * out),)


class Cast(Primitive):
    """x.to(dtype): the gradient is cast back to the input's dtype (by the engine)."""

    _backward_name = "ToCopyBackward0"  # torch's name for .to(dtype)

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g, None


class Clone(Primitive):
    """A copy of x; the gradient passes unchanged. order="K" keeps the memory layout (clone), "C" makes it
    row-major (contiguous)."""

    @staticmethod
    def forward(ctx, x, order="K"):
        return np.array(x, copy=True, order=order)

    @staticmethod
    def backward(ctx, g):
        return g, None
