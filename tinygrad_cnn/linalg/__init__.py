"""tg.linalg: torch.linalg's norms, solvers and decompositions, with gradients where torch has them.

    import tinygrad_cnn as tg
    A = tg.randn(3, 3, dtype=tg.float64, requires_grad=True)
    tg.linalg.det(A).backward()          # A.grad == det(A) * inv(A).T
"""
from .decompositions import det, eigh, eigvalsh, inv, qr, slogdet, solve, svd, svdvals
from .norms import matrix_norm, norm, vector_norm
from ..ops.linalg import LinAlgError

__all__ = ["LinAlgError", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "norm", "qr", "slogdet", "solve", "svd",
           "svdvals", "vector_norm"]
