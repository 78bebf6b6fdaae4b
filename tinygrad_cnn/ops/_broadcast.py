"""Undo broadcasting in a gradient: the only place broadcast grads are summed back (STYLE rule 4)."""
from __future__ import annotations

from typing import Any

import numpy as np


def _shape(a: Any) -> tuple:
    """The shape an operand broadcasts with: a Python scalar has shape ()."""
    return getattr(a, "shape", ())


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` (broadcast shape) down to `shape`: leading extra dims, then dims that were 1 in `shape`.

    Shape: grad (*B) with B = broadcast(shape, other) -> (*shape).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if ones:
        grad = grad.sum(axis=ones, keepdims=True)
    return grad.reshape(shape)
