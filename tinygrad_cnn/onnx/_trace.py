"""Running a model once and keeping what the exporter translates: the ops in execution order, with their arguments.

Three sources feed one ordered event list:
- every op application: during the trace `Function.apply` is wrapped, so the exporter sees each op's Function
  class, its forward ARGUMENTS and its outputs (never ctx internals, which the primitives may change), also for ops
  autograd does not record (on masks, on integer indices, non-differentiable outputs such as argmax indices);
- the modules translated as a whole (`_modules.MODULES`: BatchNorm, Linear, Flatten, Upsample): a pre-hook notes
  the input and where its ops start, a forward hook the output; the exporter skips the ops recorded in between;
- comparisons (`x > 0`), which give bool tensors outside autograd: `CompareMixin._compare` is wrapped too.
Both wrappers are put back when the trace ends (also on error).

A tensor is identified by its producer when it has one (grad_fn, output number), else by the tensor object: the
float inputs of the trace require grad, so every value computed from them has a grad_fn, and an in-place op (which
re-points the tensor's grad_fn) is followed correctly. Values that do not depend on an input are constants; their
arrays are copied when seen, so a later in-place change does not alter what an op used.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ..autograd import recording
from ..autograd.function import Function
from ..tensor import Tensor
from ..tensor_methods import reduce as _reduce
from ..tensor_methods.compare import CompareMixin
from ..tensor_methods.pointwise import PointwiseMixin


class Sign:
    """Markers (not Functions) for tensor methods computed outside autograd, traced like ops: x.sign(), ..."""


class Floor:
    pass


class Ceil:
    pass


class Round:
    pass


class ArgExtreme:
    """argmax/argmin indices (also those of max(dim)/min(dim)): args (x, dim or None, keepdim, is_min)."""


_POINTWISE = {"sign": Sign, "floor": Floor, "ceil": Ceil, "round": Round}


@dataclass
class Ref:
    """A tensor as an op saw it: key ('node', id(grad_fn), nr) or ('leaf', id(tensor)), its array then, the
    tensor, and whether it depends on a model input (dynamic) or is a constant."""

    key: tuple
    array: np.ndarray
    tensor: Tensor
    dynamic: bool = False


def _dynamic(r: Any) -> bool:
    if isinstance(r, tuple):
        return any(_dynamic(i) for i in r)
    return isinstance(r, Ref) and r.dynamic


def key_of(t: Tensor) -> tuple:
    return ("node", id(t.grad_fn), t._output_nr) if t.grad_fn is not None else ("leaf", id(t))


@dataclass
class OpEvent:
    fn: type                  # the Function class (a primitive of tinygrad_cnn.ops, or a user Function)
    args: tuple               # forward arguments: Ref for tensors, the raw value otherwise
    outputs: list             # Ref per output
    modules: tuple            # the module call chain it ran in (outermost first)
    depth: int                # 0 for ops called by the model; 1+ inside a user Function's forward
    dynamic: bool             # some argument depends on an input (else the op is folded to constants)
    keep: list = field(default_factory=list)  # objects kept alive so the ids in keys stay unique


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
    output: Ref
    dynamic: bool


class Trace:
    """The events of one forward run, in the order they happened (an op after the ops inside it)."""

    def __init__(self, module_kinds: dict, inputs: list) -> None:
        self.events: list = []
        self.module_kinds = module_kinds  # module class -> collapsible(module, input ndim)
        self._dynamic = {key_of(t) for t in inputs}
        self._pending: dict[int, list] = {}  # id(module) -> stack of (input Ref, first event index)
        self._depth = 0
        self._alive: list = list(inputs)
        self._arrays: dict[int, Ref] = {}  # id(array) of a dynamic value -> its Ref (ops given `t._data` itself)
        for t in inputs:
            self._arrays[id(t._data)] = self.ref(t)

    def ref(self, t: Tensor) -> Ref:
        key = key_of(t)
        dynamic = key in self._dynamic
        arr = t._data if dynamic or t.grad_fn is None else np.array(t._data, copy=True)
        return Ref(key, arr, t, dynamic)

    def _outputs(self, out: Any, dynamic: bool) -> list:
        refs = []
        for o in out if isinstance(out, tuple) else (out,):
            if isinstance(o, Tensor):
                if dynamic:
                    self._dynamic.add(key_of(o))
                refs.append(self.ref(o))
                if dynamic:
                    self._arrays[id(o._data)] = refs[-1]
        return refs

    def arg(self, a: Any) -> Any:
        """A Ref for a tensor, or for an array that is a traced value's own array (where's condition and tensor
        indices reach ops as `t._data`, also inside an index tuple); other values as they are."""
        if isinstance(a, Tensor):
            return self.ref(a)
        if isinstance(a, np.ndarray) and id(a) in self._arrays:
            return self._arrays[id(a)]
        if isinstance(a, tuple):
            return tuple(self._arrays.get(id(i), i) if isinstance(i, np.ndarray) else i for i in a)
        return a

    def op(self, fn: type, args: tuple, run: Callable) -> Any:
        refs = tuple(self.arg(a) for a in args)
        dynamic = any(_dynamic(r) for r in refs)
        modules, depth = recording.current_modules(), self._depth
        self._depth += 1
        try:
            out = run()
        finally:
            self._depth -= 1
        outs = self._outputs(out, dynamic)
        self.events.append(OpEvent(fn, refs, outs, modules, depth, dynamic, [args, out]))
        return out

    def method(self, marker: type, args: tuple, out: Tensor) -> None:
        """A tensor method that computes out outside autograd (args[0] the tensor, the rest raw values)."""
        ref = self.ref(args[0])
        modules = recording.current_modules()
        self.events.append(OpEvent(marker, (ref, *args[1:]), self._outputs(out, ref.dynamic), modules, self._depth,
                                   ref.dynamic, [args, out]))

    def compare(self, a: Tensor, other: Any, fn: Callable, out: Tensor) -> None:
        refs = (self.ref(a), self.ref(other) if isinstance(other, Tensor) else other)
        dynamic = any(isinstance(r, Ref) and r.dynamic for r in refs)
        self.events.append(CompareEvent(fn, refs, self._outputs(out, dynamic)[0], dynamic))
        self._alive.append(out)

    def pre_hook(self, module: Any, args: tuple) -> None:
        x = args[0] if args else None
        ref = self.ref(x) if isinstance(x, Tensor) else None
        self._pending.setdefault(id(module), []).append((ref, len(self.events)))

    def post_hook(self, module: Any, args: tuple, output: Any) -> None:
        ref, start = self._pending[id(module)].pop()
        if ref is not None and ref.dynamic and isinstance(output, Tensor):
            collapse = self.module_kinds[type(module)](module, ref.array.ndim)
            if collapse:  # computed from the input by this one node, whatever its primitives could show
                self._dynamic.add(key_of(output))
                self._arrays[id(output._data)] = self.ref(output)
            self.events.append(ModuleEvent(module, ref, self.ref(output), start, collapse))

    @contextlib.contextmanager
    def running(self, model: Any) -> Iterator["Trace"]:
        """Within the block every op, collapsible module call and comparison is recorded."""
        handles = []
        for m in model.modules():
            if type(m) in self.module_kinds:  # exact classes: a subclass may compute something else
                handles.append(m.register_forward_pre_hook(self.pre_hook))
                handles.append(m.register_forward_hook(self.post_hook))
        apply, compare = Function.__dict__["apply"], CompareMixin.__dict__["_compare"]
        trace = self

        def traced_apply(cls: type, *args: Any) -> Any:
            return trace.op(cls, args, lambda: apply.__func__(cls, *args))

        def traced_compare(self: Tensor, other: Any, fn: Callable) -> Tensor:
            out = compare(self, other, fn)
            trace.compare(self, other, fn, out)
            return out

        patches = [(Function, "apply", classmethod(traced_apply)), (CompareMixin, "_compare", traced_compare)]
        patches += self._method_patches()
        saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
        try:
            for owner, name, fn in patches:
                setattr(owner, name, fn)
            yield self
        finally:
            for owner, name, fn in saved:
                setattr(owner, name, fn)
            for h in handles:
                h.remove()

    def _method_patches(self) -> list:
        trace = self
        patches = []
        for name, marker in _POINTWISE.items():
            orig = PointwiseMixin.__dict__[name]

            def pointwise(self: Tensor, _orig: Callable = orig, _marker: type = marker) -> Tensor:
                out = _orig(self)
                trace.method(_marker, (self,), out)
                return out

            patches.append((PointwiseMixin, name, pointwise))
        arg_extreme, extreme = _reduce.__dict__["_arg_extreme"], _reduce.ReduceMixin.__dict__["_extreme"]

        def traced_arg_extreme(x: Tensor, dim: Any, keepdim: bool, fn: Callable, name: str) -> Tensor:
            out = arg_extreme(x, dim, keepdim, fn, name)
            trace.method(ArgExtreme, (x, dim, keepdim, name == "argmin"), out)
            return out

        def traced_extreme(self: Tensor, dim: Any, keepdim: bool, is_min: bool, name: str) -> Any:
            out = extreme(self, dim, keepdim, is_min, name)
            if dim is not None and isinstance(out, tuple):
                trace.method(ArgExtreme, (self, dim, keepdim, is_min), out[1])
            return out

        return patches + [(_reduce, "_arg_extreme", traced_arg_extreme),
                          (_reduce.ReduceMixin, "_extreme", traced_extreme)]
