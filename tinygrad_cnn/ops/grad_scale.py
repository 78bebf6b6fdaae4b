"""GradScale: the identity whose gradient is scaled by a constant (embedding's scale_grad_by_freq), and its gradient.

scale_grad_by_freq divides each looked-up row's gradient by how often the row occurs: a change to the gradient
that is the derivative of nothing. torch differentiates it again as follows, and so do we (the public contract):
- the value y = weight[idx] depends on weight as a plain gather (so the Hessian with respect to the weight, e.g.
  of a Hessian-vector product, is exact: d/dw of the scaled gradient = scatter(c * d g / d y * gather(v)));
- the scaled gradient c * g is passed back, under create_graph, as g itself (torch's
  embedding_dense_double_backward: "the first backward takes care of scaling"), so derivatives with respect to
  the upstream gradient are unscaled, as in torch 2.13.
Finite differences agree on the first; on the second they see the scale (torch's own gradgradcheck fails there).
"""
from __future__ import annotations

import numpy as np

from ._dual import call
from ._primitive import Primitive


class GradScale(Primitive):
    """x -> x (a view); the gradient g becomes g * c, c a constant broadcasting against x."""

    view_op = True  # the output shares x's memory (see autograd.function._mark_view)

    @staticmethod
    def forward(ctx, x: np.ndarray, c: np.ndarray) -> np.ndarray:
        ctx.c = c
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return call(ScaledGrad, g, ctx.c), None


class ScaledGrad(Primitive):
    """g -> g * c, GradScale's gradient; its own gradient passes unscaled (torch's double backward, see above)."""

    @staticmethod
    def forward(ctx, g: np.ndarray, c: np.ndarray) -> np.ndarray:
        return g * c

    @staticmethod
    def backward(ctx, v):
        return v, None
