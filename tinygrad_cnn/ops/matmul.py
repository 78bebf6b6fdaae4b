"""Matrix product with numpy's matmul rules: 1-D, 2-D and batched (broadcast batch dims)."""
from __future__ import annotations

import numpy as np

from ._dual import matmul, reshape, sum_to, swap_last
from ._primitive import Primitive


class MatMul(Primitive):
    """a @ b. Shapes: (*, n, k) @ (*, k, m) -> (*, n, m); a 1-D a is (1, k) with the 1 removed, a 1-D b is (k, 1).

    Gradients: grad_a = g @ b^T, grad_b = a^T @ g, each summed back over broadcast batch dims. Written with
    ops/_dual.py calls: matmuls again under create_graph, so the gradient is bilinear in (g, other operand).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.shapes = (a.shape, b.shape)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        # promote 1-D operands to matrices, (k,) -> (1, k) for a and (k, 1) for b, so one formula covers all
        sa2 = (1,) + sa if len(sa) == 1 else sa
        sb2 = sb + (1,) if len(sb) == 1 else sb
        g2 = reshape(g, np.broadcast_shapes(sa2[:-2], sb2[:-2]) + (sa2[-2], sb2[-1]))  # (*, n, m)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = reshape(sum_to(matmul(g2, swap_last(reshape(b, sb2))), sa2), sa)  # (*, n, k) -> sa
        if ctx.needs_input_grad[1]:
            gb = reshape(sum_to(matmul(swap_last(reshape(a, sa2)), g2), sb2), sb)  # (*, k, m) -> sb
        return ga, gb
