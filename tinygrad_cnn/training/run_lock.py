"""One training per run directory: `DIR/.lock`, held for the run's lifetime.

The lock is an advisory `flock` on DIR/.lock (which holds "pid host" of the holder, for the error message). The
operating system drops a flock when its process ends in any way (an exception, Ctrl-C, `kill -9`, a crash), so a
lock file left behind by a killed run never blocks the next one. On a normal release the file is removed while
still locked; a process that opened the old file meanwhile notices (its locked file is no longer the one at the
path) and tries again. Without fcntl (Windows) the file is created exclusively and a holder whose pid is gone is
treated as stale.
"""
from __future__ import annotations

import os
import socket
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class RunDirError(RuntimeError):
    """A run directory that cannot be used as asked (a run already there, a file, in use, nothing to resume)."""


class RunLockedError(RunDirError):
    """Another process holds the run directory's lock."""


class RunLock:
    """`with RunLock(directory):` holds DIR/.lock; raises RunLockedError naming the holder's pid when taken."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, LOCK_NAME)
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        fd = self._lock_flock() if fcntl is not None else self._lock_exclusive()
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it (see the module docstring)
        except OSError:
            pass
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def _lock_flock(self) -> int:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise self._locked_error() from None
            try:
                if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)  # the holder released and removed the file after we opened it: try the new one

    def _lock_exclusive(self) -> int:
        for _ in range(2):
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                pid, _host = self.holder()
                if pid is not None and _alive(pid):
                    raise self._locked_error() from None
                os.unlink(self.path)  # stale: its process is gone
        raise self._locked_error()

    def holder(self) -> tuple[int | None, str]:
        """(pid, host) written by the process holding the lock (None, '') when unreadable."""
        try:
            with open(self.path) as f:
                pid, host = (f.read().split() + ["", ""])[:2]
            return int(pid), host
        except (OSError, ValueError):
            return None, ""

    def _locked_error(self) -> RunLockedError:
        pid, host = self.holder()
        who = f"pid {pid}" + (f" on {host}" if host and host != socket.gethostname() else "") if pid else \
            "a process whose pid is not known yet"
        return RunLockedError(f"{self.directory} is in use by another training ({who}; lock file {self.path}); "
                              f"wait for it to finish or stop it")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


__all__ = ["RunLock", "RunLockedError", "RunDirError", "LOCK_NAME"]
