"""Second derivatives vs real torch (float64): the same function differentiated twice in both libraries.

    check_grad2(lambda m, x: m.nn.functional.max_pool2d(x, 2), [x_np])

`fn(module, *tensors)` runs once with module = tinygrad_cnn and once with module = torch. Float arrays become float64
leaves requiring grad (integer/bool arrays, and arrays listed in `const`, are passed without grad). With a random
upstream gradient u (a leaf requiring grad too) the first derivatives g_i = d<fn, u>/dx_i are taken with
create_graph=True, then the gradient of sum_i <g_i, v_i> (random v_i) with respect to every x_i and u: the
Hessian-vector products and the mixed derivatives. Both levels must match torch. A function whose gradient does not
depend on its inputs still has a mixed derivative (d g / d u), so every check compares something.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _np(x: Any) -> np.ndarray:
    if isinstance(x, tg.Tensor):
        return x.detach().numpy()
    return x.detach().numpy(force=True)  # force: torch may return a ZeroTensor for a derivative known to be 0


def _leaves(lib: Any, arrays: Sequence[Any], const: Sequence[int]) -> list:
    out = []
    for i, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            out.append(a)
        elif a.dtype.kind != "f" or i in const:
            out.append(lib.tensor(a))
        else:
            out.append(lib.tensor(a.astype(np.float64), requires_grad=True))
    return out


def _twice(lib: Any, fn: Callable, arrays: Sequence[Any], const: Sequence[int], seed: int) -> tuple[list, list]:
    xs = _leaves(lib, arrays, const)
    diff = [x for x in xs if getattr(x, "requires_grad", False)]
    y = fn(lib, *xs)
    rng = np.random.default_rng(seed)
    u = lib.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True)
    g1 = lib.autograd.grad(y, diff, u, create_graph=True, allow_unused=True)
    vs = [rng.standard_normal(tuple(x.shape)) for x in diff]
    terms = [(g * lib.tensor(v)).sum() for g, v in zip(g1, vs) if g is not None and g.requires_grad]
    assert terms, "the first derivatives are not differentiable: nothing to compare"
    g2 = lib.autograd.grad(sum(terms), diff + [u], allow_unused=True)
    zeros = lambda t: np.zeros(tuple(t.shape))  # noqa: E731 - an unused input's derivative is 0
    return ([zeros(x) if g is None else _np(g) for g, x in zip(g1, diff)],
            [zeros(x) if g is None else _np(g) for g, x in zip(g2, diff + [u])])


def check_grad2(fn: Callable, arrays: Sequence[Any], const: Sequence[int] = (), seed: int = 0, atol: float = 1e-9,
                rtol: float = 1e-7) -> None:
    """Assert that fn's first and second derivatives (through create_graph) equal torch's, in float64."""
    ours = _twice(tg, fn, arrays, const, seed)
    ref = _twice(torch, fn, arrays, const, seed)
    for level, (a, b) in enumerate(zip(ours, ref), 1):
        assert len(a) == len(b)
        for i, (p, q) in enumerate(zip(a, b)):
            np.testing.assert_allclose(p, q, rtol=rtol, atol=atol, err_msg=f"derivative {level}, input {i}")
