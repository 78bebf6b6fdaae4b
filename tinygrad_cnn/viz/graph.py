"""`draw_graph`: the recorded graph behind a tensor as a graphviz Digraph.

One node per recorded op (op name, output shape, dtype); leaves named after parameters; inputs, buffers and
outputs drawn with their own shapes and colours; shapes on the edges; ops grouped in nested clusters per module
(`features.3 (Conv2d)`), modules deeper than `max_depth` folded into one box. After a backward run inside
`tg.viz.record_gradients()`, `show_grads=True` colours nodes by gradient norm and marks NaN/Inf. Every node has a
tooltip (SVG: hover) with its full shape, dtype and the min/max/mean of its value and gradient when known.
"""
from __future__ import annotations

from typing import Any, Callable

import graphviz

from ..autograd.function import AccumulateGrad
from . import style as S
from .groups import Layout, layout
from .names import param_count
from .walk import GraphIndex, OP, OUTPUT, Vertex, index_graph

Annotate = Callable[[Vertex], "tuple[dict, str | None] | None"]


class GraphDrawing(graphviz.Digraph):
    """A graphviz.Digraph that also knows the graph it shows (`index`, `layout`) and saves/displays itself."""

    index: GraphIndex | None = None
    layout: Layout | None = None

    def export(self, path: str, format: str | None = None) -> str:  # noqa: A002 - graphviz's argument name
        """Write the rendered image to exactly `path` (format from the suffix: svg, png, pdf, or 'dot' source).

        (graphviz's own `save()` writes the DOT source and `render(name, format=...)` writes `name.<format>`.)"""
        fmt = format or str(path).rsplit(".", 1)[-1].lower()
        data = self.source.encode() if fmt in ("dot", "gv") else self.pipe(format=fmt)
        with open(path, "wb") as f:
            f.write(data)
        return str(path)

    def svg(self) -> str:
        return self.pipe(format="svg").decode("utf-8")

    def _repr_svg_(self) -> str:  # Jupyter
        return self.svg()

    def key_of(self, node_or_tensor: Any) -> str | None:
        """The DOT node name drawn for an autograd node (or for a tensor's grad_fn / leaf)."""
        if self.index is None:
            return None
        node = node_or_tensor
        if hasattr(node, "_data"):  # a tensor: its grad_fn, or its AccumulateGrad when it is a leaf
            node = node.grad_fn if node.grad_fn is not None else node._accumulator
        key = self.index.by_node.get(id(node))
        return self.layout.display.get(key, key) if key is not None and self.layout else key


