"""`GraphBuilder`: ONNX nodes, initializers and fresh names, with the few ops whose form depends on the opset.

`Value` is what a translator sees for a tensor argument: its ONNX name, the shape and dtype it had in the traced
run, and, for constants (parameters, buffers, folded expressions), the array itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np


@dataclass
class Value:
    name: str | None        # None for a constant not stored yet (see Call.name)
    shape: tuple
    dtype: np.dtype
    const: np.ndarray | None = None
    hint: str = ""          # a name for the initializer of a constant

    @property
    def ndim(self) -> int:
        return len(self.shape)


class GraphBuilder:
    """Collects nodes and initializers. `onnx` is the imported onnx package (imported only when exporting)."""

    def __init__(self, onnx: Any, opset: int) -> None:
        self.onnx, self.opset = onnx, opset
        self.nodes: list = []
        self.initializers: list = []
        self._names: set[str] = set()
        self._const_names: dict[int, str] = {}  # id(array) -> initializer name (shared parameters stored once)
        self._keep: list = []  # arrays whose id is a key above stay alive until the export ends
        self._counter = 0

    def fresh(self, base: str) -> str:
        """A name not used yet, built from base."""
        base = base or "v"
        name = base
        while name in self._names:
            self._counter += 1
            name = f"{base}_{self._counter}"
        self._names.add(name)
        return name

    def reserve(self, name: str) -> str:
        if name in self._names:
            raise ValueError(f"tg.onnx.export: the name {name!r} is used twice (input/output names must be unique)")
        self._names.add(name)
        return name

    def const(self, array: Any, name: str = "const", dtype: Any = None) -> str:
        """An initializer holding array (cast to dtype); the same array object is stored once."""
        arr = np.asarray(array)
        if dtype is not None and arr.dtype != np.dtype(dtype):
            arr = arr.astype(dtype)
        if id(arr) in self._const_names:
            return self._const_names[id(arr)]
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"tg.onnx.export: cannot store a constant of dtype {arr.dtype}")
        unique = self.fresh(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(arr), unique))
        self._const_names[id(arr)] = unique
        self._keep.append(arr)
        return unique

    def ints(self, values: Sequence[int], name: str = "ints") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), name)

    def node(self, op: str, inputs: Sequence[str], outputs: Sequence[str] | None = None, n_out: int = 1,
             name_hint: str = "", **attrs: Any) -> Any:
        """Add a node; returns its output name (or the list of names when it has several)."""
        outs = list(outputs) if outputs is not None else [self.fresh(f"{name_hint or op}_out") for _ in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), outs, name=self.fresh(f"{op}_node"),
                                                     **attrs))
        return outs[0] if len(outs) == 1 else outs

    # --- ops whose signature changed between opsets -------------------------------------------------------------
    def reduce(self, op: str, x: str, axes: Sequence[int] | None, keepdims: bool) -> str:
        """ReduceSum takes axes as an input from opset 13, the other reductions from opset 18."""
        as_input = op == "ReduceSum" or self.opset >= 18
        if axes is None:
            return self.node(op, [x], keepdims=int(keepdims))
        if as_input:
            return self.node(op, [x, self.ints(axes, "axes")], keepdims=int(keepdims))
        return self.node(op, [x], axes=list(axes), keepdims=int(keepdims))

    def squeeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Squeeze", [x, self.ints(axes, "axes")])

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Unsqueeze", [x, self.ints(axes, "axes")])
