"""torch-like printing: `tensor([1., 2.], requires_grad=True)`, `grad_fn=<MulBackward0>`, non-default dtypes.

The layout rules are torch's (torch/_tensor_str.py): one width for every element (right-aligned), whole floats as
`1.`, 4 decimals, scientific notation when magnitudes span more than 1000x or leave [1e-4, 1e8], at most 1000
elements before summarising with 3 edge items, and lines wrapped at 80 columns.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dtypes

PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80


class _Formatter:
    """Chooses int/fixed/scientific mode and the common width from the (summarised) values, as torch does."""

    def __init__(self, arr: np.ndarray) -> None:
        self.floating = arr.dtype.kind in "fc"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = arr.reshape(-1)
        if not self.floating:
            self.width = max([len(str(v)) for v in flat.tolist()], default=1)
            return
        vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if vals.size == 0:
            return
        absv = np.abs(vals)
        lo, hi = absv.min(), absv.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or (not self.int_mode and lo < 1.0e-4)
        probe = vals.tolist()  # at most THRESHOLD values (or the summarised edges)
        if self.sci_mode:
            self.width = max(len(f"{v:.{PRECISION}e}") for v in probe)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in probe)
        else:
            self.width = max(len(f"{v:.{PRECISION}f}") for v in probe)

    def format(self, value: Any) -> str:
        if self.floating:
            if self.sci_mode:
                s = f"{value:.{PRECISION}e}"
            elif self.int_mode:
                s = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
            else:
                s = f"{value:.{PRECISION}f}"
        else:
            s = str(value)
        return s.rjust(self.width)


def _summarized(arr: np.ndarray) -> np.ndarray:
    """Only the edge items of every dim (what is printed when summarising), for choosing the format."""
    for d, n in enumerate(arr.shape):
        if n > 2 * EDGEITEMS:
            arr = np.concatenate([arr.take(range(EDGEITEMS), axis=d), arr.take(range(n - EDGEITEMS, n), axis=d)],
                                 axis=d)
    return arr


def _vector(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
    if summarize and arr.shape[0] > 2 * EDGEITEMS:
        data = ([fmt.format(v) for v in arr[:EDGEITEMS].tolist()] + [" ..."]
                + [fmt.format(v) for v in arr[-EDGEITEMS:].tolist()])
    else:
        data = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _body(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """Nested brackets, iterating over the leading dim (depth is the tensor's ndim, not the graph's)."""
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, fmt)
    n = arr.shape[0]
    if summarize and n > 2 * EDGEITEMS:
        rows = ([_body(arr[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."]
                + [_body(arr[i], indent + 1, summarize, fmt) for i in range(n - EDGEITEMS, n)])
    else:
        rows = [_body(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_repr(t: Any) -> str:
    arr = t._data
    prefix = "tensor("
    suffixes = []
    default_float = dtypes.get_default_dtype().np
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if arr.dtype != default_float:
            suffixes.append(f"dtype={t.dtype}")
        body = "[]"
    else:
        if arr.dtype not in (default_float, np.dtype(np.int64), np.dtype(np.bool_)):
            suffixes.append(f"dtype={t.dtype}")
        summarize = arr.size > THRESHOLD
        fmt = _Formatter(_summarized(arr) if summarize else arr)
        body = _body(arr, len(prefix), summarize, fmt)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, len(prefix))


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Append `, suffix` items, moving one to a new line when it would pass the line width (as torch)."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts) + ")"
