"""`tg.viz`: draw recorded graphs (graphviz), colour them by gradient flow, step through backward in a browser.

    g = tg.viz.draw_graph(loss)                   # a graphviz.Digraph (shows itself in Jupyter)
    g.export("graph.svg")                         # or tg.viz.save(loss, "graph.svg")
    with tg.viz.record_gradients():
        loss.backward()
    tg.viz.draw_graph(loss, show_grads=True)      # coloured by gradient norm, NaN/Inf marked
    tg.viz.backward_steps(loss2, "steps.html")    # one page stepping through backward node by node
    tg.viz.backward_steps(loss3)                  # the same page inline in Jupyter (a StepsPage)
"""
from __future__ import annotations

from typing import Any

from ..autograd.graph_record import graph_recording, record_gradients
from .graph import GraphDrawing, draw_graph
from .steps import StepsPage, backward_steps


def save(output: Any, path: str, format: str | None = None, **kwargs: Any) -> str:  # noqa: A002
    """Draw the graph behind `output` and write it to `path` (svg/png/pdf/dot from the suffix); kwargs go to
    draw_graph. Returns the path."""
    return draw_graph(output, **kwargs).export(path, format)


__all__ = ["draw_graph", "save", "GraphDrawing", "record_gradients", "graph_recording", "backward_steps",
           "StepsPage"]
