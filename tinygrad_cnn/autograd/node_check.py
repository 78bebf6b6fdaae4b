"""Check one recorded node: replay its Function in float64 on the recorded inputs, compare backward with central
differences of that node alone, and tell true errors from kinks and float32 noise.

Replay: every floating argument becomes a float64 copy of the value the op saw; integer arguments and non-tensor
arguments are passed unchanged. For random projections v (one per output) the scalar F(x) = sum_k <v_k, out_k(x)>
has gradient J^T v, which one backward of the replayed node gives. fast mode compares <J^T v, u> with
(F(x + eps u) - F(x - eps u)) / 2 eps for a random direction u per input; the full mode compares each element
(up to `max_elements` sampled per input) with its own central difference.

A mismatch is examined before it is called an error:
1. it disappears at eps/100: a kink or strong curvature (sqrt near 0) lay within eps of the point ->
   'ok at smaller eps' (passes);
2. the one-sided differences disagree: the node sits on a non-differentiable point (ReLU at 0, max with ties);
   the check is repeated at a slightly jittered point: agreement there -> 'non-differentiable point' (passes),
   disagreement -> 'error';
3. otherwise -> 'error'.
An op that computes in float32 even on float64 inputs is checked with eps 1e-3 and loose tolerances
('float32 tolerance').
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import grad_mode
from .api import grad as autograd_grad
from .graph_record import RecordedArg


@dataclass
class Measure:
    abs_err: float
    rel_err: float
    ok: bool
    detail: str
    worst: tuple  # (input index, direction) of the worst comparison, for the differentiability test


class Replay:
    """The node's Function re-run on float64 copies of its recorded arguments."""

    def __init__(self, node: Any, rng: np.random.Generator) -> None:
        self.node = node
        self.fn = node._fn
        rec = node.metadata["inputs"]
        self.is_tensor = [isinstance(a, RecordedArg) for a in rec]
        self.diff = [i for i, need in enumerate(node.needs_input_grad) if need]
        self.base = [(a.array.astype(np.float64) if a.array.dtype.kind == "f" else a.array)
                     if isinstance(a, RecordedArg) else a for a in rec]
        self.x0 = {i: self.base[i] for i in self.diff}
        res, _ = self._apply({}, requires_grad=True)
        self.out_idx = [k for k, r in enumerate(res) if getattr(r, "requires_grad", False)]
        self.out_dtypes = [res[k]._data.dtype for k in self.out_idx]
        self.v = [rng.standard_normal(res[k]._data.shape) for k in self.out_idx]

    def _apply(self, xs: dict, requires_grad: bool) -> tuple[list, dict]:
        """All results of the Function on arguments xs (index -> array) over the recorded ones, and the argument
        tensors by index."""
        from ..tensor import Tensor

        args, tensors = [], {}
        for i, b in enumerate(self.base):
            if self.is_tensor[i]:
                t = Tensor._wrap(np.array(xs.get(i, b), copy=True))  # a fresh copy: a forward may not mutate ours
                t.requires_grad = requires_grad and i in self.diff
                tensors[i] = t
                args.append(t)
            else:
                args.append(b)
        with grad_mode.set_grad_enabled(requires_grad):
            res = self.fn.apply(*args)
        return (list(res) if isinstance(res, tuple) else [res]), tensors

    def F(self, xs: dict) -> float:
        """sum_k <v_k, out_k> at xs, in float64."""
        res, _ = self._apply(xs, requires_grad=False)
        return float(sum(np.sum(res[k]._data.astype(np.float64) * v) for k, v in zip(self.out_idx, self.v)))

    def analytic(self, xs: dict) -> dict:
        """J^T v for each differentiable input at xs (zeros for an input the backward left without gradient)."""
        from ..tensor import Tensor

        res, tensors = self._apply(xs, requires_grad=True)
        outs = [res[k] for k in self.out_idx]
        gs = autograd_grad(outs, [tensors[i] for i in self.diff],
                           [Tensor._wrap(v.astype(o._data.dtype)) for o, v in zip(outs, self.v)], allow_unused=True)
        return {i: (np.zeros(self.base[i].shape) if g is None else g._data.astype(np.float64))
                for i, g in zip(self.diff, gs)}

    @property
    def low_precision(self) -> bool:
        return any(d != np.float64 for d in self.out_dtypes)


