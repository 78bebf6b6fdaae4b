"""Running a model once and keeping what the exporter translates: the ops in execution order, with their arguments.

Three sources feed one ordered event list:
- every recorded op (the autograd input recorder: its Function class and its forward ARGUMENTS, never ctx
  internals, which the primitives may change);
- the modules translated as a whole (`MODULE_KINDS`: BatchNorm, Linear, Flatten, Upsample): a pre-hook notes the
  input, a forward hook the output, and the ops recorded inside that call are skipped by the exporter;
- comparisons (`x > 0`), which give bool tensors outside the autograd graph: during the trace
  `CompareMixin._compare` is wrapped so the mask of a `where` is computed in the ONNX graph, not frozen.

A tensor argument is kept as a `Ref`: who produced it at that moment (node and output number, or the leaf tensor
itself) and the array it held, so an in-place change made later does not change what this op saw.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from ..autograd import recording
from ..tensor import Tensor
from ..tensor_methods.compare import CompareMixin


@dataclass
class Ref:
    """A tensor argument as an op saw it. key identifies the producer: ('node', id(ctx), nr) or ('leaf', id(t))."""

    key: tuple
    array: np.ndarray
    tensor: Tensor


def ref_of(t: Tensor) -> Ref:
    if t.grad_fn is not None:
        return Ref(("node", id(t.grad_fn), t._output_nr), t._data, t)
    return Ref(("leaf", id(t)), t._data, t)


@dataclass
class OpEvent:
    fn: type                  # the Function class (a primitive of tinygrad_cnn.ops, or a user Function)
    ctx: Any                  # the node: kept alive so ids stay unique; only `metadata['modules']` is read
    args: tuple               # forward arguments: Ref for tensors, the raw value otherwise


@dataclass
class ModuleEvent:
    module: Any
    input: Ref
    output: Ref               # taken when the call returned (a later in-place op re-points the tensor)
    start: int                # index of the first event recorded inside this call
    collapse: bool            # export as one node (else its primitives, recorded before it, are translated)


@dataclass
class CompareEvent:
    ufunc: Callable           # np.greater, np.equal, ...
    args: tuple               # (Ref, Ref or raw value)
    output: Tensor


class Trace:
    """The events of one forward run, in the order they happened."""

    def __init__(self, module_kinds: dict) -> None:
        self.events: list = []
        self.module_kinds = module_kinds  # module class -> collapsible(module, input ndim)
        self._pending: dict[int, list] = {}  # id(module) -> stack of input Refs (a module may be re-entered)

    def record_op(self, ctx: Any, args: tuple) -> None:
        self.events.append(OpEvent(ctx._fn, ctx, tuple(ref_of(a) if isinstance(a, Tensor) else a for a in args)))

    def pre_hook(self, module: Any, args: tuple) -> None:
        x = args[0] if args else None
        ref = ref_of(x) if isinstance(x, Tensor) else None
        self._pending.setdefault(id(module), []).append((ref, len(self.events)))

    def post_hook(self, module: Any, args: tuple, output: Any) -> None:
        ref, start = self._pending[id(module)].pop()
        if ref is not None and isinstance(output, Tensor):
            collapse = self.module_kinds[type(module)](module, ref.array.ndim)
            self.events.append(ModuleEvent(module, ref, ref_of(output), start, collapse))

    @contextlib.contextmanager
    def running(self, model: Any) -> Iterator["Trace"]:
        """Within the block every op, collapsed module call and comparison is recorded (restored afterwards)."""
        handles = []
        for m in model.modules():
            if type(m) in self.module_kinds:  # exact classes: a subclass may compute something else
                handles.append(m.register_forward_pre_hook(self.pre_hook))
                handles.append(m.register_forward_hook(self.post_hook))
        prev_recorder, original = recording._input_recorder[0], CompareMixin._compare
        trace = self

        def compare(self: Tensor, other: Any, fn: Callable) -> Tensor:
            out = original(self, other, fn)
            trace.events.append(CompareEvent(fn, (ref_of(self), ref_of(other) if isinstance(other, Tensor)
                                                  else other), out))
            return out

        recording._input_recorder[0] = self.record_op
        CompareMixin._compare = compare  # type: ignore[method-assign]
        try:
            yield self
        finally:
            recording._input_recorder[0] = prev_recorder
            CompareMixin._compare = original  # type: ignore[method-assign]
            for h in handles:
                h.remove()
