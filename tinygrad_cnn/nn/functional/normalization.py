"""nn.functional: batch, layer and group normalisation, on the BatchNorm primitive (ops/batch_norm.py): layer and group
norm normalise rows of the input as BatchNorm's channels, then scale and shift.

Normalisation divides by sqrt(biased variance + eps) as torch does; the running variance of batch_norm tracks the
unbiased estimate (n / (n - 1) times the biased one), also as torch does.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...ops.batch_norm import BatchNorm, ChannelAffine, update_running
from ...tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm"]


def _check_vector(t: Tensor | None, C: int, arg: str, name: str) -> None:
    if t is not None and tuple(t.shape) != (C,):
        raise RuntimeError(f"{name}: {arg} should contain {C} elements not "
                           f"{t.numel() if t.ndim == 1 else tuple(t.shape)}")


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Normalise each channel C over the batch and spatial dims, then scale by weight and shift by bias.

    Shape: input (N, C), (N, C, L) or (N, C, H, W) (any (N, C, *)); running_mean, running_var, weight, bias (C).
    Output: the input's shape. training=True uses the batch statistics and, when running statistics are given,
    updates them in place: running = (1 - momentum) * running + momentum * batch (unbiased variance).
    training=False uses running_mean and running_var.

    Raises:
        ValueError: fewer than 2 dims, one value per channel in training, only one running statistic given.
        RuntimeError: a statistic or parameter without C elements; eval mode without running statistics.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, *), got shape {tuple(input.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must either both be None or neither be None")
    C = input.shape[1]
    for t, arg in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                   (bias, "bias")):
        _check_vector(t, C, arg, "batch_norm")
    per_channel = input.numel() // C if C else 0
    if training:
        if per_channel <= 1 and input.numel():
            raise ValueError(f"batch_norm: Expected more than 1 value per channel when training, got input size "
                             f"{tuple(input.shape)}")
        if input.numel() == 0:
            return input * 1.0
        stats = (None, None) if running_mean is None else (running_mean._data, running_var._data)  # type: ignore
        y = BatchNorm.apply(input, weight, bias, *stats, momentum, eps)  # updates the running stats in place
        for stat in (running_mean, running_var):
            if stat is not None:
                stat._version_box[0] += 1
        return y
    if running_mean is None:
        raise RuntimeError("batch_norm: running_mean must be defined in evaluation mode (pass the running "
                           "statistics or training=True)")
    # eval: one affine map per channel, y = x * scale + shift (torch's CPU kernel folds the statistics the same way)
    scale = (running_var + eps) ** -0.5  # type: ignore[operator]
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return ChannelAffine.apply(input, scale, shift)


def _update_running(stat: Tensor, batch: np.ndarray, momentum: float) -> None:
    """stat <- (1 - momentum) stat + momentum batch, in place in stat's dtype (no graph: buffers have no grad)."""
    update_running(stat._data, batch.reshape(stat._data.shape), momentum)
    stat._version_box[0] += 1


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05) -> Tensor:
    """Normalise over the last len(normalized_shape) dims, then scale and shift elementwise.

    Shape: input (*, *normalized_shape); weight, bias (*normalized_shape). Output: the input's shape.

    Raises:
        RuntimeError: the input's trailing dims, weight or bias differ from normalized_shape.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm(): argument 'input' must be Tensor, not {type(input).__name__}")
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(n) for n in normalized_shape)
    k = len(ns)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != ns or input.ndim < k:
        raise RuntimeError(f"layer_norm: Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {tuple(input.shape)}")
    for t, arg in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"layer_norm: Expected {arg} to be of same shape as normalized_shape {ns}, but got "
                               f"{arg} of shape {tuple(t.shape)}")
    if input.numel() == 0:
        return _affine(input * 1.0, weight, bias, ns)
    return _affine(_normalise_rows(input, int(np.prod(ns)), eps), weight, bias, ns)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-05) -> Tensor:
    """Normalise each group of C / num_groups channels over (channels in group, *spatial), per sample.

    Shape: input (N, C, *); weight, bias (C). Output: the input's shape.

    Raises:
        RuntimeError: C not divisible by num_groups; weight or bias without C elements.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"group_norm(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim} (shape {tuple(input.shape)})")
    N, C = input.shape[0], input.shape[1]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but "
                           f"got input of shape {tuple(input.shape)} and num_groups={num_groups}")
    for t, arg in ((weight, "weight"), (bias, "bias")):
        _check_vector(t, C, arg, "group_norm")
    if input.numel() == 0:
        return _affine(input * 1.0, weight, bias, (1, C) + (1,) * (input.ndim - 2))
    y = _normalise_rows(input, input.numel() // (N * num_groups), eps)
    return y if weight is None and bias is None else ChannelAffine.apply(y, weight, bias)


def _normalise_rows(x: Tensor, width: int, eps: float) -> Tensor:
    """x seen as rows of `width` consecutive values, each normalised by its own mean and biased variance: the
    BatchNorm primitive with per-sample statistics on x as (N, rows per sample, width) (one node; saves only x and
    the per-row statistics; the batch dim stays dim 0, so a traced reshape follows a dynamic batch).
    Shape: x (*) -> (*), each sample's numel divisible by width."""
    lead = x.shape[0] if x.ndim > 1 and x.numel() > width else 1
    rows = x.reshape(lead, -1, width)                        # (N, rows per sample, width)
    return BatchNorm.apply(rows, None, None, None, None, 0.0, eps, True).reshape(*x.shape)
