"""`tg.autograd.functional`: vjp, jvp, jacobian, hessian, vhp, hvp with torch's signatures and semantics.

All are built on `autograd.grad` with create_graph=True: a Jacobian-vector product is the vjp of a vjp (the
"double-vjp trick": u -> v^T J is linear in v, so differentiating <v^T J, u> with respect to v gives J u), and a
Hessian is the Jacobian of the gradient. `vectorize` is accepted and ignored (rows are computed one by one);
`strategy="forward-mode"` computes the Jacobian column by column with jvp.

Shapes: for one input x (*X) and one output y (*Y), jacobian is (*Y, *X) and hessian (*X, *X). With tuples of
inputs/outputs the results are tuples (of tuples), as torch.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .api import grad
from .grad_mode import enable_grad


def _tensor_type() -> type:
    from ..tensor import Tensor

    return Tensor


def _as_tuple(x: Any, arg: str, fn: str) -> tuple[bool, tuple]:
    """(was_tuple, x as a tuple of Tensors); torch's error when something is not a Tensor."""
    Tensor = _tensor_type()
    was_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if was_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"{arg}" if not was_tuple else f"{arg}[{i}]"
            raise TypeError(f"The {where} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                            f"value at index {i} has type {type(t).__name__}.")
    return was_tuple, items


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs the function is differentiated at: with create_graph a view that keeps the caller's graph,
    otherwise detached leaves (torch's _grad_preprocess)."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _finish(values: tuple, create_graph: bool) -> tuple:
    """Results: detached unless create_graph (torch's _grad_postprocess)."""
    return tuple(v if create_graph or v is None else v.detach() for v in values)


def _unpack(was_tuple: bool, values: tuple) -> Any:
    return values if was_tuple else values[0]


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool, strict: bool,
           what: str) -> tuple:
    """d<outputs, grad_outputs>/d inputs; None entries become zeros, or raise in strict mode."""
    Tensor = _tensor_type()
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if pairs:
        res = grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], create_graph=True, allow_unused=True)
    else:
        res = (None,) * len(inputs)
    out = []
    for i, (g, x) in enumerate(zip(res, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This "
                                   f"is not allowed in strict mode.")
            g = Tensor._wrap(np.zeros(x._data.shape, x._data.dtype))
        out.append(g)
    return tuple(out)


def _check_v(v: Any, like: tuple, arg: str, fn: str) -> tuple:
    _, vs = _as_tuple(v, arg, fn)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn}: {arg} has {len(vs)} tensors but the expected number is {len(like)}")
    for i, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: {arg}[{i}] has a shape of {tuple(a.shape)} but the expected "
                               f"shape is {tuple(b.shape)} ({fn}).")
    return vs


