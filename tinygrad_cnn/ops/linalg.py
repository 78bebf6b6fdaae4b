"""Linear-algebra primitives: Solve, LogAbsDet, Eigh, Svd, Qr (LAPACK through numpy.linalg).

Each backward is written once with operators (`+ - * / @`, `x[...]`, which mean the same on numpy arrays and on
Tensors), `_dual.swap_last` (a batched transpose) and `_dual.call` of these primitives, so it runs on arrays for a
first-order backward and on Tensors (recorded, differentiable again) under create_graph. The formulas are
torch's (FunctionsManual.cpp); inverses are never formed, a solve is used instead.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _dual
from ._primitive import Primitive


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (torch.linalg.LinAlgError, a RuntimeError)."""


_T = _dual.swap_last  # the last two dims swapped, on arrays and Tensors (ndarray.mT needs numpy >= 2)


def _dtype(like: Any) -> np.dtype:
    return like.dtype if isinstance(like, np.ndarray) else like._data.dtype


def _eye(n: int, like: Any) -> np.ndarray:
    """A constant identity in like's dtype (a float64 constant would promote a float32 gradient)."""
    return np.eye(n, dtype=_dtype(like))


class Solve(Primitive):
    """X = A^-1 B. Shapes: A (*, n, n), B (*, n, k) -> X (*, n, k) (equal batch dims; B may be a constant of
    broadcastable batch shape). Gradients: gB = A^-T g, gA = -gB X^T."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError(f"linalg.solve: The solver failed because the input matrix is singular (A of shape "
                               f"{a.shape})") from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = _dual.call(Solve, _T(a), g)
        ga = -(gb @ _T(x)) if ctx.needs_input_grad[0] else None
        return ga, (gb if ctx.needs_input_grad[1] else None)


class LogAbsDet(Primitive):
    """log |det A|. Shapes: A (*, n, n) -> (*). Gradient: g A^-T (the inverse through a solve with I)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.slogdet(a)[1])

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        inv = _dual.call(Solve, a, _eye(n, a))
        return g[..., None, None] * _T(inv)


class Eigh(Primitive):
    """Eigen-decomposition of a symmetric matrix, A = V diag(L) V^T, eigenvalues ascending, from the triangle
    `uplo`. Shapes: A (*, n, n) -> L (*, n), V (*, n, n). Gradient (torch's):
    gA = V (diag(gL) + skew(V^T gV) / E) V^T with skew(X) = (X - X^T) / 2 and E_ij = L_j - L_i."""

    @staticmethod
    def forward(ctx, a, uplo):
        lam, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(lam, v)
        ctx.set_materialize_grads(False)
        return lam, v

    @staticmethod
    def backward(ctx, g_lam, g_v):
        lam, v = ctx.saved_tensors
        n = lam.shape[-1]
        eye = _eye(n, lam)
        inner = 0
        if g_v is not None:
            vtgv = _T(v) @ g_v
            gap = lam[..., None, :] - lam[..., :, None] + eye  # 1 on the diagonal, where skew is 0
            inner = (vtgv - _T(vtgv)) * 0.5 * (1 - eye) / gap
        if g_lam is not None:
            inner = inner + g_lam[..., None] * eye
        return v @ inner @ _T(v), None


class Svd(Primitive):
    """A = U diag(S) Vh. Shapes: A (*, m, n) -> U (*, m, k), S (*, k), Vh (*, k, n), k = min(m, n) (U (*, m, m)
    and Vh (*, n, n) with full_matrices; only their first k columns / rows carry a gradient, as in torch)."""

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        ctx.set_materialize_grads(False)
        return u, s, vh

    @staticmethod
    def backward(ctx, g_u, g_s, g_vh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        g_u = None if g_u is None else g_u[..., :k]
        g_vh = None if g_vh is None else g_vh[..., :k, :]
        eye = _eye(k, s)
        if g_u is None and g_vh is None:  # singular values only: U diag(gS) Vh (no division by gaps)
            return u @ (g_s[..., None] * eye) @ vh, None
        return _svd_vectors_grad(u, s, vh, g_u, g_s, g_vh, eye), None


def _svd_vectors_grad(u: Any, s: Any, vh: Any, g_u: Any, g_s: Any, g_vh: Any, eye: np.ndarray) -> Any:
    """torch's svd_backward when U or Vh has a gradient (real case)."""
    m, n = u.shape[-2], vh.shape[-1]
    v = _T(vh)
    s2 = s * s
    gap = s2[..., None, :] - s2[..., :, None] + eye  # E_jk = S_k^2 - S_j^2, 1 on the diagonal
    inner = 0
    if g_u is not None:
        uhgu = _T(u) @ g_u
        inner = (uhgu - _T(uhgu)) * s[..., None, :] / gap
    if g_vh is not None:
        g_v = _T(g_vh)
        vhgv = _T(v) @ g_v
        inner = inner + s[..., :, None] * (vhgv - _T(vhgv)) / gap
    if g_s is not None:
        inner = inner + g_s[..., None] * eye
    if m > n and g_u is not None:
        gus = g_u / s[..., None, :]
        return (u @ inner + gus - u @ (_T(u) @ gus)) @ vh
    if m < n and g_vh is not None:
        gvs = _T(_T(g_vh) / s[..., None, :])
        return u @ (inner @ vh + gvs - (gvs @ v) @ vh)
    return u @ inner @ vh


class Qr(Primitive):
    """A = Q R, Q with orthonormal columns, R upper triangular. Shapes: A (*, m, n) -> Q (*, m, k), R (*, k, n),
    k = min(m, n) ('reduced'); Q (*, m, m), R (*, m, n) ('complete'). Gradient (torch's), m >= n:
    gA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q, copyltu(M) = tril(M) + tril(M, -1)^T; m < n: with
    A = [X | Y] (X the first m columns), R = [R1 | R2] and Y = Q R2: gY = Q gR2 and gX is the square case for
    (gQ + Y gR2^T, gR1). 'complete' with m > n has no derivative (torch refuses it too)."""

    @staticmethod
    def forward(ctx, a, mode):
        q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        ctx.shape = a.shape
        return q, r

    @staticmethod
    def backward(ctx, g_q, g_r):
        q, r = ctx.saved_tensors
        m, n = ctx.shape[-2:]
        if m > n and q.shape[-1] != n:
            raise RuntimeError(f"linalg.qr: The QR decomposition is not differentiable when mode='complete' and "
                               f"nrows > ncols (A of shape {ctx.shape})")
        if m >= n:
            return _qr_grad_square_r(q, r, g_q, g_r), None
        y = q @ r[..., :, m:]
        g_r1, g_r2 = g_r[..., :, :m], g_r[..., :, m:]
        g_x = _qr_grad_square_r(q, r[..., :, :m], g_q + y @ _T(g_r2), g_r1)
        g_y = q @ g_r2
        dt = _dtype(r)
        first, rest = np.eye(m, n, dtype=dt), np.eye(n - m, n, m, dtype=dt)  # [I | 0] and [0 | I]: a concatenation
        return g_x @ first + g_y @ rest, None


def _qr_grad_square_r(q: Any, r: Any, g_q: Any, g_r: Any) -> Any:
    """gA for A = Q R with R square (k, k): (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""
    k = r.shape[-1]
    mm = r @ _T(g_r) - _T(g_q) @ q
    lower = np.tril(np.ones((k, k), _dtype(r)))
    strict = np.tril(np.ones((k, k), _dtype(r)), -1)
    b = g_q + q @ (mm * lower + _T(mm * strict))
    return _T(_dual.call(Solve, r, _T(b)))
