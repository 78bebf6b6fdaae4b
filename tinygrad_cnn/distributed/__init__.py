"""`tg.distributed`: torch.distributed on MPI (data-parallel training across processes and machines).

    import tinygrad_cnn.distributed as dist
    dist.init_process_group("mpi")                 # in each process started by `mpiexec -n 2 python train.py`
    t = tg.ones(3) * dist.get_rank()
    dist.all_reduce(t)                             # in place: every rank now holds 0 + 1 = 1

Needs the `distributed` extra (mpi4py + the mpich wheel); without it `import tinygrad_cnn` still works,
is_available() is False and init_process_group raises an ImportError naming the extra. See docs/distributed.md.
"""
from ._backend import (ProcessGroup, destroy_process_group, get_backend, get_rank, get_world_size,
                       init_process_group, is_available, is_initialized)
from . import launch  # noqa: F401 - mpiexec helpers (tinygrad-cnn train --nproc)
from ._work import Work
from .collectives import ReduceOp, all_gather, all_reduce, barrier, broadcast, gather, reduce, scatter

__all__ = ["ProcessGroup", "ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "gather", "get_backend", "get_rank", "get_world_size", "group",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available", "reduce", "scatter"]


def is_mpi_available() -> bool:
    """torch's name for: the MPI backend can be used here."""
    return is_available()


class _GroupNamespace:
    """`dist.group.WORLD`: the default process group (None before init_process_group, as torch)."""

    @property
    def WORLD(self) -> "ProcessGroup | None":
        from ._backend import _STATE

        return _STATE["default"]


group = _GroupNamespace()
