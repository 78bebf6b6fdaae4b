"""Matrix product with numpy's matmul rules: 1-D, 2-D and batched (broadcast batch dims)."""
from __future__ import annotations

import numpy as np

from ._broadcast import unbroadcast
from ._primitive import Primitive


class MatMul(Primitive):
    """a @ b. Shapes: (*, n, k) @ (*, k, m) -> (*, n, m); a 1-D a is (1, k) with the 1 removed, a 1-D b is (k, 1).

    Gradients: grad_a = g @ b^T, grad_b = a^T @ g, each summed back over broadcast batch dims.
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
        # promote 1-D operands to matrices so one formula covers every case
        g2 = g
        if len(sa) == 1:
            g2 = np.expand_dims(g2, -2)
        if len(sb) == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            b2 = b[:, None] if b.ndim == 1 else b
            ga = np.matmul(g2, np.swapaxes(b2, -1, -2))  # (*, n, k)
            ga = ga[..., 0, :] if len(sa) == 1 else ga
            ga = unbroadcast(ga, sa)
        if ctx.needs_input_grad[1]:
            a2 = a[None, :] if a.ndim == 1 else a
            gb = np.matmul(np.swapaxes(a2, -1, -2), g2)  # (*, k, m)
            gb = gb[..., :, 0] if len(sb) == 1 else gb
            gb = unbroadcast(gb, sb)
        return ga, gb
