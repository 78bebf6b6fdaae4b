"""nn.functional: pad, one_hot, normalize (torch.nn.functional names, arguments and defaults).

Non-constant padding is an index gather along each padded axis (x[..., idx] with a computed idx): GetItem's
backward scatter-adds, so an element copied several times (replicate, reflect, circular) collects all its gradients.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...ops.index import GetItem
from ...ops.shape import Pad
from ...tensor import Tensor

__all__ = ["pad", "one_hot", "normalize"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """For each output position along one axis padded by (before, after), the input position it copies."""
    i = np.arange(-before, n + after)
    if mode == "reflect":    # mirror without repeating the edge: -1 -> 1, n -> n - 2
        return np.abs(n - 1 - np.abs(n - 1 - np.abs(i)))
    if mode == "replicate":  # repeat the edge element
        return np.clip(i, 0, n - 1)
    return i % n             # circular: wrap around


def _check_pad(input: Tensor, pad: Sequence[int], mode: str, value: float | None) -> tuple:
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    if any(not isinstance(p, (int, np.integer)) or isinstance(p, bool) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints, got {tuple(pad)}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2 (got pad={pad})")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {input.ndim} (shape "
                           f"{tuple(input.shape)})")
    if mode not in _MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode!r} (expected one of {', '.join(_MODES)})")
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
        k = len(pad) // 2
        if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
            raise NotImplementedError(
                f"pad: Padding size {len(pad)} is not supported for {input.ndim}D input tensor (shape "
                f"{tuple(input.shape)}). Supported combinations for non-constant padding: 2D or 3D input with "
                f"padding size 2 (pads the last dim), 3D or 4D with 4 (last 2 dims), 4D or 5D with 6 (last 3 dims)")
    return pad


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dims: pad = (left, right) for the last dim, then (top, bottom), (front, back).

    Modes: 'constant' (fill with value, default 0; negative pads crop), 'reflect' (mirror, edge not repeated;
    pad < size), 'replicate' (repeat the edge), 'circular' (wrap around; pad <= size). Shape: (*, d_k, ..., d_1)
    -> (*, d_k + pad_k, ..., d_1 + pad_1), pad_j the sum of the pair for dim j counted from the end.

    Raises:
        RuntimeError: odd or too long pad, value with a non-constant mode, a pad too large for reflect/circular.
        NotImplementedError: unknown mode, or a non-constant pad of a dim count torch does not support.
    """
    pads = _check_pad(input, pad, mode, value)
    k = len(pads) // 2
    per_axis = [(0, 0)] * (input.ndim - k) + [(pads[2 * j], pads[2 * j + 1]) for j in reversed(range(k))]
    if mode == "constant":
        return Pad.apply(input, tuple(per_axis), 0 if value is None else value)
    x = input
    if mode == "circular":  # torch crops negative pads first and wraps around what is left
        crop = tuple((min(b, 0), min(a, 0)) for b, a in per_axis)
        x = Pad.apply(input, crop, 0) if any(b or a for b, a in crop) else input
        per_axis = [(max(b, 0), max(a, 0)) for b, a in per_axis]
    for axis, (before, after) in enumerate(per_axis):
        if not before and not after:
            continue
        n = x.shape[axis]
        limit = n if mode == "circular" else n - 1
        if n == 0 or (mode != "replicate" and max(before, after) > limit):
            rule = "at most" if mode == "circular" else "less than"
            raise RuntimeError(f"pad: mode '{mode}' needs each padding to be {rule} the size of its dimension, but "
                               f"got padding ({before}, {after}) at dimension {axis} of input {tuple(input.shape)}")
        idx = _source_index(mode, n, before, after)                     # negative pads simply crop
        x = GetItem.apply(x, (slice(None),) * axis + (idx,))            # (..., n + before + after, ...)
    return x


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: out[..., c] = 1 where tensor == c. Shape: (*) -> (*, num_classes).

    num_classes=-1 uses tensor.max() + 1. Not differentiable (an integer result).

    Raises:
        RuntimeError: tensor not int64, a negative class, a class >= num_classes, -1 with an empty tensor.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    t = tensor._data
    if t.dtype != np.int64:
        raise RuntimeError(f"one_hot: one_hot is only applicable to index tensor of type LongTensor (got "
                           f"{tensor.dtype}, shape {tuple(tensor.shape)}); use .long()")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor (pass num_classes)")
        num_classes = int(t.max()) + 1
    if t.size and t.min() < 0:
        pos = tuple(int(i) for i in np.unravel_index(int(np.argmin(t)), t.shape))
        raise RuntimeError(f"one_hot: Class values must be non-negative (got {int(t.min())} at position {pos})")
    if t.size and t.max() >= num_classes:
        pos = tuple(int(i) for i in np.unravel_index(int(np.argmax(t)), t.shape))
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes (got {int(t.max())} at "
                           f"position {pos} with num_classes={num_classes})")
    return Tensor._wrap((t[..., None] == np.arange(num_classes)).astype(np.int64))   # (*, num_classes)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p along dim, eps). Shape: (*) -> (*)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize(): argument 'input' must be Tensor, not {type(input).__name__}")
    if p == float("inf"):
        denom = input.abs().amax(dim, keepdim=True).clamp_min(eps)
    else:
        # max(||x||_p, eps) = (max(sum |x|^p, eps^p))^(1/p): clamping before the root keeps the gradient of an
        # all-zero slice 0 (as torch's), where the root's derivative at 0 would give inf * 0 = nan
        powered = input * input if p == 2 else input.abs() ** p
        denom = powered.sum(dim, keepdim=True).clamp_min(eps ** p) ** (1.0 / p)
    result = input / denom
    if out is not None:
        out.copy_(result)
        return out
    return result
