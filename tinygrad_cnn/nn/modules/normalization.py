"""BatchNorm1d, BatchNorm2d and LayerNorm (torch.nn semantics, buffers and state_dict keys)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .. import init
from ...tensor import Tensor
from ._utils import empty_parameter, factory_dtype
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"]


def _affine_parameters(module: Module, shape: Any, bias: bool, dt: np.dtype) -> None:
    """Register the learnable scale `weight` and shift `bias` of that shape, or None for both when shape is None
    (affine=False); bias=False keeps the weight only. Values are set by _reset_affine."""
    weight = empty_parameter(shape, dt) if shape is not None else None
    module.register_parameter("weight", weight)
    has_bias = weight is not None and bias
    module.register_parameter("bias", empty_parameter(shape, dt) if has_bias else None)


def _reset_affine(module: Module) -> None:
    """weight = 1, bias = 0 (torch's initialisation of every normalisation layer), where they exist."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: parameters weight/bias (affine), buffers running_mean, running_var and
    num_batches_tracked (track_running_stats).

    Training: normalise with the batch's mean and biased variance; update running_mean/var with
    running = (1 - momentum) * running + momentum * batch_stat (the unbiased variance goes into running_var);
    momentum=None uses the cumulative average, factor 1 / num_batches_tracked.
    Eval: normalise with the running statistics (or batch statistics if track_running_stats=False).
    """

    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = factory_dtype(dtype, device, type(self).__name__)
        _affine_parameters(self, num_features if affine else None, bias, dt)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, dt)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, dt)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"expected {want} input (got {input.ndim}D input): {type(self).__name__}"
                             f"(num_features={self.num_features}) got input of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{type(self).__name__}(num_features={self.num_features}) got input with "
                               f"{input.shape[1]} channels (dim 1), shape {tuple(input.shape)}")

    def _count_batch(self) -> float:
        """In training, count the batch in num_batches_tracked; the running-average factor of this step
        (momentum, or 1 / num_batches_tracked with momentum=None). SyncBatchNorm shares it."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1  # a counter buffer: no graph, bump its version as add_ would
            self.num_batches_tracked._version_box[0] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
        return factor

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = self._count_batch()
        # batch statistics in training, and in eval when there are no running statistics to use
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_running else None,
                            self.running_var if use_running else None, self.weight, self.bias, bn_training,
                            factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input, per channel C. Shape: input -> same."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input, per channel C (statistics over N, H, W). Shape: same."""

    _dims = (4,)


class LayerNorm(Module):
    """Normalise over the trailing dims `normalized_shape` of each sample, then scale by weight and add bias.

    Shape:
        input (*, *normalized_shape) -> same; weight and bias have shape normalized_shape.
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = factory_dtype(dtype, device, "LayerNorm")
        _affine_parameters(self, self.normalized_shape if elementwise_affine else None, bias, dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the C channels into num_groups groups; normalise each over (its channels, *spatial), per sample, then
    scale by weight and add bias per channel.

    Shape:
        input (N, C, *) -> same; weight and bias have shape (C,).

    Raises:
        ValueError: num_channels not divisible by num_groups.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = factory_dtype(dtype, device, "GroupNorm")
        _affine_parameters(self, num_channels if affine else None, bias, dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
