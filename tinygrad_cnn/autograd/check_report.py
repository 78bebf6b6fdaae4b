"""What `check_graph` returns: one `NodeCheck` per node and the `GraphCheckReport` that prints and draws them."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

PASSING = ("ok", "float32 tolerance", "ok at smaller eps", "non-differentiable point")
COLORS = {"ok": "#B8E0B0", "float32 tolerance": "#E0F0A0", "ok at smaller eps": "#FFE0A0",
          "non-differentiable point": "#FFC870", "error": "#E03030", "skipped": "#D0D0D0"}


@dataclass
class NodeCheck:
    """The check of one node: which op, where (module path, parameters), how far off, and the verdict.

    verdict: 'ok'; 'float32 tolerance' (the op computes in float32, checked loosely); 'ok at smaller eps' (a kink
    or strong curvature within eps: passes at eps/100); 'non-differentiable point' (ReLU/max ties at the recorded
    point; the backward agrees at a nearby point); 'error' (a wrong backward); 'skipped' (see detail).
    """

    index: int
    node: Any
    op: str
    module: str = ""
    module_path: str = ""
    params: tuple = ()
    max_abs_err: float = math.nan
    max_rel_err: float = math.nan
    passed: bool = True
    verdict: str = "ok"
    detail: str = ""

    def skip(self, why: str) -> None:
        self.verdict, self.passed, self.detail = "skipped", True, why

    def record(self, m: Any, verdict: str | None) -> None:
        self.max_abs_err, self.max_rel_err, self.detail = m.abs_err, m.rel_err, m.detail
        if verdict is not None:
            self.verdict, self.passed = verdict, True

    @property
    def where(self) -> str:
        """'BadReLUBackward in 4 (BadReLU)' - how a failure is named."""
        return f"{self.op} in {self.module}" if self.module else self.op


def _fmt(x: float) -> str:
    return "-" if x != x else f"{x:.2e}"


@dataclass
class GraphCheckReport:
    rows: list
    outputs: list = field(default_factory=list)
    params: Any = None

    @property
    def checked(self) -> int:
        """How many nodes were actually compared (not skipped)."""
        return sum(r.verdict != "skipped" for r in self.rows)

    @property
    def passed(self) -> bool:
        """True when no node failed and at least one was checked: a check of nothing does not pass."""
        return self.checked > 0 and all(r.passed for r in self.rows)

    @property
    def failures(self) -> list:
        return [r for r in self.rows if not r.passed]

    def row_of(self, node: Any) -> NodeCheck | None:
        return next((r for r in self.rows if r.node is node), None)

    def summary(self) -> str:
        counts: dict = {}
        for r in self.rows:
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
        parts = ", ".join(f"{n} {v}" for v, n in counts.items())
        if self.passed:
            head = "PASSED"
        elif not self.checked:
            head = "NOT PASSED (every node was skipped: nothing was checked)"
        else:
            head = f"FAILED ({len(self.failures)} wrong backward)"
        text = f"check_graph {head}: {len(self.rows)} nodes: {parts}"
        if self.failures:
            first = self.failures[0]
            text += f"\nfirst failing node (forward order): #{first.index} {first.where}: {first.detail}"
        return text

    def __str__(self) -> str:
        header = ("#", "node", "module", "parameters", "max abs err", "max rel err", "verdict")
        table = [header] + [(str(r.index), r.op, r.module or "-", ", ".join(r.params) or "-", _fmt(r.max_abs_err),
                             _fmt(r.max_rel_err), r.verdict.upper() if r.verdict == "error" else r.verdict)
                            for r in self.rows]
        widths = [min(max(len(row[c]) for row in table), 40) for c in range(len(header))]
        lines = ["  ".join(cell[:40].ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
        lines.insert(1, "  ".join("-" * w for w in widths))
        notes = [f"  #{r.index} {r.where}: {r.detail}" for r in self.rows
                 if r.detail and r.verdict not in ("ok", "float32 tolerance")]
        return "\n".join(lines + ([""] + notes if notes else []) + ["", self.summary()])

    def __repr__(self) -> str:
        return f"<GraphCheckReport {self.summary().splitlines()[0]}>"

    def draw(self, **kwargs: Any) -> Any:
        """The graph coloured by verdict (green ok, orange kinks, red errors, grey skipped), errors in labels."""
        from ..viz.graph import draw_graph

        by_node = {id(r.node): r for r in self.rows}

        def annotate(v: Any) -> Any:
            r = by_node.get(id(v.node)) if v.node is not None else None
            if r is None:
                return None
            colour = COLORS.get(r.verdict, "#FFFFFF")
            attrs = dict(style="rounded,filled", fillcolor=colour, fontcolor="white" if r.verdict == "error" else
                         "black")
            if r.verdict == "error":
                attrs.update(penwidth="3", color="#800000")
            return attrs, f"{r.verdict}  err {_fmt(r.max_abs_err)}"

        kwargs.setdefault("params", self.params)
        return draw_graph(self.outputs if len(self.outputs) > 1 else self.outputs[0], annotate=annotate, **kwargs)


__all__ = ["NodeCheck", "GraphCheckReport", "PASSING"]
