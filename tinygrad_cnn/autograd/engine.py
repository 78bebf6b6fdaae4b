"""The backward sweep: iterative, dependency-counted, freeing saved arrays as it goes.

1. Walk the graph from the roots with an explicit stack and count, for every node, how many edges point into it.
2. Start from the roots; a node runs its backward once all gradients for its outputs have arrived (count reaches
   zero), so each node runs exactly once and no recursion is involved: a 100 000-op chain is just a long loop.
3. Gradients for a leaf go to its AccumulateGrad node, which adds them into `tensor.grad`.

Gradients travel as numpy arrays (first order), or, under create_graph, as Tensors with grad mode on: every
backward then records its own nodes (see ops/_dual.py: one formula, two carriers), so the result can be
differentiated again.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import anomaly, grad_mode, recording
from . import function as _function
from .function import AccumulateGrad, Context, Node
from ..ops import _dual


def _dependencies(roots: Sequence[Node]) -> dict[Node, int]:
    """Number of incoming edges of every node reachable from the roots (explicit stack, no recursion)."""
    deps: dict[Node, int] = {}
    stack = list(dict.fromkeys(roots))
    seen = set(stack)  # nodes hash by identity
    while stack:
        for nxt, _ in stack.pop()._edges:
            if nxt is None:
                continue
            if nxt in seen:
                deps[nxt] = deps.get(nxt, 0) + 1  # a root reached from another root has no count yet
            else:
                deps[nxt] = 1
                seen.add(nxt)
                stack.append(nxt)
    return deps


def _check_grad(node: Context, i: int, g: Any) -> Any:
    """A backward's gradient must have its input's shape; dtype is cast back to the input's (float32 stays)."""
    shape, dtype = node._input_meta[i]
    if type(g) is not np.ndarray and _dual.is_tensor(g):
        if g._data.shape != shape:
            _bad_shape(node, i, g._data.shape, shape)
        return g if g._data.dtype == dtype else _dual.cast(g, dtype)
    if g.shape != shape:
        _bad_shape(node, i, g.shape, shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _bad_shape(node: Context, i: int, got: tuple, shape: tuple) -> None:
    raise RuntimeError(
        f"{node.name()} returned an invalid gradient for input {i}: got shape {tuple(got)} but the input "
        f"has shape {tuple(shape)} (a backward must undo broadcasting itself, e.g. with sum_to)")


def _call_backward(node: Context, grads: list) -> tuple:
    """Run one node's backward on its output gradients; returns one gradient-or-None per forward argument.

    Under create_graph (grad mode on during the sweep) the gradients are Tensors and the node's saved inputs and
    outputs come back as Tensors too, so whatever the backward computes is recorded.
    """
    fn = node._fn
    create_graph = grad_mode._enabled[0]
    if create_graph:
        node._tensor_mode = True
        try:
            res = fn.backward(node, *grads)
        finally:
            node._tensor_mode = False
    elif fn.array_function:
        res = fn.backward(node, *grads)
    else:
        from ..tensor import Tensor

        res = fn.backward(node, *[None if g is None else Tensor._wrap(g) for g in grads])
    if type(res) is not tuple:
        res = tuple(res) if isinstance(res, tuple) else (res,)
    edges = node._edges
    n_in = len(edges)
    if len(res) != n_in and (len(res) < n_in or any(r is not None for r in res[n_in:])):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients (expected {n_in}, got {len(res)})")
    out = []
    for i in range(n_in):
        r = res[i]
        if r is None or edges[i][0] is None:
            out.append(None)
            continue
        if create_graph:
            if fn.array_function and not _dual.is_tensor(r):
                raise RuntimeError(
                    f"{node.name()} is not differentiable twice: under create_graph=True its backward returned a "
                    f"numpy array for input {i} instead of a Tensor (the backward left the tape; write it with "
                    f"operators and ops/_dual.py calls, see docs/autograd.md)")
            r = _carrier(r, True)
        elif type(r) is not np.ndarray:  # first order: arrays of the inputs' shapes and dtypes
            r = _carrier(r, False)
        out.append(_check_grad(node, i, r))
    return tuple(out)


def _carrier(r: Any, create_graph: bool) -> Any:
    """A returned gradient in the sweep's carrier: a Tensor under create_graph, else a numpy array."""
    if create_graph:
        return r if _dual.is_tensor(r) else _function._TENSOR[0]._wrap(np.asarray(r))
    arr = r if isinstance(r, np.ndarray) else getattr(r, "_data", None)
    return np.asarray(r) if arr is None else arr


def _apply_tensor_hooks(hooks: list, g: Any) -> Any:
    from ..tensor import Tensor

    create_graph = _dual.is_tensor(g)
    for hook in hooks:
        new = hook(g if create_graph else Tensor._wrap(g))
        if new is not None:
            new = _carrier(new, create_graph)
            if tuple(new.shape) != tuple(g.shape):
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: it "
                                   f"returned shape {tuple(new.shape)} for a gradient of shape {tuple(g.shape)}")
            g = new if create_graph else new.astype(g.dtype, copy=False)
    return g


