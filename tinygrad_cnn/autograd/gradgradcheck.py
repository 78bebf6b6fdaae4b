"""gradgradcheck: gradcheck of the backward itself (second derivatives), as torch.autograd.gradgradcheck.

The backward is a function too: (inputs, grad_outputs) -> d<outputs, grad_outputs>/d inputs. Recorded with
create_graph=True it has its own backward, and gradcheck compares that with central differences of the first-order
gradients. A backward that leaves the tape (numpy, `.detach()`) has no second derivative and fails here.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .api import grad
from .grad_mode import enable_grad, no_grad
from .gradcheck import GradcheckError, _outputs, _prepare, gradcheck


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False,
                  seed: int = 0) -> bool:
    """True when the second derivatives of func (through its backward) match central differences.

    grad_outputs: one tensor per floating output of func (random float64 ones, requiring grad, when None). The
    backward function checked is (*inputs, *grad_outputs) -> grads of the differentiable inputs. On failure
    raises GradcheckError naming which input (or grad_output) and which first-order gradient disagree, with the
    worst element, or returns False when raise_exception=False.
    """
    from ..tensor import Tensor

    ins = _prepare(inputs)
    diff = [i for i, x in enumerate(ins) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck expects at least one input tensor to require gradient, but none of the "
                         "inputs have requires_grad=True")
    with no_grad():
        outs = [o for o in _outputs(func, ins) if o._data.dtype.kind in "fc"]
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        gos = [Tensor._wrap(rng.standard_normal(o._data.shape)) for o in outs]
        for g in gos:
            g.requires_grad = True
    else:
        gos = _prepare(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"gradgradcheck: got {len(gos)} grad_outputs for {len(outs)} differentiable outputs")
    n = len(ins)

    def first_order(*args: Any) -> tuple:
        xs, vs = list(args[:n]), list(args[n:])
        with enable_grad():  # gradcheck's finite differences run under no_grad; the first-order grads need a graph
            return _first_order(xs, vs)

    def _first_order(xs: list, vs: list) -> tuple:
        ys = [o for o in _outputs(func, xs) if o._data.dtype.kind in "fc"]
        pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        if not pairs:
            return tuple(Tensor._wrap(np.zeros(xs[i]._data.shape)) for i in diff)
        gs = grad([y for y, _ in pairs], [xs[i] for i in diff], [v for _, v in pairs], create_graph=True,
                  allow_unused=True)
        return tuple(Tensor._wrap(np.zeros(xs[i]._data.shape)) if g is None else g for i, g in zip(diff, gs))

    try:
        return gradcheck(first_order, [*ins, *gos], eps=eps, atol=atol, rtol=rtol, raise_exception=True,
                         fast_mode=fast_mode, nondet_tol=nondet_tol, seed=seed)
    except GradcheckError as e:
        legend = (f"gradgradcheck (second derivatives): 'output k' is the gradient for input {diff}[k] of the "
                  f"function; 'input i' is the function's input i for i < {n}, grad_output i - {n} for i >= {n}. ")
        if raise_exception:
            raise GradcheckError(legend + str(e)) from None
        return False


__all__ = ["gradgradcheck"]
