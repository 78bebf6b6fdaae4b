"""Broadcast shapes of primitive arguments. Broadcast gradients are summed back with ops/_dual.py's `sum_to`
(STYLE rule 4: the one place that undoes broadcasting), which works on arrays and, under create_graph, on Tensors."""
from __future__ import annotations

from typing import Any


def _shape(a: Any) -> tuple:
    """The shape an operand broadcasts with: a Python scalar has shape ()."""
    return getattr(a, "shape", ())
