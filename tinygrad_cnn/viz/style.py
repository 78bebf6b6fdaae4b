"""Colours, shapes and text of drawn nodes; the gradient colour scale and its legend.

Kinds are told apart by shape and colour: blue ellipses are parameters, yellow houses inputs, purple cylinders
buffers, grey notes unnamed tensors without grad (constants, or inputs not named with params=), green octagons
outputs, grey boxes ops. Gradient norms map to a viridis-like scale on log10, with NaN/Inf in red and the first
op whose backward produced a non-finite gradient drawn as a thick red double octagon.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

KIND_STYLE = {
    "op": dict(shape="box", style="rounded,filled", fillcolor="#E8E8E8"),
    "param": dict(shape="ellipse", style="filled", fillcolor="#A8D4F0"),
    "input": dict(shape="invhouse", style="filled", fillcolor="#FFE58A"),
    "buffer": dict(shape="cylinder", style="filled", fillcolor="#D8C8F0"),
    "output": dict(shape="octagon", style="filled", fillcolor="#B8E08C"),
    "module": dict(shape="box3d", style="filled", fillcolor="#F4D9B0"),
    "constant": dict(shape="note", style="filled", fillcolor="#F2F2F2", color="#808080"),
}
NONFINITE = "#E03030"
PENDING = dict(style="dashed,rounded,filled", fillcolor="#FFFFFF", color="#909090", fontcolor="#707070")
FIRST_NONFINITE = dict(shape="doubleoctagon", penwidth="3", color="#800000", fillcolor=NONFINITE,
                       fontcolor="white", style="filled")
ZERO_GRAD = "#F0F0F0"
# viridis at 0, .25, .5, .75, 1 (matplotlib's colormap, sampled): perceptually even, readable in grey print
_STOPS = [(0x44, 0x01, 0x54), (0x3B, 0x52, 0x8B), (0x21, 0x91, 0x8C), (0x5E, 0xC9, 0x62), (0xFD, 0xE7, 0x25)]


def fmt_shape(shape: Any) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt_num(x: float) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.3g}" if x == 0 or 1e-3 <= abs(x) < 1e4 else f"{x:.2e}"


def value_stats(arr: np.ndarray | None) -> str | None:
    """'min .. max .. mean ..' of a float array (None for no value / empty / non-numeric)."""
    if arr is None or arr.size == 0 or arr.dtype.kind not in "fiub":
        return None
    a = arr.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        return f"min {fmt_num(float(a.min()))}  max {fmt_num(float(a.max()))}  mean {fmt_num(float(a.mean()))}"


def grad_text(stats: Any) -> str:
    return (f"|grad| {fmt_num(stats.norm)}  min {fmt_num(stats.min)}  max {fmt_num(stats.max)}  "
            f"mean {fmt_num(stats.mean)}" + ("" if stats.finite else "  NON-FINITE"))


def color_at(t: float) -> str:
    """Hex colour at t in [0, 1] on the viridis-like scale."""
    t = min(1.0, max(0.0, t)) * (len(_STOPS) - 1)
    i = min(int(t), len(_STOPS) - 2)
    f = t - i
    rgb = [round(a + (b - a) * f) for a, b in zip(_STOPS[i], _STOPS[i + 1])]
    return "#" + "".join(f"{c:02X}" for c in rgb)


class LogScale:
    """Maps gradient norms to colours on log10 between the smallest and largest positive finite norm."""

    def __init__(self, norms: list) -> None:
        logs = [math.log10(n) for n in norms if n > 0 and math.isfinite(n)]
        self.lo = math.floor(min(logs)) if logs else 0.0
        self.hi = max(math.ceil(max(logs)) if logs else 1.0, self.lo + 1)

    def t(self, norm: float) -> float:
        return (math.log10(norm) - self.lo) / (self.hi - self.lo)

    def style(self, norm: float) -> dict:
        if norm == 0:
            return dict(style="filled", fillcolor=ZERO_GRAD, fontcolor="black")
        t = self.t(norm)
        return dict(style="filled", fillcolor=color_at(t), fontcolor="white" if t < 0.55 else "black")


def add_grad_legend(g: Any, scale: LogScale, nonfinite: bool, first: bool, pending: bool) -> None:
    """A 'legend' cluster: the colour scale at each power of ten, then the markers that occur in this drawing."""
    with g.subgraph(name="cluster_legend") as c:
        c.attr(label="gradient norm (log10 scale)", fontsize="11", style="rounded", color="#A0A0A0")
        decades = list(range(int(scale.lo), int(scale.hi) + 1))
        step = max(1, math.ceil(len(decades) / 6))  # at most ~6 swatches
        keys = []
        for e in decades[::step]:
            t = (e - scale.lo) / (scale.hi - scale.lo)
            key = f"legend_{len(keys)}"
            c.node(key, f"1e{e}", shape="box", style="filled", fillcolor=color_at(t),
                   fontcolor="white" if t < 0.55 else "black", fontsize="10")
            keys.append(key)
        c.node(f"legend_{len(keys)}", "zero", shape="box", style="filled", fillcolor=ZERO_GRAD, fontsize="10")
        keys.append(f"legend_{len(keys)}")
        if nonfinite:
            c.node("legend_nan", "NaN / Inf", shape="box", style="filled", fillcolor=NONFINITE, fontcolor="white",
                   fontsize="10")
            keys.append("legend_nan")
        if first:
            c.node("legend_first", "first non-finite\\n(in backward order)", fontsize="10", **FIRST_NONFINITE)
            keys.append("legend_first")
        if pending:
            c.node("legend_pending", "not yet\\nbackpropagated", shape="box", fontsize="10", **PENDING)
            keys.append("legend_pending")
        for a, b in zip(keys, keys[1:]):  # invisible edges keep the swatches in one row/column
            c.edge(a, b, style="invis")


__all__ = ["KIND_STYLE", "fmt_shape", "fmt_num", "value_stats", "grad_text", "color_at", "LogScale",
           "add_grad_legend", "NONFINITE", "PENDING", "FIRST_NONFINITE"]
