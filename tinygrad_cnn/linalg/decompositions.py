"""tg.linalg's solvers and decompositions: inv, solve, det, slogdet, qr, svd, svdvals, eigh, eigvalsh.

Thin wrappers that check shapes (naming the function and the shapes, as torch) and call the primitives in
tinygrad_cnn/ops/linalg.py, whose gradients are torch's formulas.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..ops import linalg as L
from ..tensor import Tensor

_Slogdet = namedtuple("slogdet", ["sign", "logabsdet"])
_QR = namedtuple("qr", ["Q", "R"])
_SVD = namedtuple("svd", ["U", "S", "Vh"])
_Eigh = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def _square(A: Any, op: str) -> Tensor:
    _matrix(A, op)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices (shape {tuple(A.shape)})")
    return A


def _matrix(A: Any, op: str) -> Tensor:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions (got shape {tuple(A.shape)})")
    if not A.is_floating_point():
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {A.dtype}")
    return A


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (left=False: X A = B). Shapes: A (*, n, n); B (*, n, k) or (*, n) -> X of B's shape,
    batch dims broadcast."""
    _square(A, "linalg.solve")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({A.shape[-2]}x"
                           f"{A.shape[-1]} and {Bm.shape[-2]}x{Bm.shape[-1]}; A {tuple(A.shape)}, B {tuple(B.shape)})")
    try:
        batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(Bm.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dimensions of A {tuple(A.shape)} and B {tuple(B.shape)} do "
                           f"not broadcast") from None
    dt = np.result_type(A._data.dtype, Bm._data.dtype)
    A2 = A.to(dt).expand(*batch, *A.shape[-2:])
    B2 = Bm.to(dt).expand(*batch, *Bm.shape[-2:])
    X = L.Solve.apply(A2, B2)
    return X.squeeze(-1) if vector else X


def inv(A: Tensor) -> Tensor:
    """A^-1 (a solve with the identity). Shape: (*, n, n) -> (*, n, n). RuntimeError for a singular A."""
    _square(A, "linalg.inv")
    eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), tuple(A.shape))
    try:
        return L.Solve.apply(A, np.ascontiguousarray(eye))
    except L.LinAlgError:
        raise L.LinAlgError(f"linalg.inv: The diagonal element {_first_zero_pivot(A)} is zero, the inversion could "
                           f"not be completed because the input matrix is singular (shape {tuple(A.shape)})") from None


def _first_zero_pivot(A: Tensor) -> int:
    """1-based position of the first zero pivot of A's LU factorisation (torch's message names it)."""
    a = np.array(A._data.reshape(-1, *A.shape[-2:])[0], dtype=np.float64)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:] -= np.outer(a[k + 1:, k] / a[k, k], a[k])
    return n


def slogdet(A: Tensor) -> Any:
    """(sign, log|det A|). Shapes: (*, n, n) -> (*), (*). The sign carries no gradient."""
    _square(A, "linalg.slogdet")
    sign = Tensor._wrap(np.asarray(np.linalg.slogdet(A._data)[0]))
    return _Slogdet(sign, L.LogAbsDet.apply(A))


def det(A: Tensor) -> Tensor:
    """det A = sign * exp(log|det A|). Shape: (*, n, n) -> (*). Its gradient det(A) A^-T needs an invertible A
    (torch also differentiates at singular matrices)."""
    sign, logabs = slogdet(_square(A, "linalg.det"))
    return sign * logabs.exp()


def qr(A: Tensor, mode: str = "reduced") -> Any:
    """A = Q R. Shapes: A (*, m, n) -> Q (*, m, k), R (*, k, n) with k = min(m, n) ('reduced'); Q (*, m, m),
    R (*, m, n) ('complete'); 'r': Q is empty. Gradients for m >= n, mode 'reduced' (or square 'complete')."""
    _matrix(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           f"or 'complete'")
    if mode == "r":
        r = np.linalg.qr(A._data, mode="r")
        out = Tensor._wrap(np.asarray(r))
        return _QR(Tensor._wrap(np.zeros(0, A._data.dtype)), out.requires_grad_(False))
    return _QR(*L.Qr.apply(A, mode))


def svd(A: Tensor, full_matrices: bool = True) -> Any:
    """A = U diag(S) Vh, S descending. Shapes: A (*, m, n) -> U (*, m, m|k), S (*, k), Vh (*, n|k, n)."""
    _matrix(A, "linalg.svd")
    return _SVD(*L.Svd.apply(A, bool(full_matrices)))


def svdvals(A: Tensor) -> Tensor:
    """The singular values of A, descending. Shape: (*, m, n) -> (*, min(m, n))."""
    _matrix(A, "linalg.svdvals")
    return L.Svd.apply(A, False)[1]


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and eigenvectors of a symmetric A, read from its lower ('L') or upper ('U')
    triangle. Shapes: (*, n, n) -> (*, n), (*, n, n)."""
    _square(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _Eigh(*L.Eigh.apply(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of a symmetric A, ascending. Shape: (*, n, n) -> (*, n)."""
    return eigh(A, UPLO)[0]
