"""Data-parallel training for `tinygrad-cnn train --nproc N` (or `mpiexec -n N tinygrad-cnn train ...`).

`DistributedTrainer` is the Trainer with three differences:
- every rank draws the same global batch of `batch_size` samples (the single-process shuffle order) and trains on
  its contiguous share of it through DistributedDataParallel, so an N-rank run takes the steps of the 1-process
  run (up to float rounding); an uneven last batch is weighted so the average is still the batch mean, and a last
  batch smaller than the number of ranks is skipped;
- the step's loss sum, correct count and stop request are all-reduced, so metrics, the progress bar (total img/s)
  and Ctrl-C handling agree on every rank; validation and test sets are split between the ranks and reduced;
- only rank 0 writes the run directory and prints; the others run with out=None, quiet. Checkpoints hold the plain
  model (no `module.` prefix): a distributed run resumes with any number of processes, 1 included.
"""
from __future__ import annotations

import argparse
import os
import signal
from typing import Any, Callable

import numpy as np

from .. import distributed as dist
from ..nn.parallel import DistributedDataParallel
from ..tensor import Tensor
from . import metrics
from .trainer import Trainer


def _quiet(message: str) -> None:
    pass


def share(n: int, rank: int, world: int) -> slice:
    """Rank's contiguous share of n samples (np.array_split's sizes: the first n % world ranks get one more)."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (rank < extra))


class DistributedTrainer(Trainer):
    """A Trainer whose steps run on all ranks of the default process group (see the module docstring)."""

    def __init__(self, config: dict[str, Any], log: Callable[[str], None] = print, mode: str = "new") -> None:
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self._local_stop = self._agreed_stop = False
        if self.rank != 0:                      # no run directory (RunDir): this rank writes nothing
            config = {**config, "out": None, "progress": False, "plots": False}
            log = _quiet
        super().__init__(config, log=log, mode=mode)
        self.config["world_size"] = self.world
        self.ddp = DistributedDataParallel(self.model)

    # Ctrl-C sets the local request (in the SIGINT handler); the loop reads the value agreed by all ranks
    @property
    def stop_requested(self) -> bool:
        return self._agreed_stop

    @stop_requested.setter
    def stop_requested(self, value: bool) -> None:
        self._local_stop = bool(value)
        if not value:
            self._agreed_stop = False

    def _step(self, x: Tensor, y: Tensor) -> None:
        n = len(y)
        if n < self.world:  # a tail batch too small to give every rank a sample: skipped on every rank alike
            self.batch += 1
            return
        self._in_step = True
        mine = share(n, self.rank, self.world)
        xl, yl = Tensor._wrap(x._data[mine]), Tensor._wrap(y._data[mine])
        out = self.ddp(xl)
        loss = self.loss_fn(out, yl)
        self.optimizer.zero_grad()
        weight = len(yl) * self.world / n   # DDP averages over ranks; uneven shares must count by their size
        (loss if weight == 1.0 else loss * weight).backward()
        self.optimizer.step()
        stats = Tensor._wrap(np.array([float(loss.item()) * len(yl),
                                       float((out._data.argmax(axis=1) == yl._data).sum()),
                                       float(self._local_stop)]))
        dist.all_reduce(stats)
        r = self.running
        r["loss_sum"] += float(stats._data[0])
        r["correct"] += int(stats._data[1])
        r["seen"] += n
        self._agreed_stop = self._agreed_stop or bool(stats._data[2] > 0)
        self.batch += 1
        self._in_step = False

    def _evaluate(self, model: Any, x: np.ndarray, y: np.ndarray) -> metrics.EvalResult:
        """Each rank evaluates its share of (x, y); loss sums, correct counts and confusion matrices are summed."""
        mine = share(len(y), self.rank, self.world)
        local = metrics.evaluate(model, x[mine], y[mine], self.loss_fn, len(self.classes),
                                 int(self.config["test_batch_size"]))
        k = local.confusion.shape[0]
        packed = Tensor._wrap(np.concatenate([[local.loss * local.total], local.confusion.reshape(-1)])
                              .astype(np.float64))
        dist.all_reduce(packed)
        total = len(y)
        confusion = np.rint(packed._data[1:]).astype(np.int64).reshape(k, k)
        return metrics.EvalResult(float(packed._data[0]) / max(total, 1), int(np.trace(confusion)), total,
                                  confusion, local.seconds)


def launch_requested(args: argparse.Namespace) -> bool:
    """`--nproc N` given and this process is not already one of mpiexec's ranks."""
    return bool(getattr(args, "nproc", None)) and not dist.launch.under_mpiexec()


def launch(args: argparse.Namespace) -> int:
    """Re-run this `train` command on args.nproc ranks through mpiexec; returns 0, or 130 after Ctrl-C.
    Raises RuntimeError when a rank failed (its own error is printed above), FileNotFoundError without mpiexec."""
    from ..cli import build_parser

    if args.hostfile is not None and not os.path.isfile(args.hostfile):
        raise FileNotFoundError(f"--hostfile {args.hostfile}: no such file")
    parser = build_parser().commands["train"]  # type: ignore[attr-defined]
    argv = ["train", *_argv_of(args, parser, skip=("nproc", "hostfile"))]
    code = dist.launch.run(int(args.nproc), argv, args.hostfile)
    if code == 130 or (code < 0 and -code == signal.SIGINT):
        raise KeyboardInterrupt
    if code != 0:
        raise RuntimeError(f"the distributed run failed: mpiexec exit code {code} (the failing rank's error is "
                           f"printed above)")
    return 0


def _argv_of(args: argparse.Namespace, parser: argparse.ArgumentParser, skip: tuple) -> list[str]:
    """The command-line flags that reproduce `args` (those that differ from the parser's defaults)."""
    argv: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in skip or action.dest == "help":
            continue
        value = getattr(args, action.dest, None)
        if action.nargs == 0:   # store_true / store_false / store_const
            if value == action.const:
                argv.append(action.option_strings[0])
        elif value is not None and value != action.default:
            argv += [action.option_strings[0], str(value)]
    return argv


def init_if_launched() -> bool:
    """In a process started by mpiexec with more than one rank: join the default group (once); True if distributed."""
    if not dist.launch.under_mpiexec():
        return False
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    return dist.get_world_size() > 1


def run_rank(make_trainer: Callable[[], Trainer], debug: bool = False) -> int:
    """Build and fit this rank's trainer. Ranks must leave together: MPI_Finalize at exit waits for the others, so
    an error on one rank (say rank 0's run directory is refused) would leave the rest waiting in a collective.
    Any error therefore prints one line and aborts every rank (MPI_Abort); only the Ctrl-C stop that all ranks
    agreed on (trainer.stop_requested) exits normally, with 130 on every rank."""
    from ..cli import describe

    trainer = None
    try:
        trainer = make_trainer()
        trainer.fit()
        return 0
    except KeyboardInterrupt:
        if trainer is not None and trainer.stop_requested:
            raise                                   # every rank stops after the same step
        dist._backend.abort(f"tinygrad-cnn train: rank {dist.get_rank()} interrupted; stopping all ranks", 130)
    except BaseException as err:  # noqa: BLE001 - the others must not wait for this rank forever
        if debug:
            import traceback

            traceback.print_exc()
        dist._backend.abort(f"tinygrad-cnn train: error: rank {dist.get_rank()}: {describe(err)}", 1)
    return 1
