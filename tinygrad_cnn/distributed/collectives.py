"""Collectives on Tensors, in place, with torch.distributed's names, arguments and rules.

all_reduce, broadcast, all_gather, reduce, gather, scatter, barrier. Each starts one MPI non-blocking collective
on the group's communicator; async_op=True returns a Work whose wait() completes it, otherwise the call returns None
once the result is in place. Tensors keep their memory: results are written into `tensor._data` (a non-contiguous
tensor goes through a contiguous copy) and the version counter moves, as an in-place op's would.
"""
from __future__ import annotations

import enum
from typing import Any, Callable, Sequence

import numpy as np

from ..tensor import Tensor
from ._backend import ProcessGroup, mpi, resolve
from ._work import Work, finish_or_handle

__all__ = ["ReduceOp", "all_reduce", "broadcast", "all_gather", "reduce", "gather", "scatter", "barrier"]

_DTYPES = frozenset(np.dtype(d) for d in ("float32", "float64", "int64", "int32", "int16", "int8", "uint8"))


class ReduceOp(enum.Enum):
    """How all_reduce / reduce combine the ranks' tensors. AVG is SUM divided by the world size (integer tensors:
    truncated toward zero, as NCCL does)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


def _mpi_op(op: Any, name: str) -> Any:
    if not isinstance(op, ReduceOp):
        raise ValueError(f"{name}: op must be a tg.distributed.ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    MPI = mpi()
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX}[op]


def _check(tensor: Any, name: str, arg: str = "tensor") -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: {arg} must be a Tensor, got {type(tensor).__name__}")
    if tensor._data.dtype not in _DTYPES:
        raise TypeError(f"{name}: {arg} has dtype {tensor.dtype} (shape {tuple(tensor.shape)}); the MPI backend "
                        f"supports float32, float64 and integer tensors")
    return tensor._data


def _inplace_buffer(tensor: Tensor, name: str) -> tuple[np.ndarray, Callable[[], None]]:
    """A C-contiguous array MPI may write, and the function that makes the result the tensor's (version bump)."""
    data = _check(tensor, name)
    if not data.flags.writeable:
        raise RuntimeError(f"{name}: the tensor (shape {tuple(tensor.shape)}) is read-only (an expanded view?); "
                           f"pass a tensor that owns its memory, e.g. t.clone()")
    buf = data if data.flags.c_contiguous else np.ascontiguousarray(data)

    def commit() -> None:
        if buf is not data:
            np.copyto(data, buf)
        tensor._version_box[0] += 1

    return buf, commit


