"""The gradient reducer behind DistributedDataParallel: buckets, ready-counting, in-order non-blocking all-reduces.

Parameters are packed, in reverse registration order (roughly the order backward produces their gradients), into
buckets of at most `bucket_cap` bytes of one dtype (the first bucket at most `first_cap`, so communication starts
early). Each parameter's post-accumulate-grad hook copies its `.grad` into its slot of the bucket's flat buffer; when
a bucket's last slot is filled the bucket's Iallreduce (SUM) starts, while backward goes on with the layers below.
Buckets are launched strictly in index order, so every rank issues the same sequence of collectives. When the last
bucket is launched, all are waited for, divided by the world size and copied back into `.grad`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...distributed._backend import ProcessGroup, mpi
from ...distributed._work import wait_requests
from ...tensor import Tensor

_UNFINISHED = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
               "indicates that your module has parameters that were not used in producing loss. You can enable "
               "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
               "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
               "participate in calculating loss. Parameter indices which did not receive grad for rank {rank}: "
               "{missing}")


class _Bucket:
    """Parameters (by index) sharing one flat buffer; offsets[i] is where parameter indices[i] starts."""

    def __init__(self, indices: list[int], params: Sequence[Tensor]) -> None:
        self.indices = indices
        sizes = [params[i].numel() for i in indices]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.flat = np.zeros(self.offsets[-1], params[indices[0]]._data.dtype)
        self.pending = len(indices)
        self.request: Any = None

    def nbytes(self) -> int:
        return self.flat.nbytes


def assign_buckets(params: Sequence[Tensor], cap: int, first_cap: int) -> list[list[int]]:
    """Indices of params grouped into buckets: reverse order, one dtype per bucket, the first bucket under
    first_cap bytes and the others under cap (a parameter larger than the cap gets a bucket of its own)."""
    buckets: list[list[int]] = []
    open_by_dtype: dict[Any, list[int]] = {}
    size: dict[int, int] = {}                      # bytes in each bucket, by id
    for i in reversed(range(len(params))):
        data = params[i]._data
        current = open_by_dtype.get(data.dtype)
        limit = first_cap if current is not None and current is buckets[0] else cap
        if current is None or size[id(current)] + data.nbytes > limit:
            current = open_by_dtype[data.dtype] = []
            buckets.append(current)
            size[id(current)] = 0
        current.append(i)
        size[id(current)] += data.nbytes
    return buckets


class Reducer:
    """Averages the gradients of `params` over the group once per armed backward."""

    def __init__(self, params: Sequence[Tensor], pg: ProcessGroup, cap: int, first_cap: int) -> None:
        self.params, self.pg = list(params), pg
        self.buckets = [_Bucket(ix, self.params) for ix in assign_buckets(self.params, cap, first_cap)]
        self.where = {i: (b, k) for b in self.buckets for k, i in enumerate(b.indices)}
        self.armed = self.started = False
        self.ready = np.zeros(len(self.params), bool)
        self.locally_used = np.ones(len(self.params), np.int64)
        self.track_unused = False
        self.next_bucket = 0
        self.handles = [p.register_post_accumulate_grad_hook(self._hook(i)) for i, p in enumerate(self.params)]

    def _hook(self, index: int) -> Any:
        def hook(param: Tensor) -> None:
            if self.armed:
                if not self.started:  # backward has begun: parameters the forward did not use are ready now
                    self.started = True
                    for i in np.flatnonzero(self.locally_used == 0).tolist():
                        self.mark_ready(i)
                self.mark_ready(index)
        return hook

    def check_finished(self) -> None:
        """Before a new forward: the previous armed backward must have reduced every parameter."""
        if self.armed and self.started:
            missing = np.flatnonzero(~self.ready).tolist()
            self.armed = False
            raise RuntimeError(_UNFINISHED.format(rank=self.pg.rank(), missing=missing))

    def prepare(self, used: set | None) -> None:
        """Arm for the next backward. used: ids of parameters reached from the outputs (None: assume all used)."""
        self.armed, self.started, self.next_bucket = True, False, 0
        self.ready[:] = False
        for b in self.buckets:
            b.pending, b.request = len(b.indices), None
        self.track_unused = used is not None
        self.locally_used[:] = 1 if used is None else [id(p) in used for p in self.params]

    def disarm(self) -> None:
        self.armed = False

    def mark_ready(self, index: int) -> None:
        """Copy parameter `index`'s gradient into its bucket; start every bucket that is complete, in order."""
        if self.ready[index]:
            raise RuntimeError(f"Expected to mark a variable ready only once. Parameter at index {index} has been "
                               f"marked as ready twice: its gradient was produced twice in one iteration (e.g. "
                               f"backward through the DDP output twice without a new forward)")
        self.ready[index] = True
        bucket, k = self.where[index]
        grad = self.params[index].grad
        view = bucket.flat[bucket.offsets[k]:bucket.offsets[k + 1]]
        if grad is None:
            view[:] = 0
        else:
            view[:] = grad._data.reshape(-1)
        bucket.pending -= 1
        self._launch_ready()

    def _launch_ready(self) -> None:
        MPI = mpi()
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            b.request = self.pg.comm.Iallreduce(MPI.IN_PLACE, b.flat, MPI.SUM)
            self.next_bucket += 1
        launched = [b.request for b in self.buckets[:self.next_bucket]]
        if self.next_bucket == len(self.buckets):
            self._finalize(launched)
        elif launched:
            MPI.Request.Testall(launched)  # lets MPI move the started buckets along while backward continues

    def _finalize(self, requests: list) -> None:
        used = self.locally_used
        if self.track_unused:  # which parameters got a gradient on some rank (the others keep theirs untouched)
            used = used.copy()
            requests = requests + [self.pg.comm.Iallreduce(mpi().IN_PLACE, used, mpi().SUM)]
        wait_requests(requests, self.pg, "DistributedDataParallel gradient all-reduce")
        n = self.pg.size()
        for b in self.buckets:
            b.flat /= n
            for k, i in enumerate(b.indices):
                if used[i]:
                    self._write_grad(self.params[i], b.flat[b.offsets[k]:b.offsets[k + 1]])
        self.armed = False

    @staticmethod
    def _write_grad(p: Tensor, flat: np.ndarray) -> None:
        value = flat.reshape(p._data.shape)
        if p.grad is None or not p.grad._data.flags.writeable or p.grad._data.shape != value.shape:
            p.grad = Tensor._wrap(value.copy(order="K"))
            return
        np.copyto(p.grad._data, value)      # in place: references kept to p.grad see the averaged value
        p.grad._version_box[0] += 1

    def remove_hooks(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []
