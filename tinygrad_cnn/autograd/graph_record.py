"""Opt-in records kept on graph nodes for checking and drawing: forward arguments and backward gradients.

Neither is on by default, so training pays nothing. Two context managers switch them on:

- `graph_recording()` (forward): every node recorded inside keeps references to its forward arguments in
  `node.metadata["inputs"]` (a `RecordedArg` per tensor argument, the raw value for the others). That is what
  `check_graph` replays and what lets `tg.viz.draw_graph` show values and name buffers and inputs. References,
  not copies: the cost is keeping the arrays alive as long as the graph; an in-place change made after the op is
  detected through the tensor's version counter.
- `record_gradients()` (backward): the engine reports each node it runs; the node gets `metadata["grad"]`
  (backward step, norms, min/max/mean and finiteness of the gradients arriving at its outputs and leaving to its
  inputs) that `draw_graph(show_grads=True)` colours by, and the HTML stepper replays.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from . import recording


@dataclass(frozen=True)
class RecordedArg:
    """A tensor argument as the op saw it: the array (shared), its version then, and requires_grad."""

    array: np.ndarray
    version_box: list
    version: int
    requires_grad: bool

    @property
    def modified(self) -> bool:
        """True when the tensor was changed in place after the op used it (the recorded value is gone)."""
        return self.version_box[0] != self.version


def _keep_inputs(ctx: Any, args: tuple) -> None:
    from ..tensor import Tensor

    ctx.metadata["inputs"] = tuple(
        RecordedArg(a._data, a._version_box, a._version_box[0], a.requires_grad) if isinstance(a, Tensor) else a
        for a in args)


@contextlib.contextmanager
def graph_recording() -> Iterator[None]:
    """Within this block every recorded node keeps its forward arguments (needed by `check_graph`).

    Example::

        with tg.autograd.graph_recording():
            loss = F.nll_loss(model(x), y)
        print(tg.autograd.check_graph(loss))
    """
    prev = recording._input_recorder[0]
    recording._input_recorder[0] = _keep_inputs
    try:
        yield
    finally:
        recording._input_recorder[0] = prev


# --- gradients ---------------------------------------------------------------------------------------------------
@dataclass
class GradStats:
    """Summary of one gradient array (float64 numbers; `array` kept only when small and asked for)."""

    shape: tuple
    dtype: str
    norm: float
    min: float
    max: float
    mean: float
    finite: bool
    array: np.ndarray | None = None


def grad_stats(g: np.ndarray | None, keep_up_to: int = 0) -> GradStats | None:
    """Stats of g; keeps a copy of g itself when it has at most `keep_up_to` elements."""
    if g is None:
        return None
    g = np.asarray(g)
    keep = np.array(g, copy=True) if g.size <= keep_up_to else None
    if g.size == 0:
        return GradStats(tuple(g.shape), str(g.dtype), 0.0, 0.0, 0.0, 0.0, True, keep)
    g64 = g.astype(np.float64, copy=False).ravel()
    with np.errstate(all="ignore"):
        sq = float(np.dot(g64, g64))  # NaN/Inf anywhere make this non-finite: one pass decides finiteness
        lo, hi, total = float(g64.min()), float(g64.max()), float(g64.sum())
    finite = math.isfinite(sq) or bool(np.isfinite(g64).all())  # (a finite sum of squares can only overflow)
    return GradStats(tuple(g.shape), str(g.dtype), math.sqrt(sq), lo, hi, total / g64.size, finite, keep)


@dataclass
class NodeGrad:
    """What `record_gradients` writes to `node.metadata["grad"]`: the node's step in backward order, the gradients
    that arrived at its outputs (`out`, one per output) and those it sent to its inputs (`inputs`, per argument)."""

    step: int
    out: list
    inputs: list

    @property
    def finite(self) -> bool:
        return all(s is None or s.finite for s in self.out)

    @property
    def produced_nonfinite(self) -> bool:
        """Finite gradients came in and a NaN/Inf went out: this node's backward created it."""
        return self.finite and any(s is not None and not s.finite for s in self.inputs)

    @property
    def norm(self) -> float:
        return float(np.sqrt(sum(s.norm ** 2 for s in self.out if s is not None)))


@dataclass
class GradientRecord:
    """The nodes run by the backward passes inside one `record_gradients()` block, in the order they ran."""

    keep_up_to: int = 0
    nodes: list = field(default_factory=list)

    def __call__(self, node: Any, grads_out: list, grads_in: tuple) -> None:
        node.metadata["grad"] = NodeGrad(len(self.nodes), [grad_stats(g, self.keep_up_to) for g in grads_out],
                                         [grad_stats(g, self.keep_up_to) for g in grads_in])
        self.nodes.append(node)

    def first_nonfinite(self) -> Any:
        """The first node in backward order whose backward turned finite gradients into NaN/Inf (or, if the seed
        gradient itself was non-finite, the first node that received one); None when all were finite."""
        for node in self.nodes:
            if node.metadata["grad"].produced_nonfinite:
                return node
        return next((n for n in self.nodes if not n.metadata["grad"].finite), None)


@contextlib.contextmanager
def record_gradients(keep_arrays_up_to: int = 0) -> Iterator[GradientRecord]:
    """Within this block every node the engine runs gets `metadata["grad"]` (a `NodeGrad`).

    keep_arrays_up_to: also keep copies of gradients with at most this many elements (the HTML stepper shows them).
    """
    record = GradientRecord(keep_arrays_up_to)
    recording._grad_observers.append(record)
    try:
        yield record
    finally:
        recording._grad_observers.remove(record)


__all__ = ["graph_recording", "record_gradients", "RecordedArg", "GradStats", "NodeGrad", "GradientRecord"]
