"""`check_graph`: gradient-check every node of a real graph, one node at a time, and say which one is wrong.

`gradcheck` tells whether a whole function's backward is right; `check_graph` tells *which op* is wrong inside a
model: each recorded node is replayed in float64 on the inputs it actually saw (see node_check.py), so a wrong
backward in one custom Function is named with its module path and parameters, while kinks of ReLU/max at the
recorded point are reported as such instead of as failures.

The graph must have been recorded with its forward inputs::

    with tg.autograd.graph_recording():
        loss = F.nll_loss(model(x), y)
    report = tg.autograd.check_graph(loss)
    print(report)            # one row per node: op, module, parameters, errors, verdict
    report.draw()            # the graph coloured by error

or pass a callable that builds the loss: `check_graph(lambda: F.nll_loss(model(x), y))`.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from . import recording
from .check_report import GraphCheckReport, NodeCheck
from .function import AccumulateGrad, Context
from .graph_record import graph_recording
from .node_check import Replay, SecondOrderReplay, differentiable_along, directions, jittered, measure


def _forward_order(roots: list) -> list:
    """Context nodes reachable from roots in forward order: a depth-first post-order over the inputs (argument 0
    first), so the main chain reads in the order the forward ran it. Explicit stack, no recursion."""
    order: list = []
    seen: set = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, 0)]
        while stack:
            node, i = stack[-1]
            if i < len(node._edges):
                stack[-1] = (node, i + 1)
                nxt = node._edges[i][0]
                if nxt is not None and id(nxt) not in seen:
                    seen.add(id(nxt))
                    stack.append((nxt, 0))
            else:
                stack.pop()
                order.append(node)
    return [n for n in order if isinstance(n, Context)]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Replays must not be recorded by an enclosing graph_recording()/record_gradients(), nor move the RNG."""
    from ..random import get_rng_state, set_rng_state

    rec, obs, state = recording._input_recorder[0], list(recording._grad_observers), get_rng_state()
    recording._input_recorder[0] = None
    recording._grad_observers.clear()
    try:
        yield
    finally:
        recording._input_recorder[0] = rec
        recording._grad_observers.extend(obs)
        set_rng_state(state)


def check_graph(loss: Any, *inputs: Any, eps: float = 1e-6, fast_mode: bool = True, atol: float = 1e-5,
                rtol: float = 1e-3, params: Any = None, max_elements: int | None = 64,
                seed: int = 0, order: int = 1) -> GraphCheckReport:
    """Check each node of the graph behind `loss` against central differences of that node alone.

    Args:
        loss: a tensor built inside `tg.autograd.graph_recording()`, or a callable `loss(*inputs)` that builds it
            (run here under recording).
        eps, atol, rtol: central-difference step and tolerances (float64; |analytic - numeric| <= atol + rtol *
            |numeric| passes).
        fast_mode: compare one random projection per input (cheap); False compares single elements, up to
            `max_elements` sampled per input (None: all of them).
        params: extra names for leaves (dict / pairs / Module); parameters of the modules that ran are automatic.
        order: 1 checks each node's backward; 2 checks each node's double backward (the derivative of its
            backward, recorded with create_graph=True) against central differences of its backward, so a wrong
            or non-differentiable double backward is named like a wrong backward.
    Returns:
        GraphCheckReport: rows per node in forward order; `report.passed`, `report.failures`, `str(report)`,
        `report.draw()`.
    Raises:
        RuntimeError: when the graph was built without graph_recording() (its nodes do not know their inputs).
    """
    from ..tensor import Tensor
    from ..viz.names import Naming, roots_of

    if order not in (1, 2):
        raise ValueError(f"check_graph: order must be 1 (backward) or 2 (double backward), got {order!r}")
    if callable(loss) and not isinstance(loss, Tensor):
        with graph_recording():
            loss = loss(*inputs)
    outs = list(loss) if isinstance(loss, (tuple, list)) else [loss]
    roots = [o.grad_fn for o in outs if isinstance(o, Tensor) and o.grad_fn is not None]
    if not roots:
        raise RuntimeError("check_graph: the output has no grad_fn (no recorded op needs a gradient): make a "
                           "parameter or input require grad, and build the loss with grad mode on")
    nodes = _forward_order(list(dict.fromkeys(roots)))
    if not any("inputs" in n.metadata for n in nodes):
        raise RuntimeError(
            "check_graph: the graph was built without its forward inputs, so its nodes cannot be replayed. Build "
            "the loss inside `with tg.autograd.graph_recording(): loss = ...`, or pass a callable: "
            "tg.autograd.check_graph(lambda: loss_fn(model(x), y))")
    naming = Naming(roots_of(nodes), params)
    rng = np.random.default_rng(seed)
    rows = []
    with _quiet():
        for k, node in enumerate(nodes):
            row = _describe(k, node, naming)
            _check_node(row, node, rng, eps, atol, rtol, fast_mode, max_elements, order)
            rows.append(row)
    return GraphCheckReport(rows, outs, params)


