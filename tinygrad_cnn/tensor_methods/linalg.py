"""Tensor's linear-algebra methods (torch.Tensor.det, slogdet, logdet, inverse): each is the tg.linalg function."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tensor import Tensor


class LinalgMixin:
    """det / slogdet / logdet / inverse of the matrices in the last two dims (see tinygrad_cnn/linalg)."""

    def det(self) -> "Tensor":
        from .. import linalg

        return linalg.det(self)

    def slogdet(self) -> Any:
        from .. import linalg

        return linalg.slogdet(self)

    def logdet(self) -> "Tensor":
        """log(det A): -inf for a singular A, nan for a negative determinant (torch.logdet)."""
        from .. import linalg
        from ..creation import where

        sign, logabs = linalg.slogdet(self)
        return where(sign < 0, float("nan"), logabs)

    def inverse(self) -> "Tensor":
        from .. import linalg

        return linalg.inv(self)
