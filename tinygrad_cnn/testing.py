"""Gradient assertions for test suites, and a pytest plugin (entry point `pytest11`) that offers them as fixtures.

    from tinygrad_cnn.testing import assert_gradients_match, check_module_gradients

    def test_my_op():
        assert_gradients_match(lambda a, b: (a * b).exp(), tg.randn(3, requires_grad=True), tg.randn(3))

    def test_my_layer(check_module):           # the same, as a fixture (installed package: no import needed)
        check_module(MyLayer(), tg.randn(2, 3, 8, 8))

Failures are AssertionErrors that read like a diff: which input, which element, analytic against numeric.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .autograd.api import grad as autograd_grad
from .autograd.check_graph import check_graph
from .autograd.check_report import GraphCheckReport
from .autograd.grad_mode import no_grad
from .tensor import Tensor


def _float64_inputs(inputs: tuple) -> tuple[list, list]:
    ins, diff = [], []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            t = Tensor._wrap(x._data.astype(np.float64, copy=True))
            t.requires_grad = True
            ins.append(t)
            diff.append(i)
        else:
            ins.append(x)
    return ins, diff


def _outputs(fn: Callable, ins: list) -> list:
    res = fn(*ins)
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    return [r for r in res if isinstance(r, Tensor)]


def _projected_value(fn: Callable, ins: list, vs: list) -> float:
    with no_grad():
        return float(sum(np.sum(o._data.astype(np.float64) * v) for o, v in zip(_outputs(fn, ins), vs)))


def assert_gradients_match(fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
                           rtol: float = 1e-3, seed: int = 0, max_report: int = 8) -> None:
    """Assert that backward of fn matches central differences for every input that requires grad (float64).

    Every element of every such input is checked against the projection v^T J with a random v over the outputs
    (v = 1 for a scalar output, so the numbers shown are then the plain derivatives).
    Raises AssertionError listing the worst mismatches: input index and shape, element index, analytic, numeric.
    """
    ins, diff = _float64_inputs(inputs)
    if not diff:
        raise ValueError("assert_gradients_match: no input requires grad; pass tensors with requires_grad=True")
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, ins)
    vs = [np.ones(o._data.shape) if o._data.size == 1 else rng.standard_normal(o._data.shape) for o in outs]
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    gs = autograd_grad([o for o, _ in live], [ins[i] for i in diff],
                       [Tensor._wrap(v.astype(o._data.dtype)) for o, v in live], allow_unused=True) \
        if live else [None] * len(diff)
    rows = []
    for i, g in zip(diff, gs):
        x = ins[i]
        ana = np.zeros(x._data.shape) if g is None else g._data.astype(np.float64)
        orig = x._data.copy()
        for e in range(x._data.size):
            idx = np.unravel_index(e, x._data.shape)
            x._data[idx] = orig[idx] + eps
            plus = _projected_value(fn, ins, vs)
            x._data[idx] = orig[idx] - eps
            minus = _projected_value(fn, ins, vs)
            x._data[idx] = orig[idx]
            num = (plus - minus) / (2 * eps)
            if not abs(ana[idx] - num) <= atol + rtol * abs(num):
                rows.append((abs(ana[idx] - num), i, tuple(x._data.shape), tuple(int(k) for k in idx), ana[idx], num))
    if rows:
        rows.sort(key=lambda r: -r[0])
        what = "d output / d input" if all(o._data.size == 1 for o in outs) else "v^T J (random v over outputs)"
        lines = [f"gradients do not match central differences ({len(rows)} elements off; {what}, eps={eps}, "
                 f"atol={atol}, rtol={rtol}):", f"  {'input':>5}  {'shape':<14} {'element':<14} {'analytic':>13} "
                 f"{'numeric':>13} {'|diff|':>10}"]
        for err, i, shape, idx, a, n in rows[:max_report]:
            lines.append(f"  {i:>5}  {str(shape):<14} {str(idx):<14} {a:>13.6g} {n:>13.6g} {err:>10.3g}")
        if len(rows) > max_report:
            lines.append(f"  ... and {len(rows) - max_report} more")
        raise AssertionError("\n".join(lines))


def check_module_gradients(module: Any, input: Any, loss_fn: Callable | None = None, eps: float = 1e-6,
                           atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> GraphCheckReport:
    """Assert that a module's gradients are right, node by node and end to end.

    1. `check_graph` on loss = loss_fn(module(input)) (default: a fixed random projection of the output), so a
       failure names the node, its module path and parameters;
    2. the whole module in float64 (parameters temporarily converted): d loss / d parameter along a random
       direction, per parameter, against central differences.
    Returns the node report; raises AssertionError with the report table or the parameter that is off.
    """
    rng = np.random.default_rng(seed)
    v_holder: dict = {}

    def loss_of(x: Any) -> Any:
        out = module(x)
        if loss_fn is not None:
            return loss_fn(out)
        v = v_holder.setdefault("v", rng.standard_normal(out._data.shape))
        return (out * Tensor._wrap(v.astype(out._data.dtype))).sum()

    report = check_graph(loss_of, input)
    if not report.passed:
        raise AssertionError(f"check_graph found wrong backward(s) in {type(module).__name__}:\n{report}")
    _check_parameters_end_to_end(module, input, loss_of, eps, atol, rtol, rng)
    return report


def _check_parameters_end_to_end(module: Any, input: Any, loss_of: Callable, eps: float, atol: float,
                                 rtol: float, rng: np.random.Generator) -> None:
    named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    saved = [p._data for _, p in named]
    x = Tensor._wrap(input._data.astype(np.float64)) if input._data.dtype.kind == "f" else input
    try:
        for (_, p), arr in zip(named, saved):
            p._data = arr.astype(np.float64)
        gs = autograd_grad([loss_of(x)], [p for _, p in named], allow_unused=True)
        for (name, p), g in zip(named, gs):
            u = rng.standard_normal(p._data.shape)
            ana = 0.0 if g is None else float(np.sum(g._data * u))
            base = p._data
            with no_grad():
                p._data = base + eps * u
                plus = float(loss_of(x)._data)
                p._data = base - eps * u
                minus = float(loss_of(x)._data)
            p._data = base
            num = (plus - minus) / (2 * eps)
            if not abs(ana - num) <= atol + rtol * abs(num):
                raise AssertionError(f"d loss / d {name} {tuple(base.shape)} along a random direction: analytic "
                                     f"{ana:.6g} vs numeric {num:.6g} (|diff| {abs(ana - num):.3g}) in "
                                     f"{type(module).__name__} (whole module in float64)")
    finally:
        for (_, p), arr in zip(named, saved):
            p._data = arr


# --- pytest plugin (registered as entry point `pytest11: tinygrad_cnn = tinygrad_cnn.testing`) -------------------
try:
    import pytest
except ImportError:  # pragma: no cover - the helpers above work without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture
    def assert_gradients() -> Callable[..., None]:
        """`assert_gradients(fn, *inputs)`: tinygrad_cnn.testing.assert_gradients_match."""
        return assert_gradients_match

    @pytest.fixture
    def check_module() -> Callable[..., GraphCheckReport]:
        """`check_module(module, input)`: tinygrad_cnn.testing.check_module_gradients."""
        return check_module_gradients

    @pytest.fixture
    def graph_check() -> Callable[..., GraphCheckReport]:
        """`graph_check(loss_or_callable, *inputs)`: tg.autograd.check_graph."""
        return check_graph

    @pytest.fixture
    def tg_seed() -> int:
        """Seeds tinygrad_cnn's global generator with 0 for the test; returns the seed."""
        from .random import manual_seed

        manual_seed(0)
        return 0


__all__ = ["assert_gradients_match", "check_module_gradients"]
