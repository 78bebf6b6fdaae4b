"""Derivatives of order 1..n vs real torch (float64): the same function differentiated repeatedly in both libraries.

    check_orders(lambda m, x: m.nn.functional.elu(x), [x_np], order=3)

`fn(module, *tensors)` runs once with module = tinygrad_cnn and once with module = torch. Float arrays become float64
leaves requiring grad (integer/bool arrays, and positions listed in `const`, are passed without grad). Level 1 is
g1 = d<fn, u>/dx with a random upstream gradient u (a leaf requiring grad too), taken with create_graph=True; level
k > 1 is the gradient of sum_i <g_{k-1,i}, v_{k,i}> (random v) with respect to every x_i and u, again with
create_graph=True. Every level must match torch; a level whose gradients carry no graph in both libraries is all
zeros in both (checked) and ends the chain. At least `min_levels` levels must have been differentiable, so a check
that compared nothing fails.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


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


def _np(g: Any, like: Any) -> np.ndarray:
    if g is None:
        return np.zeros(tuple(like.shape))
    if isinstance(g, tg.Tensor):
        return g.detach().numpy().astype(np.float64)
    return g.detach().numpy(force=True).astype(np.float64)  # force: torch may return a ZeroTensor for a known 0


def _levels(lib: Any, fn: Callable, arrays: Sequence[Any], const: Sequence[int], order: int, seed: int) -> list:
    """[level 1 grads, level 2 grads, ...] as numpy arrays; stops after a level with no differentiable gradient."""
    xs = _leaves(lib, arrays, const)
    diff = [x for x in xs if getattr(x, "requires_grad", False)]
    y = fn(lib, *xs)
    rng = np.random.default_rng(seed)
    u = lib.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True)
    grads = lib.autograd.grad(y, diff, u, create_graph=True, allow_unused=True)
    wrt = diff
    levels = [[_np(g, x) for g, x in zip(grads, wrt)]]
    wrt = diff + [u]
    for _ in range(order - 1):
        vs = [rng.standard_normal(tuple(g.shape)) if g is not None else None for g in grads]
        terms = [(g * lib.tensor(v)).sum() for g, v in zip(grads, vs) if g is not None and g.requires_grad]
        if not terms:
            break
        grads = lib.autograd.grad(sum(terms), wrt, create_graph=True, allow_unused=True)
        levels.append([_np(g, x) for g, x in zip(grads, wrt)])
    return levels


def check_orders(fn: Callable, arrays: Sequence[Any], order: int = 3, const: Sequence[int] = (), seed: int = 0,
                 atol: float = 1e-9, rtol: float = 1e-7, min_levels: int = 2) -> int:
    """Assert fn's derivatives of order 1..order (through create_graph) equal torch's in float64; returns how
    many levels were compared."""
    ours = _levels(tg, fn, arrays, const, order, seed)
    ref = _levels(torch, fn, arrays, const, order, seed)
    n = max(len(ours), len(ref))
    assert n >= min_levels, f"only {n} differentiable level(s): nothing to compare at order {min_levels}"
    for level in range(n):
        a = ours[level] if level < len(ours) else [np.zeros_like(q) for q in ref[level]]
        b = ref[level] if level < len(ref) else [np.zeros_like(p) for p in ours[level]]
        assert len(a) == len(b)
        for i, (p, q) in enumerate(zip(a, b)):
            assert p.shape == q.shape, f"derivative {level + 1}, input {i}: shape {p.shape} vs torch {q.shape}"
            np.testing.assert_allclose(p, q, rtol=rtol, atol=atol, err_msg=f"derivative {level + 1}, input {i}")
    return n
