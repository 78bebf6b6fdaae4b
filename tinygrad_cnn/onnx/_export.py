"""`export`: run the model once under the trace and translate the events into an ONNX graph.

Values are keyed by their producer (see _trace.Ref). A constant is anything that does not depend on an input:
parameters, buffers, tensors made inside forward, and the results of ops whose tensor arguments are all constants
(folded: e.g. LeNet-5's connection-table mask times its weight becomes one initializer, the masked weight).
"""
from __future__ import annotations

import enum
from typing import Any

from . import _ops_nn, _ops_pointwise, _ops_shape  # noqa: F401  (register the translators)
from ._call import OPS, Call, ExportError
from ._graph import GraphBuilder, Value
from ._modules import MODULES, ModuleCall
from ._trace import ModuleEvent, OpEvent, Ref, Trace

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


class _Translator:
    """Walks the trace's events, keeping the ONNX name of every value produced so far."""

    def __init__(self, b: GraphBuilder, model: Any, trace: Trace, inputs: dict[int, str]) -> None:
        self.b, self.trace = b, trace
        self.names = {("leaf", k): v for k, v in inputs.items()}  # producer key -> ONNX name
        self.const_nodes: set = set()  # id(ctx) of folded ops
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
        hint = self.state_names.get(id(ref.tensor), "const")
        return Value(None, arr.shape, arr.dtype, arr, hint)  # a parameter, buffer or folded constant

    def arg(self, a: Any) -> Any:
        return self.value(a) if isinstance(a, Ref) else a

    def path(self, modules: tuple) -> str:
        if not modules:
            return "the model's forward (outside any submodule)"
        name, kind = self.module_names.get(id(modules[-1]), ("<unregistered module>", type(modules[-1]).__name__))
        return f"module {name} ({kind})"

    def run(self) -> None:
        for i, ev in enumerate(self.trace.events):
            if i in self.skip:
                continue
            if isinstance(ev, OpEvent):
                self.op(ev)
            elif isinstance(ev, ModuleEvent):
                self.module(ev)
            else:
                self.compare(ev)

    def op(self, ev: OpEvent) -> None:
        modules = ev.ctx.metadata.get("modules", ())
        args = [self.arg(a) for a in ev.args]
        tensors = [a for a in args if isinstance(a, Value)]
        if all(t.const is not None for t in tensors):
            self.const_nodes.add(id(ev.ctx))
            return  # folded: consumers see the result as a constant
        translate = OPS.get(ev.fn)
        call = Call(self.b, ev.fn, args, self.path(modules))
        if translate is None:
            raise ExportError(f"tg.onnx.export: no ONNX translation for the op {ev.fn.__name__} in {call.path}")
        outs = translate(call)
        for nr, name in enumerate(outs if isinstance(outs, list) else [outs]):
            self.names[("node", id(ev.ctx), nr)] = name

    def module(self, ev: ModuleEvent) -> None:
        x = self.value(ev.input)
        call = ModuleCall(self.b, ev.module, x, tuple(ev.output.array.shape), self.path((ev.module,)),
                          self.state_names)
        self.names[ev.output.key] = MODULES[type(ev.module)][1](call)

    def compare(self, ev: CompareEvent) -> None:
        args = [self.arg(a) for a in ev.args]
        if all(not isinstance(a, Value) or a.const is not None for a in args):
            return  # a constant mask
        name = ev.ufunc.__name__
        call = Call(self.b, type(ev), args, "a comparison")
        like = args[0]
        if name == "not_equal":
            out = self.b.node("Not", [self.b.node("Equal", [call.name(args[0], like), call.name(args[1], like)])])
        elif name in _COMPARE:
            out = self.b.node(_COMPARE[name], [call.name(args[0], like), call.name(args[1], like)])
        else:
            raise ExportError(f"tg.onnx.export: no ONNX translation for the tensor operation {name}")
        self.names[("leaf", id(ev.output))] = out