def run_backward(roots: Sequence[tuple[Node, int]], root_grads: Sequence[Any], retain_graph: bool,
                 capture: dict | None = None, create_graph: bool = False) -> None:
    """Backpropagate `root_grads` from the nodes `roots` ((node, output_nr) pairs).

    capture: when given (autograd.grad), maps (id(node), output_nr) -> slot; the gradient arriving there is stored
    in capture[...] and leaves' `.grad` is left untouched.
    create_graph: root_grads are Tensors and every backward is recorded (grad mode on during the sweep).
    """
    deps = _dependencies([n for n, _ in roots])
    buffers: dict[Node, list] = {}
    for (node, nr), g in zip(roots, root_grads):
        _add(buffers, node, nr, g)
    ready = [n for n, _ in roots if deps.get(n, 0) == 0]
    ready = list(dict.fromkeys(ready))  # a node listed twice as root runs once
    grad_mode_prev = grad_mode._enabled[0]
    grad_mode._enabled[0] = bool(create_graph)  # the backward is recorded only under create_graph
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
            observe(node, [_dual.raw(g)], ())
        if capture is not None:
            key = (id(node), 0)
            if key in capture:
                capture[key] = g
            return
        _accumulate_into_leaf(var, g)
        run_post_accumulate_hooks(node)
        return
    assert isinstance(node, Context)
    for nr, ref in enumerate(node._out_tensors):
        if ref is None or grads[nr] is None:
            continue
        t = ref()
        if t is None:
            continue
        if t._hooks:
            grads[nr] = _apply_tensor_hooks(t._hooks, grads[nr])
        if t._retains_grad and capture is None:
            _accumulate_into_leaf(t, grads[nr])
    if capture is not None:
        for nr in range(node.num_outputs):
            if (id(node), nr) in capture and grads[nr] is not None:
                capture[(id(node), nr)] = grads[nr]
    if node.num_outputs > 1 and node._materialize_grads:  # a single output always has its gradient here
        grads = [_zeros(node._out_meta[nr], grad_mode._enabled[0]) if g is None else g for nr, g in enumerate(grads)]
    if node.metadata:
        for hook in node.metadata.get("hooks", ()):
            hook(node, grads)
    if recording._anomaly[0]:  # creation site on errors; NaN/Inf in the returned gradients raises
        input_grads = anomaly.run_backward_checked(node, grads, _call_backward)
    else:
        input_grads = _call_backward(node, grads)
    for observe in recording._grad_observers:
        observe(node, [_dual.raw(g) for g in grads], tuple(_dual.raw(g) for g in input_grads))
    if not retain_graph:
        node._release()
    for (nxt, nr), g in zip(node._edges, input_grads):
        if nxt is None:
            continue
        if g is not None:
            slot = buffers.get(nxt)
            if slot is None:
                slot = buffers[nxt] = [None] * nxt.num_outputs
            slot[nr] = g if slot[nr] is None else slot[nr] + g  # never in place: g may be shared
        n = deps[nxt] - 1
        deps[nxt] = n
        if n == 0:
            if nxt in buffers:
                ready.append(nxt)
            else:
                _skip(nxt, buffers, deps, ready)


def run_post_accumulate_hooks(node: AccumulateGrad) -> None:
    """Tensor.register_post_accumulate_grad_hook: each hook(param) once .grad holds the accumulated value."""
    for hook in node.post_hooks:
        if hook(node.variable) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


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


def _zeros(meta: tuple, create_graph: bool) -> Any:
    z = np.zeros(*meta)
    return _function._TENSOR[0]._wrap(z) if create_graph else z


def _add(buffers: dict, node: Node, nr: int, g: Any) -> None:
    """Sum gradients arriving at the same output; never in place (arrays may be shared between edges)."""
    slot = buffers.get(node)
    if slot is None:
        slot = buffers[node] = [None] * node.num_outputs
    slot[nr] = g if slot[nr] is None else slot[nr] + g


def _accumulate_into_leaf(var: Any, g: Any) -> None:
    """`.grad` accumulates across backward calls, as in torch. The first store copies: g may be shared.

    The copy takes the parameter's memory order (torch's grad layout contract): a Linear weight's gradient arrives
    as a transposed view, and an optimiser mixing it with C-ordered state ran ~4x slower (strided passes).
    Under create_graph (g a Tensor) `.grad` keeps g's graph: a recorded copy first, a recorded sum after.
    """
    Tensor = _function._TENSOR[0]
    if isinstance(g, Tensor):
        var.grad = g.clone() if var.grad is None else var.grad + g
        return
    if var.grad is None:
        var.grad = Tensor._wrap(_copy_like(g, var._data))
    elif var.grad._data.flags.writeable and var.grad._data.shape == g.shape and var.grad.grad_fn is None:
        # in place, as torch: a reference kept to p.grad (grads = [p.grad ...]) sees the accumulated value
        np.add(var.grad._data, g, out=var.grad._data, casting="unsafe")
        var.grad._version_box[0] += 1
    else:  # e.g. a user-assigned expanded (read-only) grad, or one with a graph: a new array
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