def _scalar_seed(outputs: tuple, fn: str) -> tuple:
    Tensor = _tensor_type()
    if len(outputs) != 1 or outputs[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if the user-provided function returns a single Tensor "
                           f"with a single element ({fn}).")
    return (Tensor._wrap(np.ones(outputs[0]._data.shape, outputs[0]._data.dtype)),)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product at inputs. v has the output's shape."""
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare(xs, create_graph)
        out_tuple, ys = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        vs = _scalar_seed(ys, "vjp") if v is None else _check_v(v, ys, "v", "vjp")
        res = _grads(ys, xs, vs, create_graph, strict, "output")
    return _unpack(out_tuple, _finish(ys, create_graph)), _unpack(in_tuple, _finish(res, create_graph))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product at inputs, by the double-vjp trick. v has the inputs'
    shapes (may be None for a single one-element input)."""
    Tensor = _tensor_type()
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
        xs = _prepare(xs, create_graph)
        vs = _v_for_inputs(v, xs, "jvp")
        out_tuple, ys = _as_tuple(func(*xs), "outputs of the user-provided function", "jvp")
        # u -> u^T J is linear in u; its vjp with v is J v
        us = tuple(Tensor._wrap(np.zeros(y._data.shape, y._data.dtype)).requires_grad_(True) for y in ys)
        ujs = _grads(ys, xs, us, True, strict, "output")
        res = _grads(ujs, us, vs, create_graph, strict, "backward")
    return _unpack(out_tuple, _finish(ys, create_graph)), _unpack(out_tuple, _finish(res, create_graph))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of func at inputs: (*Y, *X) for one output and one input; nested tuples otherwise
    (`result[i][j]` = d output i / d input j)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                         'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                         'prefer to use "reverse-mode".')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("torch.autograd.functional.jacobian: `strategy=\"forward-mode\"` is only "
                                  "implemented for `vectorize=True`.")
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare(xs, create_graph)
        out_tuple, ys = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        if strategy == "forward-mode":
            blocks = _jacobian_columns(func, xs, ys, create_graph, strict)
        else:
            blocks = [_jacobian_rows(y, xs, create_graph, strict) for y in ys]
    if not out_tuple:
        return _unpack(in_tuple, blocks[0])
    return tuple(_unpack(in_tuple, b) for b in blocks)


def _jacobian_rows(y: Any, xs: tuple, create_graph: bool, strict: bool) -> tuple:
    """One vjp per element of y: returns, per input x, a (*Y, *X) tensor."""
    from ..creation import stack

    Tensor = _tensor_type()
    rows: list[list] = [[] for _ in xs]
    for j in range(y.numel()):
        onehot = np.zeros(y._data.size, y._data.dtype)
        onehot[j] = 1
        seed = Tensor._wrap(onehot.reshape(y._data.shape))
        gs = _grads((y,), xs, (seed,), create_graph, False, "output")
        for k, g in enumerate(gs):
            rows[k].append(g)
    out = []
    for k, x in enumerate(xs):
        if strict and y.numel() and all(not r.requires_grad and not r._data.any() for r in rows[k]):
            _strict_check(y, x, k)
        if y.numel():
            block = stack(rows[k]).reshape(*y.shape, *x.shape)
        else:
            block = Tensor._wrap(np.zeros((*y.shape, *x.shape), x._data.dtype))
        out.append(block if create_graph else block.detach())
    return tuple(out)


def _strict_check(y: Any, x: Any, k: int) -> None:
    (g,) = grad([y], [x], [y.detach() * 0 + 1], retain_graph=True, allow_unused=True)
    if g is None:
        raise RuntimeError(f"Output 0 of the user-provided function is independent of input {k}. This is not "
                           f"allowed in strict mode.")


def _jacobian_columns(func: Callable, xs: tuple, ys: tuple, create_graph: bool, strict: bool) -> list:
    """Forward mode: one jvp per input element; blocks[i][j] = d y_i / d x_j, (*Y_i, *X_j)."""
    from ..creation import stack

    Tensor = _tensor_type()
    blocks: list[list] = [[None] * len(xs) for _ in ys]
    for j, x in enumerate(xs):
        cols: list[list] = [[] for _ in ys]
        for e in range(x.numel()):
            vs = []
            for k, other in enumerate(xs):
                d = np.zeros(other._data.size, other._data.dtype)
                if k == j:
                    d[e] = 1
                vs.append(Tensor._wrap(d.reshape(other._data.shape)))
            _, jv = jvp(func, xs, tuple(vs), create_graph=create_graph, strict=strict)
            for i, c in enumerate(jv if isinstance(jv, tuple) else (jv,)):
                cols[i].append(c)
        for i, y in enumerate(ys):
            if x.numel():
                blocks[i][j] = stack(cols[i], dim=-1).reshape(*y.shape, *x.shape)
            else:
                blocks[i][j] = Tensor._wrap(np.zeros((*y.shape, *x.shape), x._data.dtype))
    return [tuple(b) for b in blocks]


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar func at inputs: (*X, *X) for one input; `result[i][j]` = d^2 f / dx_i dx_j."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args: Any) -> tuple:
        out = func(*args)
        if not isinstance(out, _tensor_type()) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single "
                               "element" if isinstance(out, _tensor_type()) else
                               "The function given to hessian should return a single Tensor")
        return _grads((out,), args, (out.detach() * 0 + 1,), True, strict, "output")

    res = jacobian(gradient, xs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    if not in_tuple:
        return res[0][0]
    return res


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T H): the vector-Hessian product of a scalar func at inputs."""
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", "vhp")
        xs = _prepare(xs, create_graph)
        out = _single_scalar(func(*xs), "vhp")
        vs = _v_for_inputs(v, xs, "vhp")
        (g_seed,) = _scalar_seed((out,), "vhp")
        gs = _grads((out,), xs, (g_seed,), True, strict, "output")
        res = _grads(gs, xs, vs, create_graph, strict, "jacobian")
    return _finish((out,), create_graph)[0], _unpack(in_tuple, _finish(res, create_graph))


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H v): the Hessian-vector product of a scalar func at inputs (double-vjp: H v is the vjp
    of u -> u^T H, computed without forming H)."""
    Tensor = _tensor_type()
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", "hvp")
        xs = _prepare(xs, create_graph)
        out = _single_scalar(func(*xs), "hvp")
        vs = _v_for_inputs(v, xs, "hvp")
        (g_seed,) = _scalar_seed((out,), "hvp")
        gs = _grads((out,), xs, (g_seed,), True, strict, "output")
        us = tuple(Tensor._wrap(np.zeros(x._data.shape, x._data.dtype)).requires_grad_(True) for x in xs)
        uh = _grads(gs, xs, us, True, strict, "jacobian")       # u^T H, linear in u
        res = _grads(uh, us, vs, create_graph, strict, "double backward")
    return _finish((out,), create_graph)[0], _unpack(in_tuple, _finish(res, create_graph))


def _single_scalar(out: Any, fn: str) -> Any:
    Tensor = _tensor_type()
    if isinstance(out, (tuple, list)):
        if len(out) != 1:
            raise RuntimeError(f"The function given to {fn} should return a single Tensor")
        out = out[0]
    if not isinstance(out, Tensor):
        raise TypeError(f"The outputs of the user-provided function given to {fn} must be either a Tensor or a "
                        f"tuple of Tensors but the given outputs of the user-provided function has type "
                        f"{type(out).__name__}.")
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a single element")
    return out


def _v_for_inputs(v: Any, xs: tuple, fn: str) -> tuple:
    Tensor = _tensor_type()
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the input to the user-provided function is a "
                               f"single Tensor with a single element ({fn}).")
        return (Tensor._wrap(np.ones(xs[0]._data.shape, xs[0]._data.dtype)),)
    return _check_v(v, xs, "v", fn)


__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]
