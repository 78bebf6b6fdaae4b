"""Work: the handle of a collective started with async_op=True (torch.distributed's Work), and the wait loop.

Every collective is an MPI non-blocking call (Iallreduce, Ibcast, ...) completed by `wait_requests`, which polls
with MPI_Testall: the polling drives MPI's progress engine, yields the CPU after a short spin (an oversubscribed
machine has other ranks to run), and raises after the group's timeout instead of hanging forever.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Sequence

from ._backend import ProcessGroup, mpi

_SPINS_BEFORE_YIELD = 2000  # ~ a few microseconds each: short waits stay on-CPU, long ones give the core away


def wait_requests(requests: Sequence[Any], pg: ProcessGroup, what: str) -> None:
    """Block until every MPI request completes; RuntimeError after pg.timeout (a rank stuck elsewhere)."""
    MPI = mpi()
    if not requests or MPI.Request.Testall(requests):
        return
    deadline = time.monotonic() + pg.timeout.total_seconds()
    spins = 0
    while not MPI.Request.Testall(requests):
        spins += 1
        if spins > _SPINS_BEFORE_YIELD:
            os.sched_yield()
            if spins % 256 == 0 and time.monotonic() > deadline:
                raise RuntimeError(f"tinygrad_cnn.distributed: {what} on rank {pg.rank()} did not complete within "
                                   f"the timeout ({pg.timeout}); another rank is not taking part in it")


class Work:
    """A running collective. wait() completes it (result written into the tensors) and returns True."""

    def __init__(self, requests: list, pg: ProcessGroup, what: str, finish: Callable[[], None] | None = None,
                 result: list | None = None) -> None:
        self._requests, self._pg, self._what = requests, pg, what
        self._finish, self._result = finish, result or []
        self._done = False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None

    def wait(self, timeout: Any = None) -> bool:
        """Block until the collective finished and its results are in place."""
        if not self._done:
            wait_requests(self._requests, self._pg, self._what)
            self._complete()
        return True

    def is_completed(self) -> bool:
        """Non-blocking check (it also lets MPI progress the transfer)."""
        if not self._done and mpi().Request.Testall(self._requests):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self) -> None:
        return None

    def result(self) -> list:
        """The tensors the collective wrote (after wait())."""
        self.wait()
        return list(self._result)

    def __repr__(self) -> str:
        return f"Work({self._what}, completed={self._done})"


def finish_or_handle(work: Work, async_op: bool) -> Work | None:
    """async_op=True: return the handle; otherwise wait now and return None (torch's convention)."""
    if async_op:
        return work
    work.wait()
    return None
