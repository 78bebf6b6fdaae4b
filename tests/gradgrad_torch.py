"""Second derivatives vs real torch (float64): `check_grad2(fn, arrays)` is `check_orders(..., order=2)` of
higher_order_torch.py (first derivatives with a random upstream gradient u, then the Hessian-vector products and the
mixed derivatives with respect to u), both levels compared with torch.

    check_grad2(lambda m, x: m.nn.functional.max_pool2d(x, 2), [x_np])
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from higher_order_torch import check_orders


def check_grad2(fn: Callable, arrays: Sequence[Any], const: Sequence[int] = (), seed: int = 0, atol: float = 1e-9,
                rtol: float = 1e-7) -> None:
    """Assert that fn's first and second derivatives (through create_graph) equal torch's, in float64."""
    check_orders(fn, arrays, order=2, const=const, seed=seed, atol=atol, rtol=rtol, min_levels=2)
