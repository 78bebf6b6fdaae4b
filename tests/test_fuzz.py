"""Fuzz: random chains of ops on small, randomly broadcast shapes.

For every drawn program:
- gradcheck (float64 central differences) agrees with backward;
- the float32 run stays float32 (outputs and grads) and agrees with the float64 run;
- forward values and input gradients agree with real torch (float64);
- numpy raises no floating-point warning anywhere (np.errstate(all='raise')): the ops are drawn on domains where
  the math is regular (log/sqrt of positive arguments, division by 1 + y^2, exp of a bounded argument).

Programs are drawn step by step: the value is a tensor; a step applies a unary op, a reduction, a shape op, or a
binary op with a fresh input whose shape is a random broadcast of the value's shape.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

BOUND = 30.0  # intermediate magnitudes above this are discarded (finite differences lose precision)

UNARY: dict[str, Callable[[Any, Any], Any]] = {
    "tanh": lambda m, x: x.tanh(),
    "sigmoid": lambda m, x: x.sigmoid(),
    "sin": lambda m, x: x.sin(),
    "cos": lambda m, x: x.cos(),
    "exp": lambda m, x: x.clamp(-4.0, 4.0).exp(),
    "log": lambda m, x: (x * x + 0.5).log(),
    "sqrt": lambda m, x: (x * x + 0.25).sqrt(),
    "square": lambda m, x: x * x,
    "neg_scale": lambda m, x: -0.5 * x + 1.0,
    "pow": lambda m, x: (x * x + 1.0) ** 1.5,
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "elu": lambda m, x: m.nn.functional.elu(x),
}
BINARY: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": lambda m, x, y: x + y,
    "sub": lambda m, x, y: y - x,
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / (1.0 + y * y),
    "maximum_smooth": lambda m, x, y: m.where(x > y + 0.05, x, y),
}


@st.composite
def programs(draw: Any) -> tuple[list, list]:
    """(steps, input arrays): steps refer to inputs by index; shapes stay tiny (<= 4 per dim, <= 3 dims)."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-1.5, 1.5, shape)]
    steps = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduce", "shape", "matmul", "softmax"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(sorted(UNARY)))))
        elif kind == "binary":
            # the other operand: drop some leading dims and set some dims to 1; or add a leading dim to it
            other = list(shape[draw(st.integers(0, len(shape) - 1)):]) if shape else []  # () stays ()
            other = [1 if draw(st.booleans()) else n for n in other]
            if draw(st.integers(0, 3)) == 0 and len(shape) < 3:
                other = [draw(st.integers(1, 3))] + list(shape)
            inputs.append(rng.uniform(-1.5, 1.5, tuple(other)))
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY))), len(inputs) - 1))
            shape = tuple(np.broadcast_shapes(shape, tuple(other)))
        elif kind == "reduce" and len(shape) >= 1:
            dim = draw(st.integers(-len(shape), len(shape) - 1))
            how, keep = draw(st.sampled_from(["sum", "mean", "amax"])), draw(st.booleans())
            steps.append(("reduce", how, dim, keep))
            shape = tuple(1 if i == dim % len(shape) else n for i, n in enumerate(shape)) if keep else \
                tuple(n for i, n in enumerate(shape) if i != dim % len(shape))
        elif kind == "shape" and len(shape) >= 1:
            how = draw(st.sampled_from(["flip_dims", "flatten", "unsqueeze", "slice", "expand"]))
            steps.append(("shape", how))
            if how == "flip_dims":
                shape = shape[::-1]
            elif how == "flatten":
                shape = (int(np.prod(shape)),)
            elif how == "unsqueeze":
                shape = (1,) + shape
            elif how == "slice":
                shape = shape[:-1] + ((shape[-1] + 1) // 2,)
            else:
                shape = (2,) + shape
        elif kind == "matmul" and len(shape) >= 1:
            k = draw(st.integers(1, 3))
            inputs.append(rng.uniform(-1, 1, (shape[-1], k)))
            steps.append(("matmul", len(inputs) - 1))
            shape = shape[:-1] + (k,)
        elif kind == "softmax" and len(shape) >= 1:
            steps.append(("softmax", draw(st.sampled_from(["softmax", "log_softmax"])),
                          draw(st.integers(-len(shape), len(shape) - 1))))
    return steps, inputs


def run(m: Any, steps: list, xs: list, check: Callable[[tuple, Any], None] = lambda s, v: None) -> Any:
    """Execute a program with module m (tinygrad_cnn or torch) on tensors xs; check(step, value) before each step."""
    v = xs[0]
    for step in steps:
        check(step, v)
        kind = step[0]
        if kind == "unary":
            v = UNARY[step[1]](m, v)
        elif kind == "binary":
            v = BINARY[step[1]](m, v, xs[step[2]])
        elif kind == "reduce":
            _, how, dim, keep = step
            v = getattr(v, how)(dim, keepdim=keep) if how != "amax" else v.amax(dim, keepdim=keep)
        elif kind == "shape":
            how = step[1]
            if how == "flip_dims":
                v = v.permute(*reversed(range(v.ndim)))
            elif how == "flatten":
                v = v.reshape(-1)
            elif how == "unsqueeze":
                v = v.unsqueeze(0)
            elif how == "slice":
                v = v[..., ::2]
            else:
                v = v.expand(2, *v.shape)
        elif kind == "matmul":
            v = v @ xs[step[1]]
        elif kind == "softmax":
            v = getattr(m.nn.functional, step[1])(v, dim=step[2])
    return v


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, tg.Tensor) else t.detach().cpu().numpy()


