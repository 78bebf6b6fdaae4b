"""Gradient clipping (torch.nn.utils.clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_).

    loss.backward()
    total = tg.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # grads scaled in place
    opt.step()

Gradients are changed in place (their arrays), as torch's `.grad.mul_()` / `.clamp_()` would.
"""
from __future__ import annotations

import math
import types
import warnings
from typing import Iterable

import numpy as np

from ... import dtypes
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]

_TensorOrTensors = Tensor | Iterable[Tensor]


def _vector_norm(x: np.ndarray, p: float) -> np.ndarray:
    """torch.linalg.vector_norm of a whole array, as a 0-d array of x's dtype."""
    a = np.abs(x)
    if p == math.inf:
        out = a.max(initial=0)
    elif p == -math.inf:
        out = a.min()
    elif p == 0:
        out = np.count_nonzero(a)
    elif p == 1:
        out = a.sum()
    elif p == 2:
        out = np.sqrt(np.vdot(a, a))  # vdot flattens; one pass, no squared copy
    else:
        out = (a ** p).sum() ** (1.0 / p)
    return np.asarray(out, dtype=x.dtype)


def get_total_norm(tensors: _TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The norm of the norms of `tensors` (as if all were concatenated into one vector).

    Returns a 0-d Tensor of the tensors' (promoted) dtype; 0.0 of the default dtype when there are none.

    Raises:
        RuntimeError: error_if_nonfinite and the total is nan or inf.
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return Tensor._wrap(np.array(0.0, dtype=dtypes.get_default_dtype().np))
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    total = _vector_norm(np.stack(norms), norm_type)  # np.stack promotes mixed dtypes, as torch.stack
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters: _TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale every `.grad` by min(1, max_norm / (total_norm + 1e-6)), in place."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    if len(grads) == 0:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    one = total.dtype.type  # computed in the norm's dtype (float32 stays float32), as torch does
    coef = min(one(float(max_norm)) / (total + one(1e-6)), one(1.0))
    for g in grads:
        np.multiply(g._data, coef, out=g._data, casting="unsafe")
        g._version_box[0] += 1


def clip_grad_norm_(parameters: _TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients of `parameters` so that their total `norm_type`-norm is at most `max_norm`.

    Args:
        parameters: a Tensor or an iterable of Tensors; those whose `.grad` is None are skipped.
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm; `inf` for the max-norm.
        error_if_nonfinite: raise instead of scaling by a nan/inf norm.
        foreach: accepted for torch compatibility (one numpy code path).

    Returns:
        The total norm of the gradients before clipping, a 0-d Tensor.

    Raises:
        RuntimeError: error_if_nonfinite and the total norm is nan or inf.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(parameters: _TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every `.grad` of `parameters` into [-clip_value, clip_value], in place."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._version_box[0] += 1
