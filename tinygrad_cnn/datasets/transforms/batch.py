"""Per-sample random augmentation of whole batches (N, C, H, W): one vectorised call instead of N item calls.

Each sample gets its own draw from the global generator (`tg.manual_seed`), with the distribution of the item-wise
transform of the same name: BatchRandomCrop's offsets are uniform like RandomCrop's, BatchRandomHorizontalFlip
flips each sample with probability p. Use them inside the training loop on DataLoader batches.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...random import default_rng
from ...tensor import Tensor
from . import functional as F

__all__ = ["BatchRandomCrop", "BatchRandomHorizontalFlip"]


def _batch_array(x: Any, name: str) -> np.ndarray:
    arr = x._data if isinstance(x, Tensor) else x
    if not isinstance(arr, np.ndarray) or arr.ndim != 4:
        shape = tuple(arr.shape) if hasattr(arr, "shape") else type(x).__name__
        raise ValueError(f"{name}: expected a batch (N, C, H, W), got {shape}")
    return arr


class BatchRandomCrop:
    """Pad the batch (optional), then cut a (h, w) window at an independent random offset for every sample.

    Shape: (N, C, H, W) -> (N, C, h, w). Raises ValueError when the crop exceeds the padded image.
    """

    def __init__(self, size: Any, padding: Any = None, fill: float = 0, padding_mode: str = "constant") -> None:
        self.size = F._size_pair(size, "BatchRandomCrop")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, x: Any) -> Any:
        arr = _batch_array(x, "BatchRandomCrop")
        if self.padding is not None:
            arr = F.pad(Tensor._wrap(arr), self.padding, self.fill, self.padding_mode)._data
        n, _, h, w = arr.shape
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        rng = default_rng()
        top = rng.integers(0, h - th + 1, size=n)
        left = rng.integers(0, w - tw + 1, size=n)
        windows = sliding_window_view(arr, (th, tw), axis=(2, 3))  # (N, C, H-th+1, W-tw+1, th, tw), a view
        out = windows[np.arange(n), :, top, left]  # (N, C, th, tw): the advanced axes (N) go first
        return Tensor._wrap(np.ascontiguousarray(out)) if isinstance(x, Tensor) else np.ascontiguousarray(out)

    def __repr__(self) -> str:
        return f"BatchRandomCrop(size={self.size}, padding={self.padding})"


class BatchRandomHorizontalFlip:
    """Mirror each sample left-right with probability p. Shape: (N, C, H, W) -> (N, C, H, W)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, x: Any) -> Any:
        arr = _batch_array(x, "BatchRandomHorizontalFlip")
        flip = default_rng().random(arr.shape[0]) < self.p  # (N,)
        out = np.where(flip[:, None, None, None], arr[..., ::-1], arr)
        return Tensor._wrap(out) if isinstance(x, Tensor) else out

    def __repr__(self) -> str:
        return f"BatchRandomHorizontalFlip(p={self.p})"
