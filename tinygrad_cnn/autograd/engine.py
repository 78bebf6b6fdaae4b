"""The backward sweep: iterative, dependency-counted, freeing saved arrays as it goes.

1. Walk the graph from the roots with an explicit stack and count, for every node, how many edges point into it.
2. Start from the roots; a node runs its backward once all gradients for its outputs have arrived (count reaches
   zero), so each node runs exactly once and no recursion is involved: a 100 000-op chain is just a long loop.
3. Gradients for a leaf go to its AccumulateGrad node, which adds them into `tensor.grad`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import anomaly, grad_mode, recording
from .function import AccumulateGrad, Context, Node


def _dependencies(roots: Sequence[Node]) -> dict[Node, int]:
    """Number of incoming edges of every node reachable from the roots (explicit stack, no recursion)."""
    deps: dict[Node, int] = {}
    seen = set()
    stack = []
    for r in roots:
        if id(r) not in seen:
            seen.add(id(r))
            stack.append(r)
    while stack:
        node = stack.pop()
        for nxt, _ in node._edges:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append(nxt)
    return deps


def _check_grad(node: Context, i: int, g: np.ndarray) -> np.ndarray:
    """A backward's gradient must have its input's shape; dtype is cast back to the input's (float32 stays)."""
    shape, dtype = node._input_meta[i]
    if g.shape != shape:
        raise RuntimeError(
            f"{node.name()} returned an invalid gradient for input {i}: got shape {tuple(g.shape)} but the input "
            f"has shape {tuple(shape)} (a backward must undo broadcasting itself, e.g. with unbroadcast)")
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _call_backward(node: Context, grads: list) -> tuple:
    """Run one node's backward on its output gradients; returns one array-or-None per forward argument."""
    fn = node._fn
    if any(g is None for g in grads) and node._materialize_grads:
        raise AssertionError("internal: missing output gradient")  # the engine fills zeros before calling
    if fn.array_function:
        res = fn.backward(node, *grads)
    else:
        from ..tensor import Tensor

        with grad_mode.no_grad():
            res = fn.backward(node, *[None if g is None else Tensor._wrap(g) for g in grads])
    if not isinstance(res, tuple):
        res = (res,)
    n_in = len(node._edges)
    if len(res) < n_in or any(r is not None for r in res[n_in:]):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients (expected {n_in}, got {len(res)})")
    out = []
    for i, r in enumerate(res[:n_in]):
        if r is None:
            out.append(None)
            continue
        arr = r if isinstance(r, np.ndarray) else getattr(r, "_data", None)
        if arr is None:
            arr = np.asarray(r)
        out.append(_check_grad(node, i, arr))
    return tuple(out)


def _apply_tensor_hooks(hooks: list, g: np.ndarray) -> np.ndarray:
    from ..tensor import Tensor

    for hook in hooks:
        new = hook(Tensor._wrap(g))
        if new is not None:
            arr = new._data if isinstance(new, Tensor) else np.asarray(new)
            if arr.shape != g.shape:
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: it "
                                   f"returned shape {tuple(arr.shape)} for a gradient of shape {tuple(g.shape)}")
            g = arr.astype(g.dtype, copy=False)
    return g


def run_backward(roots: Sequence[tuple[Node, int]], root_grads: Sequence[np.ndarray], retain_graph: bool,
                 capture: dict | None = None) -> None:
    """Backpropagate `root_grads` from the nodes `roots` ((node, output_nr) pairs).

    capture: when given (autograd.grad), maps (id(node), output_nr) -> slot; the gradient arriving there is stored
    in capture[...] and leaves' `.grad` is left untouched.
    """
    deps = _dependencies([n for n, _ in roots])
    buffers: dict[Node, list] = {}
    for (node, nr), g in zip(roots, root_grads):
        _add(buffers, node, nr, g)
    ready = [n for n, _ in roots if deps.get(n, 0) == 0]
    ready = list(dict.fromkeys(ready))  # a node listed twice as root runs once
    grad_mode_prev = grad_mode._enabled[0]
    grad_mode._enabled[0] = False  # backward records nothing (first-order engine)
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            _run_node(node, grads, retain_graph, capture, buffers, deps, ready)
    finally:
        grad_mode._enabled[0] = grad_mode_prev