def _regular(step: tuple, v: Any) -> None:
    """Discard draws where finite differences cannot be trusted: huge intermediates, or an amax whose two largest
    candidates are closer than gradcheck's perturbation could swap (a tie: max is not differentiable there)."""
    a = _np(v)
    assume(np.all(np.abs(a) < BOUND))
    if step[0] == "reduce" and step[1] == "amax" and a.ndim and a.shape[step[2]] > 1:
        top2 = np.sort(np.moveaxis(a, step[2], -1), axis=-1)[..., -2:]
        assume(np.all(top2[..., 1] - top2[..., 0] > 1e-4))


@given(programs())
def test_random_op_chains(program: tuple) -> None:
    steps, arrays = program
    with np.errstate(all="raise"):
        xs64 = [tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in arrays]
        out64 = run(tg, steps, xs64, _regular)
        assume(np.all(np.abs(_np(out64)) < BOUND))
        assert out64.dtype == tg.float64
        tg.autograd.gradcheck(lambda *xs: run(tg, steps, list(xs)), xs64, eps=1e-6, atol=1e-5, rtol=1e-3)

        g = np.random.default_rng(1).standard_normal(out64.shape)
        (out64 * tg.tensor(g)).sum().backward()
        xs32 = [tg.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
        out32 = run(tg, steps, xs32)
        (out32 * tg.tensor(g.astype(np.float32))).sum().backward()
    assert out32.dtype == tg.float32, f"float32 program returned {out32.dtype}: {steps}"
    scale = max(1.0, float(np.abs(_np(out64)).max(initial=0.0)))
    np.testing.assert_allclose(_np(out32), _np(out64), rtol=2e-4, atol=2e-5 * scale)
    for a, b in zip(xs32, xs64):
        assert a.grad.dtype == tg.float32
        gscale = max(1.0, float(np.abs(_np(b.grad)).max(initial=0.0)))
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=2e-3, atol=2e-4 * gscale)

    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out_t = run(torch, steps, ts)
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(_np(out64), _np(out_t), rtol=1e-9, atol=1e-12)
    for a, b in zip(xs64, ts):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=1e-8, atol=1e-10)


# --- conv / pool chains ------------------------------------------------------------------------------------------
@st.composite
def conv_cases(draw: Any) -> tuple:
    groups = draw(st.sampled_from([1, 1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = draw(st.integers(1, 3))
    stride, padding, dilation = draw(st.integers(1, 2)), draw(st.integers(0, 1)), draw(st.integers(1, 2))
    size = draw(st.integers(dilation * (k - 1) + 1, 6))  # the dilated kernel fits even without padding
    pool = draw(st.sampled_from(["max", "avg", "none"]))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (draw(st.integers(1, 2)), c_in, size, size))
    w = rng.uniform(-1, 1, (c_out, c_in // groups, k, k))
    b = rng.uniform(-1, 1, (c_out,))
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups), pool


def conv_program(m: Any, x: Any, w: Any, b: Any, kw: dict, pool: str) -> Any:
    F = m.nn.functional
    y = F.conv2d(x, w, b, **kw).tanh()
    if pool == "max" and min(y.shape[-2:]) >= 2:
        y = F.max_pool2d(y, 2)
    elif pool == "avg" and min(y.shape[-2:]) >= 2:
        y = F.avg_pool2d(y, 2, stride=1)
    return y


@given(conv_cases())
def test_random_conv_pool_chains(case: tuple) -> None:
    x, w, b, kw, pool = case
    with np.errstate(all="raise"):
        ins = [tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in (x, w, b)]
        out = conv_program(tg, *ins, kw, pool)
        if pool == "max":  # ties inside a pooling window make max non-differentiable
            assume(_pool_margin(_np(out), _np(conv_program(tg, *[t.detach() for t in ins], kw, "none"))))
        tg.autograd.gradcheck(lambda *a: conv_program(tg, *a, kw, pool), ins, fast_mode=True)
        ins32 = [tg.tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, b)]
        out32 = conv_program(tg, *ins32, kw, pool)
        out32.sum().backward()
        out.sum().backward()
    assert out32.dtype == tg.float32
    np.testing.assert_allclose(_np(out32), _np(out), rtol=1e-4, atol=1e-5)
    for a, b64 in zip(ins32, ins):
        assert a.grad.dtype == tg.float32
        np.testing.assert_allclose(_np(a.grad), _np(b64.grad), rtol=1e-3, atol=1e-4)
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b)]
    out_t = conv_program(torch, *ts, kw, pool)
    out_t.sum().backward()
    np.testing.assert_allclose(_np(out), _np(out_t), rtol=1e-9, atol=1e-12)
    for a, t in zip(ins, ts):
        np.testing.assert_allclose(_np(a.grad), _np(t.grad), rtol=1e-8, atol=1e-10)


def _pool_margin(pooled: np.ndarray, pre: np.ndarray) -> bool:
    """No 2x2 window of `pre` has its two largest values closer than 1e-4 (max_pool2d(2) windows)."""
    H, W = (pre.shape[-2] // 2) * 2, (pre.shape[-1] // 2) * 2
    win = pre[..., :H, :W].reshape(*pre.shape[:-2], H // 2, 2, W // 2, 2).swapaxes(-3, -2)
    flat = np.sort(win.reshape(*win.shape[:-2], 4), axis=-1)
    return bool(np.all(flat[..., -1] - flat[..., -2] > 1e-4))
