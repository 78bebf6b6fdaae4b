"""Binary ops with a quotient inside: Mod (fmod and remainder) and Atan2.

Both inputs arrive already broadcast to the output's shape (tensor_methods/arithmetic.py expands them, and
Expand's own backward sums the gradient back), so these backwards need no broadcast reduction and are written
with operators only: they run on arrays and, under create_graph, on Tensors.
"""
from __future__ import annotations

import numpy as np

from ._primitive import Primitive


class Mod(Primitive):
    """out = a - b * q with q = trunc(a / b) (fmod: the sign of a) or floor(a / b) (remainder: the sign of b).
    Shapes: a, b, out all (*). Gradients (torch's): ga = g, gb = -g * q; q is piecewise constant, so it is a
    constant of the derivative and is saved as one."""

    @staticmethod
    def forward(ctx, a, b, floor):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.mod(a, b) if floor else np.fmod(a, b)
            if ctx.needs_input_grad[1]:
                q = np.floor_divide(a, b) if floor else np.trunc(a / b)
                ctx.save_for_backward(q)
        return out

    @staticmethod
    def backward(ctx, g):
        gb = None
        if ctx.needs_input_grad[1]:
            (q,) = ctx.saved_tensors
            gb = -g * q
        return (g if ctx.needs_input_grad[0] else None), gb, None


class Atan2(Primitive):
    """out = atan2(y, x), the angle of the point (x, y) in (-pi, pi]. Shapes: y, x, out all (*).
    Gradients: gy = g x / (x^2 + y^2), gx = -g y / (x^2 + y^2)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        scale = g / (x * x + y * y)
        return (scale * x if ctx.needs_input_grad[0] else None), (-scale * y if ctx.needs_input_grad[1] else None)
