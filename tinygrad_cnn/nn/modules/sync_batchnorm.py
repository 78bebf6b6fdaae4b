"""SyncBatchNorm: batch normalisation whose training statistics are those of the whole batch across all ranks.

With DistributedDataParallel each rank sees B / world_size samples; plain BatchNorm would normalise with that slice's
statistics. SyncBatchNorm all-reduces the per-channel sums and counts (a differentiable all-reduce, so gradients
flow across ranks too) and normalises with the global mean and biased variance; the running statistics get the
global mean and unbiased variance. Outside training, or without an initialised process group of more than one rank,
it is BatchNorm (torch's rule).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor
from ..functional.normalization import _update_running
from .module import Module
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Shape: input (N, C, *) -> same; statistics per channel C over N and * of every rank's batch."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input): SyncBatchNorm("
                             f"num_features={self.num_features}) got input of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"SyncBatchNorm(num_features={self.num_features}) got input with {input.shape[1]} "
                               f"channels (dim 1), shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        from ... import distributed as dist

        self._check_input_dim(input)
        need_sync = self.training and dist.is_available() and dist.is_initialized() and \
            dist.get_world_size(self.process_group) > 1
        if not need_sync:
            return super().forward(input)
        factor = self._count_batch()
        return _sync_batch_norm(self, input, factor)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """A copy of the module tree with every BatchNorm*d replaced by a SyncBatchNorm that shares its parameters
        and buffers (the returned module is `module` itself unless module is a BatchNorm)."""
        root = _converted(module, process_group)
        stack = [root]
        while stack:  # the module tree, walked with an explicit stack
            parent = stack.pop()
            for name, child in list(parent._modules.items()):
                if child is None:
                    continue
                new = _converted(child, process_group)
                if new is not child:
                    parent._modules[name] = new
                stack.append(new)
        return root


def _converted(module: Module, process_group: Any) -> Module:
    if not isinstance(module, _BatchNorm) or isinstance(module, SyncBatchNorm):
        return module
    out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                        module.track_running_stats, process_group, bias=module.bias is not None or not module.affine)
    for name in ("weight", "bias"):
        out._parameters[name] = module._parameters.get(name)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        out._buffers[name] = module._buffers.get(name)
    out.train(module.training)
    for key, value in module.__dict__.items():  # e.g. a qconfig, as torch copies
        if key == "qconfig":
            setattr(out, key, value)
    return out


def _sync_batch_norm(bn: SyncBatchNorm, x: Tensor, factor: float) -> Tensor:
    """Normalise x (N, C, *) with the statistics of all ranks' batches; update bn's running statistics."""
    from ...creation import cat
    from ...distributed.nn.functional import all_reduce

    C = x.shape[1]
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, C) + (1,) * (x.ndim - 2)
    count_local = Tensor._wrap(np.array([x.numel() // C], x._data.dtype))
    totals = all_reduce(cat([x.sum(dims), count_local]), group=bn.process_group)   # (C + 1,): sums, count
    count = float(totals._data[C])
    if count <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got {int(count)} over all ranks "
                         f"(input size {tuple(x.shape)})")
    mean = totals[:C] / count
    centred = x - mean.reshape(shape)
    var = all_reduce((centred * centred).sum(dims), group=bn.process_group) / count     # biased, (C,)
    if bn.training and bn.track_running_stats and bn.running_mean is not None:
        _update_running(bn.running_mean, mean._data, factor)
        _update_running(bn.running_var, var._data * (count / (count - 1)), factor)
    y = centred / (var + bn.eps).sqrt().reshape(shape)
    if bn.weight is not None:
        y = y * bn.weight.reshape(shape)
    if bn.bias is not None:
        y = y + bn.bias.reshape(shape)
    return y

