"""gradcheck: compare backward's Jacobian with central differences, in float64.

For f: inputs -> outputs, the analytic Jacobian row for output element j is the backward of a one-hot grad_output;
the numeric column for input element i is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps). fast_mode compares only the
projection v^T J u for random u, v, which needs one backward and two forwards per (input, output) pair.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from .api import grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numeric gradients disagree."""


def _prepare(inputs: Any) -> list:
    """float64 copies of the inputs (float32 finite differences are too noisy to trust)."""
    from ..tensor import Tensor

    items = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    out = []
    for i, x in enumerate(items):
        if isinstance(x, Tensor) and x.requires_grad:
            if x._data.dtype != np.float64:
                warnings.warn(f"gradcheck: input {i} requires gradient and is not a double precision floating "
                              f"point tensor ({x.dtype}); it is checked as a float64 copy", UserWarning,
                              stacklevel=3)
            t = Tensor._wrap(x._data.astype(np.float64, copy=True))
            t.requires_grad = True
            out.append(t)
        else:
            out.append(x)
    return out


def _outputs(fn: Callable, inputs: list) -> list:
    from ..tensor import Tensor

    res = fn(*inputs)
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    return [r for r in res if isinstance(r, Tensor)]


def _checked_outputs(fn: Callable, inputs: list) -> list:
    """fn's outputs, refusing anything but Tensors: a float, ndarray or None has no gradient to check (torch fails
    on them too), and dropping them silently would let a check of nothing pass."""
    from ..tensor import Tensor

    res = fn(*inputs)
    seq = list(res) if isinstance(res, (tuple, list)) else [res]
    for k, r in enumerate(seq):
        if not isinstance(r, Tensor):
            raise TypeError(f"gradcheck: func must return a Tensor or a tuple of Tensors, but output {k} is "
                            f"{type(r).__name__}")
    if not seq:
        raise ValueError("gradcheck: func returned no outputs, so there is nothing to check")
    return seq


def _flat_out(fn: Callable, inputs: list) -> list:
    # in the caller's grad mode, as torch: a func that differentiates inside (a gradient penalty) needs grad on
    return [o._data.astype(np.float64).ravel().copy() for o in _outputs(fn, inputs)]


def _numeric_column(fn: Callable, inputs: list, x: Any, direction: np.ndarray, eps: float) -> list:
    """d outputs / d x along `direction`, central differences; x's array is perturbed in place and restored."""
    orig = x._data.copy()
    x._data[...] = orig + eps * direction
    plus = _flat_out(fn, inputs)
    x._data[...] = orig - eps * direction
    minus = _flat_out(fn, inputs)
    x._data[...] = orig
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _analytic_rows(fn: Callable, inputs: list, diff: list, out_index: int, v: np.ndarray) -> list:
    """v^T d out / d input for each differentiable input (zeros when an input is unused)."""
    outs = _outputs(fn, inputs)
    o = outs[out_index]
    if not o.requires_grad:
        return [np.zeros(inputs[i]._data.size) for i in diff]
    gs = grad([o], [inputs[i] for i in diff], [v.reshape(o._data.shape).astype(o._data.dtype)], allow_unused=True)
    return [np.zeros(inputs[i]._data.size) if g is None else g._data.astype(np.float64).ravel()
            for i, g in zip(diff, gs)]


def _where(flat: int, shape: tuple) -> str:
    """A flat Jacobian index as the element it names: `(1, 2)` for shape (2, 3), `()` for a scalar."""
    return str(tuple(int(v) for v in np.unravel_index(int(flat), shape))) if shape else "()"


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False, nondet_tol: float = 0.0,
              seed: int = 0) -> bool:
    """True when backward matches central differences for every (output, input) pair.

    Shapes: inputs is a tensor or a sequence; only floating tensors with requires_grad=True are checked. On
    failure raises GradcheckError naming the output index, the input index and the worst element (i, j) with both
    values, or returns False when raise_exception=False.
    """
    from ..tensor import Tensor

    ins = _prepare(inputs)
    diff = [i for i, x in enumerate(ins) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:  # torch's error and text: a check without a differentiable input checks nothing
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    base_shapes = [tuple(o.shape) for o in _checked_outputs(func, ins)]
    base = _flat_out(func, ins)
    rng = np.random.default_rng(seed)
    for k, out0 in enumerate(base):
        if fast_mode:
            v = rng.standard_normal(out0.size)
            rows = _analytic_rows(func, ins, diff, k, v)
            for slot, i in enumerate(diff):
                u = rng.standard_normal(ins[i]._data.shape)
                num = float(np.dot(_numeric_column(func, ins, ins[i], u, eps)[k], v))
                ana = float(np.dot(rows[slot], u.ravel()))
                if not np.isclose(ana, num, rtol=rtol, atol=atol):
                    return _fail(f"Jacobian mismatch for output {k} with respect to input {i} (fast mode, random "
                                 f"projection v^T J u): numerical={num:.6g}, analytical={ana:.6g}", raise_exception)
            continue
        analytic = [np.zeros((out0.size, ins[i]._data.size)) for i in diff]  # (out elems, in elems) per input
        for j in range(out0.size):
            onehot = np.zeros(out0.size)
            onehot[j] = 1.0
            for slot, row in enumerate(_analytic_rows(func, ins, diff, k, onehot)):
                analytic[slot][j] = row
        for slot, i in enumerate(diff):
            x = ins[i]
            numeric = np.zeros_like(analytic[slot])
            for e in range(x._data.size):
                d = np.zeros(x._data.size)
                d[e] = 1.0
                numeric[:, e] = _numeric_column(func, ins, x, d.reshape(x._data.shape), eps)[k]
            bad = ~np.isclose(analytic[slot], numeric, rtol=rtol, atol=atol)
            if bad.any():
                err = np.where(bad, np.abs(analytic[slot] - numeric), -1)
                j, e = np.unravel_index(int(np.argmax(err)), err.shape)
                out_shape = base_shapes[k]
                return _fail(f"Jacobian mismatch for output {k} with respect to input {i}: worst entry d output"
                             f"[{k}] / d input[{i}] at output element {_where(j, out_shape)} and input element "
                             f"{_where(e, tuple(x.shape))} (output shape {out_shape}, input shape "
                             f"{tuple(x.shape)}): numerical={numeric[j, e]:.6g}, analytical="
                             f"{analytic[slot][j, e]:.6g} (|diff|={err[j, e]:.3g}, atol={atol}, rtol={rtol}; "
                             f"{int(bad.sum())} of {bad.size} Jacobian entries differ)", raise_exception)
    return True


__all__ = ["gradcheck", "GradcheckError"]
