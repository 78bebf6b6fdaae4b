"""Differentiable collectives (torch.distributed.nn.functional): the result is a new Tensor on the tape.

all_reduce with SUM: y = sum over ranks of x. Every rank's loss may depend on every rank's y, so the gradient
reaching rank r's x is the sum over ranks of the gradients arriving at y: the backward is the same all-reduce.
SyncBatchNorm builds its cross-rank batch statistics from this.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.function import Function
from ...ops import _dual
from ...tensor import Tensor
from .._backend import ProcessGroup, mpi, resolve
from .._work import wait_requests
from ..collectives import ReduceOp

__all__ = ["all_reduce"]


class AllReduceSum(Function):
    """y = sum over the group's ranks of x (a copy; x is not changed). Its own adjoint."""

    array_function = True
    _backward_name = "AllReduceSumBackward0"

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, pg: ProcessGroup) -> np.ndarray:
        ctx.pg = pg
        out = np.ascontiguousarray(x).copy()
        wait_requests([pg.comm.Iallreduce(mpi().IN_PLACE, out, mpi().SUM)], pg, "all_reduce (autograd)")
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> tuple:
        return _dual.call(AllReduceSum, g, ctx.pg), None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None) -> Tensor:
    """The sum over ranks of `tensor`, as a new differentiable Tensor (same shape); op must be SUM."""
    if op is not ReduceOp.SUM:
        raise NotImplementedError(f"tg.distributed.nn.functional.all_reduce: only ReduceOp.SUM is differentiable "
                                  f"here, got {op!r}")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"all_reduce: tensor must be a Tensor, got {type(tensor).__name__}")
    return AllReduceSum.apply(tensor, resolve(group, "all_reduce"))
