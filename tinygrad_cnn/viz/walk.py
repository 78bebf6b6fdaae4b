"""Index a recorded graph for drawing: vertices (ops, leaves, constants, outputs) and the links between them.

The walk starts at the output tensors and follows `node._edges` with an explicit stack (no recursion, so a
20 000-op chain is a plain loop). Every link carries the shape of the tensor flowing along it, taken from the
consumer's recorded input metadata, which also gives each op's output shapes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.function import AccumulateGrad, Context
from ..autograd.graph_record import RecordedArg
from .names import Naming, roots_of

OP, PARAM, INPUT, BUFFER, OUTPUT, CONST = "op", "param", "input", "buffer", "output", "constant"
_DTYPE_NAMES: dict = {}


def dtype_name(dtype: Any) -> str:
    """'float32' for a numpy dtype (cached: str(np.dtype) costs ~20 us, noticeable on 20 000-node graphs)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(np.dtype(dtype))
    return name


@dataclass
class Vertex:
    """One drawn node. key is its DOT name; `node` the autograd node (ops and grad-requiring leaves)."""

    key: str
    kind: str
    node: Any = None
    tensor: Any = None  # leaf variable or output tensor
    array: np.ndarray | None = None  # the value when known
    out_meta: dict = field(default_factory=dict)  # output_nr -> (shape, dtype)
    name: str | None = None
    modules: tuple = ()

    @property
    def shape(self) -> tuple | None:
        if self.array is not None:
            return tuple(self.array.shape)
        meta = self.out_meta.get(0)
        return tuple(meta[0]) if meta else None

    @property
    def dtype(self) -> str | None:
        if self.array is not None:
            return dtype_name(self.array.dtype)
        meta = self.out_meta.get(0)
        return dtype_name(meta[1]) if meta else None


@dataclass
class Link:
    src: str
    dst: str
    arg: int  # which forward argument of dst (0 for an output vertex)
    shape: tuple
    dtype: str
    nr: int = 0  # which output of src


@dataclass
class GraphIndex:
    vertices: dict  # key -> Vertex, in discovery order (outputs first)
    links: list
    naming: Naming
    by_node: dict  # id(node) -> key

    def ops(self) -> list:
        return [v for v in self.vertices.values() if v.kind == OP]

    def consumers(self) -> dict:
        """key -> keys of the vertices its output flows into."""
        out: dict = {}
        for ln in self.links:
            out.setdefault(ln.src, []).append(ln.dst)
        return out


def _as_outputs(output: Any) -> list:
    from ..tensor import Tensor

    items = list(output) if isinstance(output, (list, tuple)) else [output]
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: output {i} is a {type(t).__name__}, expected a Tensor (or a sequence of "
                            f"Tensors)")
    return items


def _walk(outputs: list) -> tuple[list, list, dict]:
    """Nodes in discovery order, (node, arg, nxt, nr) edges and root links, iteratively."""
    order: list = []
    seen: dict = {}
    stack: list = []
    root_links = []
    for k, t in enumerate(outputs):
        if t.requires_grad:
            node, nr = t._edge()
            root_links.append((k, node, nr))
            if id(node) not in seen:
                seen[id(node)] = len(order)
                order.append(node)
                stack.append(node)
    edges = []
    while stack:
        node = stack.pop()
        pending = []
        for i, (nxt, nr) in enumerate(node._edges):
            edges.append((node, i, nxt, nr))
            if nxt is not None and id(nxt) not in seen:
                seen[id(nxt)] = len(order)
                order.append(nxt)
                pending.append(nxt)
        stack.extend(reversed(pending))  # argument 0 is explored first: stable, readable keys
    return order, edges, root_links