def _describe(k: int, node: Context, naming: Any) -> NodeCheck:
    mods = node.metadata.get("modules", ())
    names = []
    for nxt, _ in node._edges:
        if isinstance(nxt, AccumulateGrad):
            names.append(naming.tensor_name(nxt.variable) or "<leaf>")
    return NodeCheck(index=k, node=node, op=node.name(), module=naming.path_label(mods),
                     module_path=" / ".join(naming.module_label(m) for m in mods), params=tuple(names))


def _check_node(row: NodeCheck, node: Context, rng: np.random.Generator, eps: float, atol: float, rtol: float,
                fast: bool, max_elements: int | None, order: int = 1) -> None:
    rec = node.metadata.get("inputs")
    if rec is None:
        row.skip("not recorded (built outside graph_recording())")
        return
    if not any(node.needs_input_grad):
        row.skip("no input needs a gradient")
        return
    stale = [i for i, a in enumerate(rec) if getattr(a, "modified", False)]
    if stale:
        row.skip(f"input {stale[0]} was modified in place after this op (its recorded value is gone)")
        return
    try:
        rp = Replay(node, rng) if order == 1 else SecondOrderReplay(node, rng)
        if not rp.out_idx:
            row.skip("no differentiable output")
            return
        if rp.F({}) != rp.F({}):  # a forward that samples (dropout inside a Function) cannot be differenced
            row.skip("forward is not deterministic (it samples random numbers)")
            return
        if rp.low_precision:  # the op computes in float32 whatever it is given: float64 steps would be noise
            eps, atol, rtol = max(eps, 1e-3), max(atol, 1e-3), max(rtol, 2e-2)
        dirs = directions(rp, rng, fast, max_elements)
        m = measure(rp, {}, eps, atol, rtol, dirs)
        row.record(m, "float32 tolerance" if rp.low_precision and m.ok else "ok" if m.ok else None)
        if not m.ok:
            _diagnose(row, rp, m, rng, eps, atol, rtol, dirs)
    except Exception as exc:  # noqa: BLE001 - a replay that raises is reported on its row, the rest still runs
        if "not differentiable twice" in str(exc) or "differentiate twice" in str(exc):
            row.verdict, row.passed, row.detail = "error", False, f"double backward: {exc}"
            return
        row.skip(f"replay failed: {type(exc).__name__}: {exc}")


def _diagnose(row: NodeCheck, rp: Replay, m: Any, rng: np.random.Generator, eps: float, atol: float,
              rtol: float, dirs: dict) -> None:
    """A mismatch: ok at a smaller eps, non-differentiable point, or a true error (see node_check.py)."""
    small = measure(rp, {}, eps * 1e-2, atol, rtol, dirs)
    if small.ok:
        row.verdict, row.passed = "ok at smaller eps", True
        row.detail = (f"a kink or strong curvature within eps of the point: passes at eps={eps * 1e-2:g} "
                      f"({m.detail} at eps={eps:g})")
        return
    i, u = m.worst
    if u is not None and not differentiable_along(rp, i, u, eps, atol, rtol):
        for _ in range(3):  # a true error fails at every nearby point; a crossed kink at one of them only rarely
            moved = measure(rp, jittered(rp, rng), eps * 1e-2, atol, rtol, dirs)
            if moved.ok:
                row.verdict, row.passed = "non-differentiable point", True
                row.detail = (f"one-sided differences differ at the recorded point (ties or a kink); the backward "
                              f"agrees at a nearby point ({m.detail})")
                return
        row.detail = f"{m.detail}; also wrong at nearby differentiable points ({moved.detail})"
    row.verdict, row.passed = "error", False


__all__ = ["check_graph", "graph_recording", "GraphCheckReport", "NodeCheck"]
