"""From a trace (_trace.py) to ONNX nodes: `Translator` walks the events in order; `check_constants` compares two
traces (the safety net of _api.export).

Values are keyed by their producer (see _trace.Ref). A constant is anything that does not depend on an input:
parameters, buffers, tensors made inside forward, and the results of ops whose tensor arguments are all constants
(folded: e.g. LeNet-5's connection-table mask times its weight becomes one initializer, the masked weight).
"""
from __future__ import annotations

import enum
from typing import Any

import numpy as np

from . import _ops_nn, _ops_norm, _ops_pointwise, _ops_shape
from ._call import OPS, Call, ExportError
from ._graph import GraphBuilder, Value
from ._modules import MODULES, ModuleCall
from ._trace import CompareEvent, ModuleEvent, OpEvent, Ref, Trace

_TRANSLATORS = (_ops_nn, _ops_norm, _ops_pointwise, _ops_shape)  # imported for their @translates registrations
DEFAULT_OPSET = 17
MIN_OPSET = 13
_COMPARE = {"greater": "Greater", "less": "Less", "equal": "Equal", "greater_equal": "GreaterOrEqual",
            "less_equal": "LessOrEqual", "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}


class TrainingMode(enum.Enum):
    """torch.onnx.TrainingMode: EVAL (default) exports the model in eval mode; PRESERVE keeps its mode."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def require_onnx(what: str = "tg.onnx.export") -> Any:
    try:
        import onnx
    except ImportError as e:
        raise ImportError(f"{what} needs the 'onnx' extra: pip install 'tinygrad_cnn[onnx]' (onnx, onnxruntime)"
                          ) from e
    return onnx


class Translator:
    """Walks the trace's events, keeping the ONNX name of every value produced so far."""

    def __init__(self, b: GraphBuilder, model: Any, trace: Trace, inputs: dict[tuple, str]) -> None:
        self.b, self.trace = b, trace
        self.names = dict(inputs)  # producer key -> ONNX name
        self.state_names = {id(t): k for k, t in [*model.named_parameters(), *model.named_buffers()]}
        self.module_names = {id(m): (name or "<model>", type(m).__name__) for name, m in model.named_modules()}
        self.skip: set[int] = set()  # indices of events inside a module call exported as one node
        for i, ev in enumerate(trace.events):
            if isinstance(ev, ModuleEvent):
                if ev.collapse:
                    self.skip.update(range(ev.start, i))
                else:
                    self.skip.add(i)  # its primitives are translated instead

    def value(self, ref: Ref) -> Value:
        arr = ref.array
        if ref.key in self.names:
            return Value(self.names[ref.key], arr.shape, arr.dtype)
        if ref.dynamic:
            raise ExportError("tg.onnx.export: internal: a value computed from the input was never produced")
        hint = self.state_names.get(id(ref.tensor), "const")
        return Value(None, arr.shape, arr.dtype, arr, hint)  # a parameter, buffer or folded constant

    def arg(self, a: Any) -> Any:
        if isinstance(a, tuple):  # an index tuple may hold traced index tensors
            return tuple(self.value(i) if isinstance(i, Ref) else i for i in a)
        return self.value(a) if isinstance(a, Ref) else a

    def path(self, modules: tuple) -> str:
        if not modules:
            return "the model's forward (outside any submodule)"
        name, kind = self.module_names.get(id(modules[-1]), ("<unregistered module>", type(modules[-1]).__name__))
        return f"module {name} ({kind})"

    def run(self) -> None:
        for i, ev in enumerate(self.trace.events):
            if i in self.skip or (not isinstance(ev, ModuleEvent) and not ev.dynamic):
                continue  # inside a collapsed module, or a constant (folded: consumers see the array)
            if isinstance(ev, OpEvent):
                self.op(ev)
            elif isinstance(ev, ModuleEvent):
                self.module(ev)
            else:
                self.compare(ev)

    def op(self, ev: OpEvent) -> None:
        if ev.depth:
            return  # inside a user Function's forward: that Function is reported below
        call = Call(self.b, ev.fn, [self.arg(a) for a in ev.args], self.path(ev.modules),
                    [(o.array.shape, o.array.dtype) for o in ev.outputs])
        translate = OPS.get(ev.fn)
        if translate is None:
            kind = "" if getattr(ev.fn, "array_function", False) else " (an autograd.Function defined outside " \
                                                                       "tinygrad_cnn.ops)"
            raise ExportError(f"tg.onnx.export: no ONNX translation for the op {ev.fn.__name__}{kind} in "
                              f"{call.path}")
        outs = translate(call)
        for ref, name in zip(ev.outputs, outs if isinstance(outs, list) else [outs]):
            self.names[ref.key] = name

    def module(self, ev: ModuleEvent) -> None:
        x = self.value(ev.input)
        call = ModuleCall(self.b, ev.module, x, tuple(ev.output.array.shape), self.path((ev.module,)),
                          self.state_names)
        self.names[ev.output.key] = MODULES[type(ev.module)][1](call)

    def compare(self, ev: CompareEvent) -> None:
        args = [self.arg(a) for a in ev.args]
        name = ev.ufunc.__name__
        call = Call(self.b, type(ev), args, "a comparison", [(ev.output.array.shape, ev.output.array.dtype)])
        a, b = call.name(args[0], args[0]), call.name(args[1], args[0])
        if name == "not_equal":
            out = self.b.node("Not", [self.b.node("Equal", [a, b])])
        elif name in _COMPARE:
            out = self.b.node(_COMPARE[name], [a, b])
        else:
            raise ExportError(f"tg.onnx.export: no ONNX translation for the tensor operation {name}")
        self.names[ev.output.key] = out


def check_constants(first: Trace, second: Trace, model: Any) -> None:
    """The exporter's safety net: a constant (a value no traced op computed from the input) must be the same in a
    second run on other input values and dynamic-axis sizes. One that changed was computed from the input outside
    the traced ops (`.numpy()`, `.item()`, numpy on `._data`, a no_grad block, a shape taken from the batch...)
    and would be frozen into the graph. Every exported op is checked, also those folded into constants."""
    names = Translator(GraphBuilder(None, 0), model, first, {})
    if len(first.events) != len(second.events):
        raise ExportError("tg.onnx.export: the model ran different ops on two inputs of the same shape "
                          "(data-dependent control flow cannot be exported)")
    for n, (ev, other) in enumerate(zip(first.events, second.events)):
        if not isinstance(ev, OpEvent) or ev.depth or n in names.skip or type(ev) is not type(other) \
                or ev.fn is not other.fn:
            continue  # inside a user Function or a module exported as one node; or not comparable
        for i, (a, b) in enumerate(zip(ev.args, other.args)):
            if not _same_constant(a, b):
                raise ExportError(f"tg.onnx.export: argument {i} of {ev.fn.__name__} in {names.path(ev.modules)} "
                                  f"is a constant that depends on the input's values or on a dynamic axis' size "
                                  f"(made with .numpy(), .item(), under no_grad, or tg.zeros(x.size(0), ...)); "
                                  f"the graph would freeze it to the example's")


def _same_constant(a: Any, b: Any) -> bool:
    """True unless a and b are constant arrays (or index tuples holding them) that differ."""
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return all(_same_constant(x, y) for x, y in zip(a, b))
    if isinstance(a, Ref) and isinstance(b, Ref):
        if a.dynamic or b.dynamic:
            return True
        a, b = a.array, b.array
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    return True
