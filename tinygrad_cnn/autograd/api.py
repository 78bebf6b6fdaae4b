"""`tg.autograd.backward` and `tg.autograd.grad`: turn user arguments into engine roots and gradients."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .engine import run_backward


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(outputs: list, grad_outputs: list | None, create_graph: bool = False) -> list:
    """The seed gradient of each output: ones for a scalar, else the given tensor (same shape).

    Under create_graph the seeds are Tensors; a given grad_output keeps its own graph (so a Hessian-vector
    product can be differentiated with respect to the vector)."""
    from ..tensor import Tensor

    grads = []
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn "
                               f"(shape {tuple(out.shape)}); call .requires_grad_() on an input or check that "
                               f"no_grad is not active")
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs (this tensor has "
                                   f"shape {tuple(out.shape)}); pass gradient= of that shape, or reduce it first "
                                   f"(e.g. loss.sum())")
            ones = np.ones(out._data.shape, dtype=out._data.dtype)
            grads.append(Tensor._wrap(ones) if create_graph else ones)
            continue
        arr = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=out._data.dtype)
        if arr.shape != out._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(arr.shape)} and "
                               f"output[{i}] has a shape of {tuple(out.shape)}.")
        if create_graph:
            g = g if isinstance(g, Tensor) else Tensor._wrap(arr)
            grads.append(g if arr.dtype == out._data.dtype else g.to(out.dtype))
        else:
            grads.append(arr.astype(out._data.dtype, copy=False))
    return grads


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Sequence[Any] | None = None) -> None:
    """Accumulate gradients of `tensors` into the `.grad` of the leaves they depend on.

    create_graph=True records the backward itself, so the `.grad`s have a graph and can be differentiated again
    (retain_graph then defaults to True, as in torch)."""
    if retain_graph is None:
        retain_graph = create_graph
    outs = _as_list(tensors)
    grads = _root_grads(outs, _as_list(grad_tensors) if grad_tensors is not None else None, create_graph)
    if inputs is not None:  # only these tensors get .grad: compute with grad() and accumulate
        ins = _as_list(inputs)
        res = grad(outs, ins, [g for g in grads], retain_graph=retain_graph, create_graph=create_graph,
                   allow_unused=True)
        from .engine import _accumulate_into_leaf, run_post_accumulate_hooks

        for t, g in zip(ins, res):
            if g is not None:
                _accumulate_into_leaf(t, g if create_graph else g._data)
                if t.grad_fn is None and t._accumulator is not None:
                    run_post_accumulate_hooks(t._accumulator)
        return
    run_backward([o._edge() for o in outs], grads, bool(retain_graph), create_graph=create_graph)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None, materialize_grads: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple of tensors, without touching any `.grad`."""
    from ..tensor import Tensor

    if retain_graph is None:
        retain_graph = create_graph
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__} "
                               f"(input {i})")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    go = _as_list(grad_outputs) if grad_outputs is not None else None
    if go is not None and not create_graph:
        go = [g._data if isinstance(g, Tensor) else g for g in go]
    seeds = _root_grads(outs, go, create_graph)
    capture = {}
    keys = []
    for t in ins:
        node, nr = t._edge()
        keys.append((id(node), nr))
        capture[(id(node), nr)] = None
    run_backward([o._edge() for o in outs], seeds, bool(retain_graph), capture=capture, create_graph=create_graph)
    result = []
    for i, (t, k) in enumerate(zip(ins, keys)):
        g = capture[k]
        if g is None:
            if materialize_grads:
                g = np.zeros(t._data.shape, t._data.dtype)
                g = Tensor._wrap(g) if create_graph else g
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}, shape {tuple(t.shape)}) appears "
                                   f"to not have been used in the graph. Set allow_unused=True if this is the "
                                   f"desired behavior.")
        if g is None or isinstance(g, Tensor):  # create_graph: the gradient with its graph
            result.append(g)
        else:
            result.append(Tensor._wrap(np.array(g, copy=True)))
    return tuple(result)
