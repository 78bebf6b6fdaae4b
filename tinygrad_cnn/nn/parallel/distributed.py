"""DistributedDataParallel: one model replica per process; gradients averaged over the processes in backward.

    dist.init_process_group("mpi")
    model = DistributedDataParallel(Net())          # parameters and buffers now equal rank 0's
    loss_fn(model(x_local), y_local).backward()     # p.grad = mean over ranks of the local gradients
    optimizer.step()                                # every rank takes the same step

Semantics as torch's: construction broadcasts parameters and buffers from rank 0 (after checking every rank has the
same parameter shapes); every forward broadcasts the buffers from rank 0 (broadcast_buffers=True); backward averages
gradients with bucketed non-blocking all-reduces started from the parameters' post-accumulate-grad hooks (see
_reducer.py); `no_sync()` skips the averaging so gradients accumulate locally; state_dict keys carry the `module.`
prefix. Not implemented: device_ids/output_device (CPU only), join() for uneven inputs, communication hooks.
"""
from __future__ import annotations

import contextlib
import zlib
from typing import Any, Iterator

import numpy as np

from ... import distributed as dist
from ...autograd import grad_mode
from ...distributed._backend import ProcessGroup, resolve
from ...distributed._work import wait_requests
from ...tensor import Tensor
from ..modules.module import Module
from ._reducer import Reducer

__all__ = ["DistributedDataParallel"]

_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024  # torch.distributed._DEFAULT_FIRST_BUCKET_BYTES


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training on the process group (default: the default group)."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 **kwargs: Any) -> None:
        super().__init__()
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError("DistributedDataParallel: device_ids and output_device must be None for CPU modules "
                             f"(got device_ids={device_ids!r}, output_device={output_device!r})")
        self.module = module
        pg = resolve(process_group, "DistributedDataParallel")
        self.process_group: ProcessGroup = pg
        self.dim, self.broadcast_buffers = dim, broadcast_buffers is not False   # None: True, as torch
        self.find_unused_parameters, self.static_graph = find_unused_parameters, static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self._module_buffers = [b for _, b in module.named_buffers() if b is not None]
        _verify_same_model(module, pg)
        if init_sync:  # init_sync=False: the caller guarantees equal initial states
            _broadcast_coalesced([p for p in module.parameters()] + self._module_buffers, pg)
        first = min(_DEFAULT_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        self.reducer = Reducer(params, pg, self.bucket_bytes_cap, first)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        self.reducer.check_finished()
        if self.require_forward_param_sync and self.broadcast_buffers and self._module_buffers:
            _broadcast_coalesced(self._module_buffers, self.process_group)
        out = self.module(*inputs, **kwargs)
        if grad_mode.is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare(_reached_parameters(out) if self.find_unused_parameters else None)
        else:
            self.reducer.disarm()
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Forwards and backwards inside do not average gradients (they accumulate in .grad locally); the first
        backward after the block averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        return f"world_size={self.process_group.size()}"


def _reached_parameters(out: Any) -> set:
    """ids of the leaf tensors the autograd graph of `out` reaches (explicit stack: no recursion)."""
    stack, seen, leaves = [], set(), set()
    todo = [out]
    while todo:  # the outputs: a Tensor or any nesting of lists, tuples and dicts of them
        o = todo.pop()
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                stack.append(o.grad_fn)
            elif o.requires_grad:
                leaves.add(id(o))
        elif isinstance(o, (list, tuple)):
            todo.extend(o)
        elif isinstance(o, dict):
            todo.extend(o.values())
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        stack.extend(nxt for nxt, _ in node._edges if nxt is not None)
    return leaves


def _verify_same_model(module: Module, pg: ProcessGroup) -> None:
    """Every rank must wrap the same architecture: compare (count, numel, checksum of shapes) of the parameters."""
    shapes = repr([(tuple(p.shape), str(p.dtype)) for p in module.parameters()]).encode()
    mine = Tensor._wrap(np.array([len(list(module.parameters())), sum(p.numel() for p in module.parameters()),
                                  zlib.crc32(shapes)], np.int64))
    every = [Tensor._wrap(np.zeros(3, np.int64)) for _ in range(pg.size())]
    dist.all_gather(every, mine, group=pg)
    for r, other in enumerate(every):
        if not np.array_equal(other._data, mine._data):
            raise RuntimeError(f"DDP expects same model across all ranks, but rank {r} has {int(other._data[0])} "
                               f"params ({int(other._data[1])} elements) while rank {pg.rank()} has "
                               f"{int(mine._data[0])} params ({int(mine._data[1])} elements), or their shapes or "
                               f"dtypes differ")


def _broadcast_coalesced(tensors: list, pg: ProcessGroup, src: int = 0) -> None:
    """Broadcast the tensors' values from rank src: one flat buffer per dtype, one Ibcast each."""
    if pg.size() == 1 or not tensors:
        return
    by_dtype: dict[Any, list] = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    flats, requests = [], []
    for dtype, group in by_dtype.items():
        flat = np.concatenate([t._data.reshape(-1) for t in group]) if pg.rank() == src else \
            np.empty(sum(t.numel() for t in group), dtype)
        flats.append((flat, group))
        requests.append(pg.comm.Ibcast(flat, root=src))
    wait_requests(requests, pg, "DistributedDataParallel broadcast of parameters and buffers")
    if pg.rank() == src:
        return
    for flat, group in flats:
        offset = 0
        for t in group:
            n = t.numel()
            np.copyto(t._data, flat[offset:offset + n].reshape(t._data.shape))
            t._version_box[0] += 1
            offset += n