def _average(buf: np.ndarray, n: int) -> None:
    if buf.dtype.kind == "f":
        buf /= n
    else:
        np.copyto(buf, np.sign(buf) * (np.abs(buf) // n))


def _rank_arg(rank: int, pg: ProcessGroup, name: str, arg: str) -> int:
    if not isinstance(rank, (int, np.integer)) or not 0 <= int(rank) < pg.size():
        raise ValueError(f"{name}: {arg}={rank!r} is not a rank of the group (ranks 0..{pg.size() - 1})")
    return int(rank)


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Combine `tensor` over all ranks with `op`; every rank ends with the result, in place."""
    pg = resolve(group, "all_reduce")
    mop = _mpi_op(op, "all_reduce")
    buf, commit = _inplace_buffer(tensor, "all_reduce")

    def finish() -> None:
        if op is ReduceOp.AVG:
            _average(buf, pg.size())
        commit()

    req = pg.comm.Iallreduce(mpi().IN_PLACE, buf, mop)
    return finish_or_handle(Work([req], pg, "all_reduce", finish, [tensor]), async_op)


def broadcast(tensor: Tensor, src: int, group: Any = None, async_op: bool = False) -> Work | None:
    """Copy rank `src`'s tensor into every other rank's tensor (same shape and dtype on every rank)."""
    pg = resolve(group, "broadcast")
    root = _rank_arg(src, pg, "broadcast", "src")
    buf, commit = _inplace_buffer(tensor, "broadcast")
    req = pg.comm.Ibcast(buf, root=root)
    return finish_or_handle(Work([req], pg, "broadcast", commit, [tensor]), async_op)


def all_gather(tensor_list: list, tensor: Tensor, group: Any = None, async_op: bool = False) -> Work | None:
    """tensor_list[i] <- rank i's `tensor`, on every rank. tensor_list holds world_size tensors of its shape."""
    pg = resolve(group, "all_gather")
    send = np.ascontiguousarray(_check(tensor, "all_gather"))
    _check_list(tensor_list, pg, send, "all_gather", "tensor_list")
    recv = np.empty((pg.size(),) + send.shape, send.dtype)
    req = pg.comm.Iallgather(send, recv)
    return finish_or_handle(Work([req], pg, "all_gather", lambda: _scatter_rows(recv, tensor_list),
                                 tensor_list), async_op)


def reduce(tensor: Tensor, dst: int, op: ReduceOp = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Combine `tensor` over all ranks into rank `dst`'s tensor; the other ranks' tensors are left unchanged."""
    pg = resolve(group, "reduce")
    root = _rank_arg(dst, pg, "reduce", "dst")
    mop = _mpi_op(op, "reduce")
    buf, commit = _inplace_buffer(tensor, "reduce")
    if pg.rank() == root:
        req = pg.comm.Ireduce(mpi().IN_PLACE, buf, mop, root=root)

        def finish() -> None:
            if op is ReduceOp.AVG:
                _average(buf, pg.size())
            commit()
    else:
        req = pg.comm.Ireduce(buf, None, mop, root=root)
        finish = None
    return finish_or_handle(Work([req], pg, "reduce", finish, [tensor]), async_op)


def gather(tensor: Tensor, gather_list: list | None = None, dst: int = 0, group: Any = None,
           async_op: bool = False) -> Work | None:
    """On rank `dst`, gather_list[i] <- rank i's `tensor`; the other ranks pass gather_list=None."""
    pg = resolve(group, "gather")
    root = _rank_arg(dst, pg, "gather", "dst")
    send = np.ascontiguousarray(_check(tensor, "gather"))
    _root_list(gather_list, pg.rank() == root, "gather", "gather_list", "destination")
    recv = None
    if pg.rank() == root:
        _check_list(gather_list, pg, send, "gather", "gather_list")
        recv = np.empty((pg.size(),) + send.shape, send.dtype)
    req = pg.comm.Igather(send, recv, root=root)
    finish = (lambda: _scatter_rows(recv, gather_list)) if recv is not None else None
    return finish_or_handle(Work([req], pg, "gather", finish, gather_list or []), async_op)


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int = 0, group: Any = None,
            async_op: bool = False) -> Work | None:
    """Every rank i receives scatter_list[i] of rank `src` into `tensor`; the other ranks pass scatter_list=None."""
    pg = resolve(group, "scatter")
    root = _rank_arg(src, pg, "scatter", "src")
    buf, commit = _inplace_buffer(tensor, "scatter")
    _root_list(scatter_list, pg.rank() == root, "scatter", "scatter_list", "source")
    send = None
    if pg.rank() == root:
        _check_list(scatter_list, pg, buf, "scatter", "scatter_list")
        send = np.stack([t._data for t in scatter_list])
    req = pg.comm.Iscatter(send, buf, root=root)
    return finish_or_handle(Work([req], pg, "scatter", commit, [tensor]), async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Return once every rank of the group has called barrier."""
    pg = resolve(group, "barrier")
    return finish_or_handle(Work([pg.comm.Ibarrier()], pg, "barrier"), async_op)


def _root_list(lst: Any, at_root: bool, name: str, arg: str, role: str) -> None:
    if at_root and not lst:
        raise ValueError(f"{name}: Argument ``{arg}`` must be specified on {role} rank.")
    if not at_root and lst:
        raise ValueError(f"{name}: Argument ``{arg}`` must NOT be specified on non-{role} ranks.")


def _check_list(tensors: Sequence[Any], pg: ProcessGroup, like: np.ndarray, name: str, arg: str) -> None:
    if not isinstance(tensors, (list, tuple)) or len(tensors) != pg.size():
        got = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{name}: {arg} must be a list of world_size={pg.size()} tensors, got {got}")
    for i, t in enumerate(tensors):
        arr = _check(t, name, f"{arg}[{i}]")
        if arr.shape != like.shape or arr.dtype != like.dtype:
            raise ValueError(f"{name}: {arg}[{i}] has shape {tuple(arr.shape)} and dtype {arr.dtype}, but the "
                             f"tensor has shape {tuple(like.shape)} and dtype {like.dtype}")


def _scatter_rows(rows: np.ndarray, tensors: Sequence[Tensor]) -> None:
    for row, t in zip(rows, tensors):
        np.copyto(t._data, row)
        t._version_box[0] += 1