def _run_node(node: Node, grads: list, retain_graph: bool, capture: dict | None, buffers: dict,
              deps: dict, ready: list) -> None:
    if isinstance(node, AccumulateGrad):
        g = grads[0]
        var = node.variable
        if var._hooks:
            g = _apply_tensor_hooks(var._hooks, g)
        for observe in recording._grad_observers:
            observe(node, [g], ())
        if capture is not None:
            key = (id(node), 0)
            if key in capture:
                capture[key] = g
            return
        _accumulate_into_leaf(var, g)
        for hook in node.post_hooks:  # Tensor.register_post_accumulate_grad_hook: hook(param) after .grad is set
            if hook(var) is not None:
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
        return
    assert isinstance(node, Context)
    for nr, ref in enumerate(node._out_tensors):
        t = ref() if ref is not None else None
        if t is None or grads[nr] is None:
            continue
        if t._hooks:
            grads[nr] = _apply_tensor_hooks(t._hooks, grads[nr])
        if t._retains_grad and capture is None:
            _accumulate_into_leaf(t, grads[nr])
    if capture is not None:
        for nr in range(node.num_outputs):
            if (id(node), nr) in capture and grads[nr] is not None:
                capture[(id(node), nr)] = grads[nr]
    if node._materialize_grads:
        grads = [np.zeros(*node._out_meta[nr]) if g is None else g for nr, g in enumerate(grads)]
    for hook in node.metadata.get("hooks", ()):
        hook(node, grads)
    if recording._anomaly[0]:  # creation site on errors; NaN/Inf in the returned gradients raises
        input_grads = anomaly.run_backward_checked(node, grads, _call_backward)
    else:
        input_grads = _call_backward(node, grads)
    for observe in recording._grad_observers:
        observe(node, grads, input_grads)
    if not retain_graph:
        node._release()
    for (nxt, nr), g in zip(node._edges, input_grads):
        if nxt is None:
            continue
        if g is not None:
            _add(buffers, nxt, nr, g)
        deps[nxt] -= 1
        if deps[nxt] == 0:
            if nxt in buffers:
                ready.append(nxt)
            else:
                _skip(nxt, buffers, deps, ready)


def _skip(node: Node, buffers: dict, deps: dict, ready: list) -> None:
    """A node that received no gradient at all: release its dependants' counts without running it."""
    stack = [node]
    while stack:
        n = stack.pop()
        for nxt, _ in n._edges:
            if nxt is None:
                continue
            deps[nxt] -= 1
            if deps[nxt] == 0:
                if nxt in buffers:
                    ready.append(nxt)
                else:
                    stack.append(nxt)


def _add(buffers: dict, node: Node, nr: int, g: np.ndarray) -> None:
    """Sum gradients arriving at the same output; never in place (arrays may be shared between edges)."""
    slot = buffers.get(node)
    if slot is None:
        slot = buffers[node] = [None] * node.num_outputs
    slot[nr] = g if slot[nr] is None else slot[nr] + g


def _accumulate_into_leaf(var: Any, g: np.ndarray) -> None:
    """`.grad` accumulates across backward calls, as in torch. The first store copies: g may be shared.

    The copy takes the parameter's memory order (torch's grad layout contract): a Linear weight's gradient arrives
    as a transposed view, and an optimiser mixing it with C-ordered state ran ~4x slower (strided passes).
    """
    from ..tensor import Tensor

    if var.grad is None:
        var.grad = Tensor._wrap(_copy_like(g, var._data))
    elif var.grad._data.flags.writeable and var.grad._data.shape == g.shape:
        # in place, as torch: a reference kept to p.grad (grads = [p.grad ...]) sees the accumulated value
        np.add(var.grad._data, g, out=var.grad._data, casting="unsafe")
        var.grad._version_box[0] += 1
    else:  # e.g. a user-assigned expanded (read-only) grad: torch refuses, we accumulate into a new array
        var.grad = Tensor._wrap(var.grad._data + g)


def _copy_like(g: np.ndarray, data: np.ndarray) -> np.ndarray:
    """A copy of g in data's dtype and memory order. A 2-D transposed g (a Linear weight's gradient) is copied in
    64-column blocks: a plain transposing copy of a (128, 9216) float32 array re-reads every cache line and took
    8.5 ms; blocked, 0.8 ms."""
    order = "C" if data.flags.c_contiguous else "F" if data.flags.f_contiguous else "K"
    if order != "C" or g.ndim != 2 or g.flags.c_contiguous or g.size < 1 << 16:
        return np.array(g, dtype=data.dtype, copy=True, order=order)
    out = np.empty(g.shape, dtype=data.dtype)
    for c in range(0, g.shape[1], 64):
        out[:, c:c + 64] = g[:, c:c + 64]
    return out
