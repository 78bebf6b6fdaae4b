"""`Call`: one recorded op as its translator sees it, and the registry of translators by Function class."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._graph import GraphBuilder, Value

OPS: dict[type, Callable[["Call"], Any]] = {}  # Function class -> translator(call) -> output name(s)


def translates(*fns: type) -> Callable:
    """Register the decorated function as the translator of the given Function classes."""

    def deco(tr: Callable) -> Callable:
        for fn in fns:
            OPS[fn] = tr
        return tr

    return deco


class ExportError(RuntimeError):
    """An op or argument the ONNX exporter cannot translate; the message names the op and the module path."""


class Call:
    """A recorded op: its Function class, its forward arguments (Values for tensors, raw values otherwise), where
    it ran (module path) and the builder to emit nodes into."""

    def __init__(self, b: GraphBuilder, fn: type, args: list, path: str, outs: list | None = None) -> None:
        self.b, self.fn, self.args, self.path = b, fn, args, path
        self.outs = outs or []  # (shape, dtype) per output, as traced

    @property
    def op(self) -> str:
        return self.fn.__name__

    def x(self, i: int = 0) -> Value:
        v = self.args[i]
        if not isinstance(v, Value):
            raise self.error(f"argument {i} is not a tensor")
        return v

    def name(self, v: Any, like: Value | None = None) -> str:
        """The ONNX name of a tensor argument; constants become initializers on first use. Python numbers and
        numeric arrays take like's dtype (default: the first tensor argument's), boolean arrays stay masks."""
        if isinstance(v, Value):
            if v.name is None:
                v.name = self.b.const(v.const, v.hint or "const")
            return v.name
        if v is None:
            return ""
        if isinstance(v, np.ndarray) and v.dtype == np.bool_:
            return self.b.const(v, "mask")
        like = like if like is not None else self._first_tensor()
        dtype = like.dtype if like is not None else (self.outs[0][1] if self.outs else None)
        return self.b.const(np.asarray(v, dtype=dtype), "scalar")

    def inp(self, i: int) -> str:
        return self.name(self.args[i])

    def _first_tensor(self) -> Value | None:
        return next((a for a in self.args if isinstance(a, Value)), None)

    def error(self, why: str) -> ExportError:
        return ExportError(f"tg.onnx.export: cannot export {self.op} in {self.path}: {why}")