def draw_graph(output: Any, params: Any = None, show_shapes: bool = True, show_grads: bool = False,
               show_values: bool = False, group_modules: bool = True, max_depth: int | None = None,
               rankdir: str = "TB", annotate: Annotate | None = None) -> GraphDrawing:
    """Draw the graph that computed `output` (a tensor or a sequence of tensors).

    Args:
        params: names for leaves: a dict name -> tensor, (name, tensor) pairs, or a Module. Parameters of the
            modules that ran are named automatically (`features.0.weight`).
        show_shapes: output shape and dtype on every node, shapes on edges.
        show_grads: colour by the norm of the gradient each node received (log scale, legend); NaN/Inf in red;
            the first op in backward order that produced a non-finite gradient as a red double octagon. Needs the
            backward to have run inside `tg.viz.record_gradients()`; before backward nodes are drawn dashed,
            "not yet backpropagated".
        show_values: min/max/mean of each value in the label (values are known for leaves and outputs, and for
            every op when the forward ran inside `tg.autograd.graph_recording()`).
        group_modules: one cluster per module, nested like the modules.
        max_depth: modules at this depth (the root module is 0) are drawn as one box each.
        rankdir: graphviz direction, 'TB' (top to bottom) or 'LR'.
        annotate: fn(vertex) -> (extra node attributes, extra label line) or None (used by check_graph reports).
    """
    index = index_graph(output, params)
    lay = layout(index, group_modules, max_depth)
    g = GraphDrawing(name="graph", graph_attr=dict(rankdir=rankdir, ranksep="0.3", nodesep="0.25"),
                     node_attr=dict(fontname="Helvetica", fontsize="10", height="0.3"),
                     edge_attr=dict(fontname="Helvetica", fontsize="9", color="#606060", arrowsize="0.6"))
    g.index, g.layout = index, lay
    grad_info = _GradView(index)  # gradient stats go into tooltips whenever they are known
    grads = grad_info if show_grads else None
    bodies = {(): g}
    for path, module in lay.clusters.items():
        c = graphviz.Digraph(name=f"cluster_{len(bodies)}")
        c.attr(label=index.naming.module_label(module), style="rounded", color="#8090B0", fontname="Helvetica",
               fontsize="11", labeljust="l")
        bodies[path] = c
    for key, v in index.vertices.items():
        if lay.display[key] != key:
            continue
        attrs, label, tip = _vertex_look(v, index, show_shapes, show_values, grads, annotate, grad_info)
        bodies[lay.cluster_of.get(key, ())].body.append(_node_line(key, label, tip, attrs))
    for grp in lay.groups.values():
        attrs, label, tip = _group_look(grp, index, show_shapes, grads)
        bodies[lay.cluster_of.get(grp.key, ())].body.append(_node_line(grp.key, label, tip, attrs))
    for path in sorted(lay.clusters, key=len, reverse=True):  # innermost first: a cluster is complete when added
        bodies[path[:-1]].subgraph(bodies[path])
    _edges(g, index, lay, show_shapes)
    if grads is not None:
        S.add_grad_legend(g, grads.scale, grads.any_nonfinite, grads.first is not None, grads.any_pending)
    return g


def _q(value: str) -> str:
    """A DOT double-quoted string body: quotes escaped; backslash escapes such as \\n kept (graphviz's rules)."""
    return value.replace('"', '\\"')


def _node_line(key: str, label: str, tooltip: str, attrs: dict) -> str:
    """One node statement. Written directly rather than with Digraph.node(), whose per-attribute quoting costs
    ~100 us a node: a 20 000-op graph is then a fraction of a second instead of several."""
    rest = "".join(f' {k}="{_q(str(v))}"' for k, v in attrs.items())
    return f'\t{key} [label="{_q(label)}" tooltip="{_q(tooltip)}"{rest}]\n'


def _edges(g: graphviz.Digraph, index: GraphIndex, lay: Layout, show_shapes: bool) -> None:
    seen = set()
    for ln in index.links:
        s, d = lay.display[ln.src], lay.display[ln.dst]
        if s == d or (s, d, ln.shape) in seen:
            continue
        seen.add((s, d, ln.shape))
        if show_shapes:
            shape = S.fmt_shape(ln.shape)
            g.body.append(f'\t{s} -> {d} [label=" {shape}" tooltip="{shape} {ln.dtype}"]\n')
        else:
            g.body.append(f"\t{s} -> {d}\n")


class _GradView:
    """Per-vertex gradient stats for show_grads, the colour scale and the first non-finite node."""

    def __init__(self, index: GraphIndex) -> None:
        self.stats: dict = {}
        self.pending: set = set()
        firsts = []
        for key, v in index.vertices.items():
            meta = v.node.metadata.get("grad") if v.node is not None else None
            if meta is not None:
                self.stats[key] = (meta.norm, meta.finite, [s for s in meta.out if s is not None])
                if meta.produced_nonfinite or not meta.finite:
                    firsts.append((not meta.produced_nonfinite, meta.step, key))
            elif isinstance(v.node, AccumulateGrad):
                grad = getattr(v.tensor, "grad", None)  # a leaf backpropagated without record_gradients
                if grad is not None:
                    from ..autograd.graph_record import grad_stats

                    st = grad_stats(grad._data)
                    self.stats[key] = (st.norm, st.finite, [st])
                else:
                    self.pending.add(key)
            elif v.kind == OP:
                self.pending.add(key)
        self.first = min(firsts)[2] if firsts else None
        self.scale = S.LogScale([n for n, ok, _ in self.stats.values() if ok])
        self.any_nonfinite = any(not ok for _, ok, _ in self.stats.values())
        self.any_pending = bool(self.pending)

    def look(self, key: str, node: Any) -> tuple[dict, str | None, str | None]:
        """(attributes, label line, tooltip line) for one vertex."""
        if key in self.stats:
            norm, ok, outs = self.stats[key]
            tip = "; ".join(S.grad_text(s) for s in outs)
            if key == self.first:
                return dict(S.FIRST_NONFINITE), "FIRST NON-FINITE GRAD", tip
            if not ok:
                return dict(style="filled", fillcolor=S.NONFINITE, fontcolor="white"), "grad NaN/Inf", tip
            return self.scale.style(norm), f"|grad| {S.fmt_num(norm)}", tip
        if key in self.pending:
            freed = getattr(node, "_freed", False)
            text = "backpropagated (not recorded)" if freed else "not yet backpropagated"
            return dict(S.PENDING), text, text
        return {}, None, None