def index_graph(output: Any, params: Any = None) -> GraphIndex:
    """Walk the graph behind `output` (a tensor or a sequence of tensors) and name what can be named."""
    from ..nn.parameter import Parameter

    outputs = _as_outputs(output)
    order, edges, root_links = _walk(outputs)
    naming = Naming(roots_of(order), params)
    vertices: dict = {}
    by_node: dict = {}
    for k, t in enumerate(outputs):
        vertices[f"o{k}"] = Vertex(f"o{k}", OUTPUT, tensor=t, array=t._data, name=naming.tensor_name(t))
    for j, node in enumerate(order):
        key = f"n{j}"
        by_node[id(node)] = key
        if isinstance(node, AccumulateGrad):
            var = node.variable
            name = naming.tensor_name(var)
            kind = PARAM if isinstance(var, Parameter) or name is not None else INPUT  # named: torchviz's params
            vertices[key] = Vertex(key, kind, node=node, tensor=var, array=var._data, name=name)
        else:
            vertices[key] = Vertex(key, OP, node=node, modules=node.metadata.get("modules", ()))
    links = []
    consts: dict = {}
    for node, i, nxt, nr in edges:
        if not isinstance(node, Context) or not node._tensor_args[i]:
            continue
        shape, dtype = node._input_meta[i]
        dst = by_node[id(node)]
        if nxt is not None:
            src = by_node[id(nxt)]
            vertices[src].out_meta.setdefault(nr, (tuple(shape), dtype))
        else:
            src = _const_vertex(node, i, vertices, consts, naming)
        links.append(Link(src, dst, i, tuple(shape), dtype_name(dtype), nr))
    for k, node, nr in root_links:
        t = outputs[k]
        src = by_node[id(node)]
        vertices[src].out_meta.setdefault(nr, (tuple(t._data.shape), t._data.dtype))
        links.append(Link(src, f"o{k}", 0, tuple(t._data.shape), dtype_name(t._data.dtype), nr))
    _fill_values(vertices, edges, by_node)
    return GraphIndex(vertices, links, naming, by_node)


def _const_vertex(node: Context, i: int, vertices: dict, consts: dict, naming: Naming) -> str:
    """A tensor argument that needs no grad (model input, target, buffer): one vertex per array when the graph was
    recorded with graph_recording() (so a shared input is drawn once), else one per use."""
    rec = node.metadata.get("inputs")
    arg = rec[i] if rec is not None and i < len(rec) else None
    arr = arg.array if isinstance(arg, RecordedArg) else None
    ident = id(arr) if arr is not None else (id(node), i)
    if ident in consts:
        return consts[ident]
    key = f"c{len(consts)}"
    consts[ident] = key
    name = naming.array_name(arr) if arr is not None else None
    # a tensor without grad is a model input, a target or a constant made in a forward (a mask): only a name
    # (params={'x': x}) tells them apart, so unnamed ones are drawn as constants
    kind = BUFFER if arr is not None and naming.is_buffer(arr) else INPUT if name else CONST
    shape, dtype = node._input_meta[i]
    v = Vertex(key, kind, array=arr, name=name)
    v.out_meta[0] = (tuple(shape), dtype)
    vertices[key] = v
    return key


def _fill_values(vertices: dict, edges: list, by_node: dict) -> None:
    """An op's output value is the recorded input of any op that consumed it (graph_recording() only)."""
    for node, i, nxt, nr in edges:
        if nxt is None or nr != 0:
            continue
        rec = node.metadata.get("inputs")
        v = vertices[by_node[id(nxt)]]
        if v.array is None and rec is not None and isinstance(rec[i], RecordedArg) and not rec[i].modified:
            v.array = rec[i].array


def topo_order(index: GraphIndex) -> list:
    """Vertex keys in forward order (inputs before the ops that use them), by dependency counting."""
    indeg = {k: 0 for k in index.vertices}
    for ln in index.links:
        indeg[ln.dst] += 1
    cons = index.consumers()
    ready = [k for k, d in indeg.items() if d == 0]
    ready.reverse()
    out = []
    while ready:
        k = ready.pop()
        out.append(k)
        for c in cons.get(k, ()):
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    return out



__all__ = ["index_graph", "GraphIndex", "Vertex", "Link", "topo_order", "OP", "PARAM", "INPUT", "BUFFER", "OUTPUT",
           "CONST"]
