"""Padding layers (torch.nn names, arguments and reprs); each calls F.pad.

`padding` is an int (every side) or a tuple (left, right[, top, bottom[, front, back]]) as in F.pad.
Shape: (*, d_k, ..., d_1) -> (*, d_k + pad_k, ..., d_1 + pad_1) for the last k = 1, 2, 3 dims.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import functional as F
from ...tensor import Tensor
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _ntuple(padding: Any, n: int) -> tuple:
    """torch's _ntuple: an iterable is kept as a tuple (its length is checked by F.pad), a scalar repeated n times."""
    return tuple(padding) if isinstance(padding, Iterable) else (padding,) * n


class _ConstantPadNd(Module):
    padding: tuple

    def __init__(self, padding: Any, value: float, n: int) -> None:
        super().__init__()
        self.value = value
        self.padding = _ntuple(padding, n)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`. Shape: (C, W) or (N, C, W) -> W + left + right."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value, 2)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with `value`. Shape: (C, H, W) or (N, C, H, W) -> (H + top + bottom, W + left + right)."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value, 4)


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with `value`. Shape: (C, D, H, W) or (N, C, D, H, W)."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value, 6)


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ModePadNd(Module):
    """Reflection / replication / circular padding: F.pad with a fixed mode."""

    mode: str
    padding: tuple

    def __init__(self, padding: Any, n: int) -> None:
        super().__init__()
        self.padding = _ntuple(padding, n)

    def _check_input_dim(self, input: Tensor) -> None:
        pass

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Mirror the last dim at its edges (the edge is not repeated); each pad < that dim's size."""

    mode = "reflect"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 2)


class ReflectionPad2d(_ModePadNd):
    """Mirror the last 2 dims at their edges (the edge is not repeated); each pad < that dim's size."""

    mode = "reflect"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 4)


class ReflectionPad3d(_ModePadNd):
    """Mirror the last 3 dims at their edges (the edge is not repeated); each pad < that dim's size."""

    mode = "reflect"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 6)


class ReplicationPad1d(_ModePadNd):
    """Repeat the edge element of the last dim."""

    mode = "replicate"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 2)


class ReplicationPad2d(_ModePadNd):
    """Repeat the edge elements of the last 2 dims."""

    mode = "replicate"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 4)


class ReplicationPad3d(_ModePadNd):
    """Repeat the edge elements of the last 3 dims."""

    mode = "replicate"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 6)


class _CircularPadNd(_ModePadNd):
    mode = "circular"
    ndims: tuple[int, int]

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in self.ndims:
            raise ValueError(f"expected {self.ndims[0]}D or {self.ndims[1]}D input (got {input.dim()}D input)")


class CircularPad1d(_CircularPadNd):
    """Wrap the last dim around. Shape: (C, W) or (N, C, W)."""

    ndims = (2, 3)

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 2)


class CircularPad2d(_CircularPadNd):
    """Wrap the last 2 dims around. Shape: (C, H, W) or (N, C, H, W)."""

    ndims = (3, 4)

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 4)


class CircularPad3d(_CircularPadNd):
    """Wrap the last 3 dims around. Shape: (C, D, H, W) or (N, C, D, H, W)."""

    ndims = (4, 5)

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 6)