def _vertex_look(v: Vertex, index: GraphIndex, show_shapes: bool, show_values: bool, grads: _GradView | None,
                 annotate: Annotate | None, grad_info: _GradView) -> tuple[dict, str, str]:
    attrs = dict(S.KIND_STYLE[v.kind])
    if v.kind == OP:
        title = v.node.name()
    elif v.kind == OUTPUT:
        title = v.name or "output"
    else:
        title = v.name or ("input (requires grad)" if v.kind == "input" else v.kind)
    lines = [title]
    tips = [title]
    if v.kind == OP and v.modules:
        tips.append("module: " + " / ".join(index.naming.module_label(m) for m in v.modules))
    if v.shape is not None:
        shape_line = f"{S.fmt_shape(v.shape)} {v.dtype}"
        tips.append(f"shape {shape_line}")
        if show_shapes:
            lines.append(shape_line)
    vs = S.value_stats(v.array)
    if vs is not None:
        tips.append("value: " + vs)
        if show_values:
            lines.append(vs)
    if grads is not None:
        extra, line, tip = grads.look(v.key, v.node)
        attrs.update(extra)
        lines += [line] if line else []
        tips += ["grad: " + tip] if tip else []
    elif v.key in grad_info.stats:
        tips.append("grad: " + "; ".join(S.grad_text(st) for st in grad_info.stats[v.key][2]))
    if annotate is not None:
        res = annotate(v)
        if res is not None:
            attrs.update(res[0])
            lines += [res[1]] if res[1] else []
            tips += [res[1]] if res[1] else []
    return attrs, "\\n".join(lines), "\\n".join(tips)


def _group_look(grp: Any, index: GraphIndex, show_shapes: bool, grads: _GradView | None) -> tuple[dict, str, str]:
    attrs = dict(S.KIND_STYLE["module"])
    label = index.naming.module_label(grp.module)
    n = param_count(grp.module)
    lines = [label]
    io = f"in {', '.join(S.fmt_shape(s) for s in grp.in_shapes) or '-'}\\nout " \
         f"{', '.join(S.fmt_shape(s) for s in grp.out_shapes) or '-'}"
    if show_shapes:
        lines.append(io)
    lines.append(f"{n:,} params")
    tips = [label, io, f"{n:,} parameters", f"{len(grp.members)} nodes folded in"]
    if grads is not None:
        members = [k for k in grp.members if k in grads.stats]
        if grads.first in grp.members:
            attrs.update(S.FIRST_NONFINITE)
            lines.append("FIRST NON-FINITE GRAD inside")
        elif any(not grads.stats[k][1] for k in members):
            attrs.update(style="filled", fillcolor=S.NONFINITE, fontcolor="white")
            lines.append("grad NaN/Inf inside")
        elif members:
            norm = max(grads.stats[k][0] for k in members)
            attrs.update(grads.scale.style(norm))
            lines.append(f"max |grad| {S.fmt_num(norm)}")
        else:
            attrs.update(S.PENDING)
            lines.append("not yet backpropagated")
    return attrs, "\\n".join(lines), "\\n".join(tips)


__all__ = ["draw_graph", "GraphDrawing"]
