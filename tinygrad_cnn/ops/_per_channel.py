"""numpy kernels for per-channel maps and sums over x (N, C, *) (the array path of ops/batch_norm.py).

numpy's reductions over axes (0, 2, 3) of NCHW are slow (strided inner loops), and broadcasting a (C, 1) vector
against (N, C, M) runs one inner loop per (n, c) row, slow when M = prod(*) is short. So:
- sums over N and M are GEMVs with a ones vector (channel_sum) or einsum dots, then a sum over N;
- elementwise maps run on a 2-D view (R, L) of x in tiles of about _BLOCK elements (temporaries stay in cache),
  with each (C,) vector laid out to match a row (_Layout).
"""
from __future__ import annotations

import numpy as np

_BLOCK = 1 << 16  # elements per tile: a tile of each operand and a temporary stay in a 1 MiB L2 cache
_SPREAD_MIN_N = 4  # from this batch size a vector repeated along a whole sample is amortised over the samples


class _Layout:
    """How an (N, C, M) array is walked. With N >= _SPREAD_MIN_N: rows are samples (R, L) = (N, C*M) and a (C,)
    vector becomes one (C*M,) row (np.repeat) shared by every sample. With fewer samples (group/layer norm shapes)
    that row would cost as much as the data: rows are (sample, channel) pairs, (R, L) = (N*C, M), and a vector
    becomes an (N*C, 1) column."""

    def __init__(self, shape: tuple) -> None:
        self.N, self.C, self.M = shape
        self.spread = self.N >= _SPREAD_MIN_N
        self.R, self.L = (self.N, self.C * self.M) if self.spread else (self.N * self.C, self.M)
        per = max(1, _BLOCK // max(1, self.L))
        self.tiles = [slice(r, r + per) for r in range(0, self.R, per)]  # row slices of about _BLOCK elements

    def view(self, x3: np.ndarray) -> np.ndarray:
        return x3.reshape(self.R, self.L)  # (R, L)

    def vector(self, v: np.ndarray | None) -> np.ndarray | None:
        """A (C,) vector laid out against (R, L): (C*M,) or (N*C, 1)."""
        if v is None:
            return None
        return np.repeat(v, self.M) if self.spread else np.tile(v, self.N)[:, None]

    def part(self, v: np.ndarray | None, rows: slice) -> np.ndarray | None:
        """The piece of a laid-out vector that goes with rows of the view."""
        return v if v is None or self.spread else v[rows]

    def dot(self, a: np.ndarray, b: np.ndarray, rows: slice) -> np.ndarray:
        """sum(a * b) of two tiles (rows of the view), per channel -> (C,)."""
        n = a.shape[0]
        if not self.spread:  # (n, M) tile of (sample, channel) rows: per-row dots, then by channel
            per_row = np.einsum("rm,rm->r", a, b)  # (n,)
            channel = np.arange(rows.start, rows.start + n) % self.C
            return np.bincount(channel, per_row, self.C).astype(per_row.dtype, copy=False)  # summed by channel
        if self.M >= 64:  # long rows: one dot per (n, c) row
            return np.einsum("ncm,ncm->c", a.reshape(n, self.C, -1), b.reshape(n, self.C, -1))
        return np.einsum("nk,nk->k", a, b).reshape(self.C, -1).sum(1)  # short rows: over n first, then M


def channel_sum(x3: np.ndarray) -> np.ndarray:
    """Sum of (N, C, M) over N and M -> (C,): one GEMV per row (x @ ones), then a sum over N."""
    if x3.shape[2] == 1:
        return x3[:, :, 0].sum(0)
    return np.matmul(x3, np.ones(x3.shape[2], x3.dtype)).sum(0)  # (N, C) -> (C,)


def channel_dot(a3: np.ndarray, b3: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
    """sum(a * (b - center)) over N and M of two (N, C, M) arrays -> (C,). b - center is formed tile by tile:
    centring before multiplying keeps the sum free of cancellation when |center| >> spread."""
    if center is None and a3.shape[0] >= _SPREAD_MIN_N:
        lay = _Layout(a3.shape)
        return lay.dot(lay.view(a3), lay.view(b3), slice(0, lay.R))
    if center is None:
        return np.einsum("ncm,ncm->nc", a3, b3).sum(0)  # (N, C): per-row dots, then a sum over N
    lay = _Layout(a3.shape)
    a, b, c = lay.view(a3), lay.view(b3), lay.vector(center)
    return sum(lay.dot(a[rows], b[rows] - lay.part(c, rows), rows) for rows in lay.tiles)


def centred_square_sum(x3: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """sum((x - mean)^2) over N and M of (N, C, M) -> (C,), x - mean formed tile by tile."""
    lay = _Layout(x3.shape)
    x, c = lay.view(x3), lay.vector(mean)
    total = np.zeros(lay.C, np.result_type(x, mean))
    for rows in lay.tiles:
        d = x[rows] - lay.part(c, rows)
        total += lay.dot(d, d, rows)
    return total


def affine(x3: np.ndarray, scale: np.ndarray | None, shift: np.ndarray | None, x23: np.ndarray | None = None,
           scale2: np.ndarray | None = None) -> np.ndarray:
    """x * scale + shift + x2 * scale2 on (N, C, M) arrays with (C,) vectors or None, tile by tile -> (N, C, M)."""
    lay = _Layout(x3.shape)
    args = (x3, scale, shift, x23, scale2)
    out = np.empty((lay.R, lay.L), np.result_type(*(a for a in args if a is not None)))  # (R, L)
    x, x2 = lay.view(x3), None if x23 is None else lay.view(x23)
    s, t, s2 = (lay.vector(v) for v in (scale, shift, scale2))
    for rows in lay.tiles:
        o = out[rows]
        if s is not None:
            np.multiply(x[rows], lay.part(s, rows), out=o)
        else:
            o[...] = x[rows]
        if x2 is not None:
            o += x2[rows] * lay.part(s2, rows) if s2 is not None else x2[rows]
        if t is not None:
            o += lay.part(t, rows)
    return out.reshape(x3.shape)
