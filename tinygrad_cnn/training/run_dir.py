"""The run directory (`tinygrad-cnn train --out DIR`): never clobber a run, one writer at a time, and files that
an interrupt at any moment leaves consistent.

Modes: "new" refuses a directory that already holds a run (any of RUN_FILES); "overwrite" removes that run's files
(only those) once it holds the lock; "resume" continues the run whose last.npz is in the directory.

Every write is atomic (temporary file + rename), and an epoch's record is written in this order:

1. last.npz, the run's commit record: model, optimizer, RNG, history (with this epoch's row), best epoch;
2. best.npz: a byte copy of last.npz, when this epoch is the best so far;
3. metrics.csv, from the history in last.npz;
4. curves.png.

Files 2-4 are derived from last.npz. An interrupt between two writes leaves them behind it, never ahead; a resume
(which reads only last.npz) first rebuilds them from last.npz (`reconcile`), so the resumed run and its files
always agree. (Writing last.npz last instead would let best.npz run ahead of the commit record: an interrupt
would leave the previous best replaced by an epoch the run does not know it finished.) A rank that must not write
(distributed training) simply has no RunDir.
"""
from __future__ import annotations

import filecmp
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .._atomic import atomic_copy
from . import metrics, plots
from .checkpoint import load_checkpoint, save_checkpoint
from .run_lock import RunDirError, RunLock

RUN_FILES = ("config.json", "metrics.csv", "last.npz", "best.npz", "summary.json", "curves.png", "confusion.png")
MODES = ("new", "overwrite", "resume")


class RunDir:
    """The files of one run in `path`; `with run.session():` holds the lock and prepares the directory."""

    def __init__(self, path: str, mode: str = "new", log: Callable[[str], None] = print) -> None:
        if mode not in MODES:
            raise ValueError(f"RunDir: mode must be one of {MODES}, got {mode!r}")
        self.path, self.mode, self.log = os.fspath(path), mode, log
        self.lock = RunLock(self.path)

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def existing(self) -> list[str]:
        """The run files present in the directory."""
        return [n for n in RUN_FILES if os.path.exists(self.file(n))]

    def check(self) -> None:
        """Raise RunDirError when the directory cannot be used in this mode (before any work is done)."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise RunDirError(f"{self.path} exists and is not a directory")
        found = self.existing()
        if self.mode == "new" and found:
            raise RunDirError(f"{self.path} already holds a run ({', '.join(found)}); continue it with "
                              f"--resume {self.path}, choose another --out, or pass --overwrite to replace it")
        if self.mode == "resume" and "last.npz" not in found:
            raise RunDirError(f"{self.path} holds no run to resume (no last.npz)")

    @contextmanager
    def session(self, expect_last: Any = None) -> Iterator["RunDir"]:
        """Create the directory, hold its lock, check it again under the lock (another process may have written
        in the meantime), and for "overwrite" remove the old run's files. `expect_last`: for a resume, the
        `signature()` of last.npz when it was read (a changed file means another process moved the run on)."""
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"cannot create the run directory {self.path}: {e.strerror or e}") from None
        with self.lock:
            self.check()
            if self.mode == "resume" and expect_last is not None and self.signature() != expect_last:
                raise RunDirError(f"{self.file('last.npz')} changed since it was read (another training wrote "
                                  f"it); resume again to continue from the new state")
            if self.mode == "overwrite":
                for name in self.existing():
                    os.remove(self.file(name))
            yield self

    def signature(self) -> tuple:
        st = os.stat(self.file("last.npz"))
        return st.st_ino, st.st_size, st.st_mtime_ns

    # ---------------------------------------------------------------- writes
    def write_config(self, config: dict[str, Any]) -> None:
        metrics.write_json(self.file("config.json"), config)

    def save(self, name: str, state: dict[str, Any]) -> None:
        save_checkpoint(state, self.file(name))

    def record_epoch(self, state: dict[str, Any], is_best: bool, draw: bool) -> None:
        """An epoch's files in commit order (module docstring): last.npz first, then what derives from it."""
        self.save("last.npz", state)
        if is_best:
            atomic_copy(self.file("last.npz"), self.file("best.npz"))
        self._derived(state["history"], draw)

    def _derived(self, history: list[dict[str, Any]], draw: bool) -> None:
        metrics.write_metrics_csv(self.file("metrics.csv"), history)
        if draw:
            plots.plot_curves(history, self.path)

    def write_summary(self, summary: dict[str, Any]) -> None:
        metrics.write_json(self.file("summary.json"), summary)

    def reconcile(self, state: dict[str, Any], draw: bool) -> None:
        """Bring the files derived from last.npz (`state` is its content) up to date after an interrupt."""
        self._derived(state["history"], draw)
        best_epoch = int(state["best_epoch"])
        if best_epoch == 0:
            return
        last, best = self.file("last.npz"), self.file("best.npz")
        if int(state["epoch"]) == best_epoch and int(state["batch"]) == 0:   # last.npz is the best epoch's end
            if not (os.path.exists(best) and filecmp.cmp(last, best, shallow=False)):
                atomic_copy(last, best)
            return
        held = load_checkpoint(best)["epoch"] if os.path.exists(best) else None
        if held != best_epoch:
            self.log(f"warning: {best} holds epoch {held}, not the best epoch {best_epoch} recorded in {last}; "
                     f"it cannot be rebuilt (last.npz has moved on)")


__all__ = ["RunDir", "RunDirError", "RUN_FILES", "MODES"]
