"""Argument checks shared by the losses: reductions (with torch's legacy size_average/reduce), class-index targets,
class weights. Every error names the loss, the argument and the shapes, and is raised before numpy sees the data.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...autograd import grad_mode
from ...tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def reduction_arg(name: str, size_average: bool | None, reduce: bool | None, reduction: str,
                  allowed: tuple = REDUCTIONS) -> str:
    """The reduction to use: torch's legacy mapping of size_average/reduce (with its warning), then validated."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if (size_average and reduce) else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      f"instead.", stacklevel=3)
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction (expected one of {choices})")
    return reduction


def reduce_tensor(loss: Tensor, reduction: str) -> Tensor:
    """Apply 'none' | 'mean' | 'sum' to an elementwise loss."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_tensor(x: Any, name: str, arg: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def check_float_input(x: Any, name: str) -> None:
    check_tensor(x, name, "input")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating-point input but got {x.dtype} (input shape "
                           f"{tuple(x.shape)}); convert it with .float() first")


def check_no_grad_weight(w: Tensor | None, name: str, arg: str) -> None:
    """torch's losses are not differentiable in their class/element weights: refuse one that requires grad."""
    if w is not None and w.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError(f"{name}: the loss is not differentiable with respect to argument '{arg}' (shape "
                           f"{tuple(w.shape)}), so it cannot have requires_grad=True; pass {arg}.detach()")


def warn_size_mismatch(input: Tensor, target: Tensor, name: str) -> None:
    """torch warns (then broadcasts) when an elementwise loss gets a target of another size."""
    from ..._tensor_args import broadcast_check

    if tuple(target.shape) != tuple(input.shape):
        broadcast_check(tuple(input.shape), tuple(target.shape), name)
        warnings.warn(f"{name}: Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", stacklevel=3)


def class_weight(weight: Tensor | None, input: Tensor, name: str) -> np.ndarray | None:
    """The (C,) class-weight array in the input's dtype, C = input.shape[1] (or input.shape[0] when unbatched)."""
    if weight is None:
        return None
    check_tensor(weight, name, "weight")
    C = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if tuple(weight.shape) != (C,):
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {C} classes or no classes but "
                           f"got weight tensor of shape {tuple(weight.shape)} (input shape {tuple(input.shape)})")
    check_no_grad_weight(weight, name, "weight")
    return weight._data.astype(input._data.dtype, copy=False)


def class_target(input: Tensor, target: Any, ignore_index: int, name: str) -> np.ndarray:
    """Check class-index targets against the input and return them as an int64 array.

    input (C) with target (), or input (N, C, d1, ...) with target (N, d1, ...); every target that is not
    ignore_index must lie in [0, C).
    """
    check_tensor(target, name, "target")
    xs, ts = tuple(input.shape), tuple(target.shape)
    if input.ndim == 0:
        raise ValueError(f"{name}: expected input of shape (C) or (N, C, d1, ...), got a 0-d input")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"{name}: expected target dtype to be Long or Byte (class indices), but got "
                           f"{target.dtype} (input shape {xs}, target shape {ts}); use target.long(), or a float "
                           f"target of the input's shape for class probabilities")
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"{name}: an unbatched input of shape {xs} needs a 0-d target, got target shape {ts}")
    elif target.ndim == 0 or ts[0] != xs[0]:
        batch = "a 0-d target" if target.ndim == 0 else f"target batch_size ({ts[0]})"
        raise ValueError(f"{name}: Expected input batch_size ({xs[0]}) to match {batch} (input shape {xs}, "
                         f"target shape {ts})")
    elif ts != xs[:1] + xs[2:]:
        raise RuntimeError(f"{name}: Expected target size {xs[:1] + xs[2:]}, got {ts} (input shape {xs})")
    t = target._data.astype(np.int64, copy=False)
    C = xs[1] if input.ndim >= 2 else xs[0]
    if t.size == 0 or (t.min() >= 0 and t.max() < C):  # two reductions: the usual all-in-range case stops here
        return t
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        pos = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), t.shape))
        where = f" (at position {pos[0] if len(pos) == 1 else pos})" if t.ndim else ""
        raise IndexError(f"{name}: target {int(t[pos])} is out of bounds for {C} classes{where}")
    return t
