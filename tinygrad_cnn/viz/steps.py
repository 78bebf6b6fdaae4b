"""`backward_steps`: one self-contained HTML page that steps through a backward pass node by node.

The page holds the graph as inline SVG and, for every node the engine ran (in the order it ran them), the gradient
that arrived at the node's outputs and the gradient it sent to each of its inputs: shapes and statistics always,
the arrays themselves when they are small. Buttons or the arrow keys move between steps; the node being processed
is outlined, nodes already done turn green, and the edges its gradients flow back along are highlighted.
"""
from __future__ import annotations

import html
import json
from typing import Any

import numpy as np

from ..autograd.function import AccumulateGrad
from ..autograd.graph_record import GradStats, record_gradients
from ._steps_page import PAGE
from .graph import GraphDrawing, draw_graph
from .style import fmt_num, fmt_shape


def _grad_json(s: GradStats | None) -> dict | None:
    if s is None:
        return None
    out = {"shape": fmt_shape(s.shape), "dtype": s.dtype, "norm": fmt_num(s.norm), "min": fmt_num(s.min),
           "max": fmt_num(s.max), "mean": fmt_num(s.mean), "finite": s.finite}
    if s.array is not None:
        out["array"] = np.array2string(s.array, precision=4, suppress_small=False, max_line_width=72,
                                       threshold=10_000)
        out["values"] = s.array.astype(np.float64).tolist()  # exact numbers for scripts reading the page
    return out


def _label(drawing: GraphDrawing, key: str) -> str:
    v = drawing.index.vertices[key]
    if v.kind == "op":
        return v.node.name()
    return v.name or v.kind


def _steps(drawing: GraphDrawing, nodes: list) -> list:
    steps = []
    for node in nodes:
        key = drawing.index.by_node.get(id(node))
        if key is None:
            continue
        meta = node.metadata["grad"]
        step = {"key": key, "title": _label(drawing, key), "module": "", "out": [_grad_json(s) for s in meta.out],
                "inputs": [], "leaf": isinstance(node, AccumulateGrad)}
        mods = node.metadata.get("modules", ())
        if mods:
            step["module"] = " / ".join(drawing.index.naming.module_label(m) for m in mods)
        for i, (nxt, _nr) in enumerate(getattr(node, "_edges", ())):
            if nxt is None or i >= len(meta.inputs) or meta.inputs[i] is None:
                continue
            target = drawing.index.by_node.get(id(nxt))
            step["inputs"].append({"arg": i, "to": target, "to_title": _label(drawing, target) if target else "?",
                                   "grad": _grad_json(meta.inputs[i])})
        steps.append(step)
    return steps


def _inline_svg(svg: str) -> str:
    """graphviz's SVG without the XML prolog and DOCTYPE, so it can sit inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


class StepsPage:
    """The stepper page held in memory (`backward_steps(loss)` without a path): shows itself inline in Jupyter
    (`_repr_html_`, the page in a sandboxed iframe) and `save(path)` writes it."""

    def __init__(self, page: str, height: int = 640) -> None:
        self.html, self.height = page, height

    def save(self, path: str) -> str:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return str(path)

    def _repr_html_(self) -> str:  # an iframe keeps the page's script and styles apart from the notebook's
        return (f'<iframe class="tg-backward-steps" srcdoc="{html.escape(self.html, quote=True)}" '
                f'sandbox="allow-scripts" style="width: 100%; height: {self.height}px; border: 1px solid #ccc">'
                "</iframe>")


def backward_steps(loss: Any, path: str | None = None, params: Any = None, gradient: Any = None,
                   retain_graph: bool = False, max_elements: int = 64, title: str | None = None,
                   **draw_kwargs: Any) -> str | StepsPage:
    """Run `loss.backward()` and write an HTML page stepping through it; returns the path. Without a path,
    returns a StepsPage, which Jupyter shows inline (the stepper inside the notebook).

    Args:
        loss: the tensor to backpropagate from (a scalar, or pass `gradient`). Its leaves' `.grad` are accumulated
            as by an ordinary backward.
        path: the .html file to write; None keeps the page in memory (StepsPage).
        params: names for leaves (as in draw_graph).
        max_elements: gradients with at most this many elements are shown in full; larger ones as statistics.
        draw_kwargs: passed to draw_graph (e.g. rankdir='LR', show_values=True); modules are not collapsed.
    """
    draw_kwargs.pop("max_depth", None)
    drawing = draw_graph(loss, params=params, **draw_kwargs)
    svg = _inline_svg(drawing.svg())
    with record_gradients(keep_arrays_up_to=max_elements) as record:
        loss.backward(gradient, retain_graph=retain_graph)
    data = {"steps": _steps(drawing, record.nodes)}
    first = record.first_nonfinite()
    data["first_nonfinite"] = drawing.index.by_node.get(id(first)) if first is not None else None
    payload = json.dumps(data).replace("</", "<\\/")  # never close the script element early
    page = PAGE.replace("{{TITLE}}", html.escape(title or "backward, step by step")) \
               .replace("{{SVG}}", svg).replace("{{DATA}}", payload)
    return StepsPage(page) if path is None else StepsPage(page).save(path)


__all__ = ["backward_steps", "StepsPage"]
