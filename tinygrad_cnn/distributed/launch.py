"""Starting N ranks through mpiexec: what `tinygrad-cnn train --nproc N` does.

The mpiexec used is the one installed next to this Python (the mpich wheel of the `distributed` extra puts it in the
environment's bin/), else the first on PATH: mpi4py must talk to the MPI that started it. Each rank gets one BLAS
thread unless the caller chose otherwise (N processes on N cores: more threads would only spin-wait).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from typing import Sequence

from ._backend import _EXTRA_HINT

_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MPI_LOCALRANKID")


def under_mpiexec() -> bool:
    """True in a process that mpiexec started (its environment carries the rank)."""
    return any(v in os.environ for v in _RANK_VARIABLES)


def find_mpiexec() -> str:
    """Path of the mpiexec that belongs to this environment; FileNotFoundError naming the extra when none."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(f"mpiexec not found next to {sys.executable} nor on PATH: {_EXTRA_HINT}")
    return found


def mpiexec_command(nproc: int, argv: Sequence[str], hostfile: str | None = None) -> list[str]:
    """mpiexec -n nproc [-f hostfile] <this python> -m tinygrad_cnn <argv...>."""
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"--nproc must be a positive number of processes, got {nproc!r}")
    cmd = [find_mpiexec(), "-n", str(nproc)]
    if hostfile:
        cmd += ["-f", hostfile]
    return cmd + [sys.executable, "-m", "tinygrad_cnn", *argv]


def rank_environment() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def run(nproc: int, argv: Sequence[str], hostfile: str | None = None) -> int:
    """Run `tinygrad-cnn <argv>` on nproc ranks and wait; returns mpiexec's exit code (130 after Ctrl-C).

    mpiexec runs in its own session, so a Ctrl-C (SIGINT to the terminal's process group) reaches it once, passed on
    by this process, and mpiexec forwards it to every rank (hydra puts each rank in a session of its own). A second
    Ctrl-C makes mpiexec kill the ranks at once.
    """
    proc = subprocess.Popen(mpiexec_command(nproc, argv, hostfile), env=rank_environment(), start_new_session=True)

    def forward(signum: int, frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