class SecondOrderReplay(Replay):
    """The node's backward checked as a function: F2(x) = sum_i <w_i, (J^T v)_i(x)> (the first-order gradient
    projected on random w), whose gradient is the double backward (create_graph=True) of the replayed node."""

    def __init__(self, node: Any, rng: np.random.Generator) -> None:
        super().__init__(node, rng)
        self.w = {i: rng.standard_normal(self.base[i].shape) for i in self.diff}

    def F(self, xs: dict) -> float:
        first = Replay.analytic(self, xs)
        return float(sum(np.sum(first[i] * self.w[i]) for i in self.diff))

    def analytic(self, xs: dict) -> dict:
        from ..tensor import Tensor

        res, tensors = self._apply(xs, requires_grad=True)
        outs = [res[k] for k in self.out_idx]
        ins = [tensors[i] for i in self.diff]
        gs = autograd_grad(outs, ins, [Tensor._wrap(v.astype(o._data.dtype)) for o, v in zip(outs, self.v)],
                           create_graph=True, allow_unused=True)
        terms = [(g * Tensor._wrap(self.w[i].astype(g._data.dtype))).sum()
                 for i, g in zip(self.diff, gs) if g is not None and g.requires_grad]
        if not terms:  # the first-order gradient does not depend on the inputs: the second derivative is 0
            return {i: np.zeros(self.base[i].shape) for i in self.diff}
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        hs = autograd_grad([total], ins, allow_unused=True)
        return {i: (np.zeros(self.base[i].shape) if h is None else h._data.astype(np.float64))
                for i, h in zip(self.diff, hs)}


def directions(rp: Replay, rng: np.random.Generator, fast: bool, max_elements: int | None) -> dict:
    """What to compare, per differentiable input: one random direction (fast), or single elements (full, up to
    max_elements sampled). Drawn once per node, so every re-check looks along the same directions."""
    dirs = {}
    for i in rp.diff:
        shape = rp.x0[i].shape
        if fast:
            dirs[i] = [(None, rng.standard_normal(shape))]
            continue
        size = int(np.prod(shape))
        flat = np.arange(size)
        if max_elements is not None and size > max_elements:
            flat = np.sort(rng.choice(size, max_elements, replace=False))
        dirs[i] = []
        for e in flat:
            u = np.zeros(size)
            u[e] = 1.0
            dirs[i].append((int(e), u.reshape(shape)))
    return dirs


def measure(rp: Replay, xs: dict, eps: float, atol: float, rtol: float, dirs: dict) -> Measure:
    """Compare backward with central differences at xs (index -> float64 array; missing = recorded values):
    |analytic - numeric| <= atol + rtol * |numeric| along every direction passes."""
    point = {i: xs.get(i, rp.x0[i]) for i in rp.diff}
    ana = rp.analytic(point)
    abs_max = rel_max = 0.0
    all_ok = True
    worst = (-1, -1.0, "", (rp.diff[0], None))  # (failing?, err, detail, (input, direction)) of the worst one
    for i in rp.diff:
        x = point[i]
        for e, u in dirs[i]:
            a = float(np.sum(ana[i] * u))
            n = (rp.F({**point, i: x + eps * u}) - rp.F({**point, i: x - eps * u})) / (2 * eps)
            err = abs(a - n)
            ok = bool(err <= atol + rtol * abs(n)) and np.isfinite(a)
            all_ok &= ok
            abs_max = max(abs_max, err) if np.isfinite(err) else np.inf
            rel_max = max(rel_max, err / max(abs(a), abs(n), 1e-300) if err > 0 else 0.0)
            if (int(not ok), err) > worst[:2]:
                where = "random direction" if e is None else \
                    f"element {tuple(int(k) for k in np.unravel_index(e, x.shape))}"
                worst = (int(not ok), err, f"input {i} {tuple(x.shape)}, {where}: analytic {a:.6g} vs numeric "
                                           f"{n:.6g}", (i, u))
    return Measure(abs_max, rel_max, all_ok, worst[2], worst[3])


def differentiable_along(rp: Replay, i: int, u: np.ndarray, eps: float, atol: float, rtol: float) -> bool:
    """False when the one-sided differences along u disagree (a kink exactly at the recorded point)."""
    f0 = rp.F({})
    x = rp.x0[i]
    fwd = (rp.F({i: x + eps * u}) - f0) / eps
    bwd = (f0 - rp.F({i: x - eps * u})) / eps
    return abs(fwd - bwd) <= atol + rtol * max(abs(fwd), abs(bwd))


def jittered(rp: Replay, rng: np.random.Generator, scale: float = 1e-2) -> dict:
    """The recorded point moved off its ties and kinks: every element by between 0.5 and 1.5 times `scale` times
    the input's mean magnitude, with a random sign, so tied values end up far apart compared with the small eps
    used there (crossing a kink then has a probability of about 1e-5 per tied pair)."""
    out = {}
    for i in rp.diff:
        x = rp.x0[i]
        size = max(float(np.mean(np.abs(x))) if x.size else 1.0, 1e-3)
        step = scale * size * (0.5 + rng.random(x.shape)) * rng.choice([-1.0, 1.0], size=x.shape)
        out[i] = x + step
    return out


__all__ = ["Replay", "SecondOrderReplay", "Measure", "measure", "differentiable_along", "jittered"]
