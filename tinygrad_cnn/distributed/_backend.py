"""The process group: an MPI communicator behind torch.distributed's init/destroy/rank/world-size functions.

mpi4py and an MPI (the `distributed` extra: `pip install 'tinygrad_cnn[distributed]'`) are imported on first use
only, so `import tinygrad_cnn` works without them. The default group is the one documented backend switch of this
package: module state set by init_process_group and cleared by destroy_process_group.
"""
from __future__ import annotations

import datetime
import sys
import traceback
from typing import Any

_EXTRA_HINT = ("the MPI backend of tinygrad_cnn.distributed needs mpi4py and an MPI library: "
               "pip install 'tinygrad_cnn[distributed]' (mpi4py + the mpich wheel, which brings mpiexec)")
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch's default for non-NCCL backends
_STATE: dict[str, Any] = {"default": None}


def mpi() -> Any:
    """The mpi4py.MPI module; ImportError naming the extra when mpi4py (or its MPI library) is missing."""
    if "mpi4py.MPI" not in sys.modules:
        try:
            import mpi4py
        except ImportError as err:
            raise ImportError(_EXTRA_HINT) from err
        mpi4py.rc.thread_level = "funneled"   # one thread talks to MPI; MULTIPLE would add locks to every call
    try:
        from mpi4py import MPI
    except ImportError as err:  # mpi4py present but no MPI shared library found
        raise ImportError(f"{_EXTRA_HINT} ({err})") from err
    return MPI


def is_available() -> bool:
    """True when the MPI backend can be used (mpi4py and an MPI library import)."""
    try:
        mpi()
    except ImportError:
        return False
    return True


class ProcessGroup:
    """A group of ranks: a private duplicate of an MPI communicator (user MPI traffic cannot interleave with
    ours), its rank and size, and the timeout after which a collective that never completes raises."""

    def __init__(self, comm: Any, timeout: datetime.timedelta) -> None:
        self.comm = comm
        self._rank, self._size = comm.Get_rank(), comm.Get_size()
        self.timeout = timeout

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def name(self) -> str:
        return "mpi"

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', rank={self._rank}, size={self._size})"


def default_group(op: str = "") -> ProcessGroup:
    pg = _STATE["default"]
    if pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group." + (f" (called by {op})" if op else ""))
    return pg


def resolve(group: Any, op: str) -> ProcessGroup:
    """The group an op runs on: `group` if given, else the default one."""
    if group is None:
        return default_group(op)
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{op}: group must be a ProcessGroup (or None for the default group), got "
                        f"{type(group).__name__}")
    return group


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the default process group: every process started by `mpiexec -n N` (or a single process on its own).

    Rank and world size come from MPI; `world_size`/`rank`, when given, must agree with it. `init_method` and
    `store` are accepted for torch compatibility (MPI does the rendezvous). `timeout` bounds every collective.
    Also installs an excepthook: an uncaught exception on one rank aborts all ranks (no hang).
    """
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not supported: tinygrad_cnn.distributed "
                         f"runs on MPI only (backend='mpi')")
    if _STATE["default"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    MPI = mpi()
    if not MPI.Is_initialized():
        MPI.Init_thread(MPI.THREAD_FUNNELED)
    world = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, world.Get_size()), ("rank", rank, world.Get_rank())):
        if given not in (-1, None) and int(given) != actual:
            raise ValueError(f"init_process_group: {name}={given} but MPI says {name} is {actual} (start the "
                             f"processes with mpiexec -n <world_size>, or leave {name} unset)")
    _STATE["default"] = ProcessGroup(world.Dup(), timeout or DEFAULT_TIMEOUT)
    _install_excepthook()


def is_initialized() -> bool:
    return _STATE["default"] is not None


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (free its communicator); init_process_group may be called again afterwards."""
    pg = default_group("destroy_process_group") if group is None else resolve(group, "destroy_process_group")
    pg.comm.Free()
    if pg is _STATE["default"]:
        _STATE["default"] = None
        _restore_excepthook()


def get_rank(group: Any = None) -> int:
    """This process's rank in the group: 0 .. world_size - 1."""
    return resolve(group, "get_rank").rank()


def get_world_size(group: Any = None) -> int:
    return resolve(group, "get_world_size").size()


def get_backend(group: Any = None) -> str:
    return resolve(group, "get_backend").name()


def abort(message: str, code: int = 1) -> None:
    """Print `message` and stop every rank of the world now (MPI_Abort): the others must not wait forever."""
    print(message, file=sys.stderr, flush=True)
    mpi().COMM_WORLD.Abort(code)


def _install_excepthook() -> None:
    previous = sys.excepthook
    if getattr(previous, "_tinygrad_cnn_abort", False):
        return

    def hook(exc_type: type, exc: BaseException, tb: Any) -> None:
        pg = _STATE["default"]
        if pg is None or pg.size() == 1:
            previous(exc_type, exc, tb)
            return
        traceback.print_exception(exc_type, exc, tb)
        code = 130 if issubclass(exc_type, KeyboardInterrupt) else 1
        abort(f"tinygrad_cnn.distributed: rank {pg.rank()} of {pg.size()} stopped with {exc_type.__name__}: "
              f"{exc}; aborting all ranks", code)

    hook._tinygrad_cnn_abort = True  # type: ignore[attr-defined]
    hook._previous = previous  # type: ignore[attr-defined]
    sys.excepthook = hook


def _restore_excepthook() -> None:
    if getattr(sys.excepthook, "_tinygrad_cnn_abort", False):
        sys.excepthook = sys.excepthook._previous  # type: ignore[attr-defined]
