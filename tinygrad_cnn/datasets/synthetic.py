"""SyntheticDigits: seven-segment digits drawn with numpy, for offline demos and fast tests.

Each image is one digit 0..num_classes-1 in seven-segment style with a random size, aspect, slant, stroke width,
position and brightness, plus Gaussian pixel noise. A small CNN learns it to >90% test accuracy in a few seconds,
and the data are a pure function of (n, image_size, num_classes, seed, train): no files, no network.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..tensor import Tensor
from .vision import VisionDataset

__all__ = ["SyntheticDigits"]

# Segment end points in glyph coordinates: x in [0, 1] left to right, y in [0, 1] top to bottom.
_SEGMENTS = np.array([
    [[0, 0], [1, 0]],      # a: top
    [[1, 0], [1, .5]],     # b: upper right
    [[1, .5], [1, 1]],     # c: lower right
    [[0, 1], [1, 1]],      # d: bottom
    [[0, .5], [0, 1]],     # e: lower left
    [[0, 0], [0, .5]],     # f: upper left
    [[0, .5], [1, .5]],    # g: middle
], dtype=np.float32)  # (7, 2 ends, xy)
_DIGITS = ["abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc", "abcdefg", "abcdfg"]
_ACTIVE = np.array([[s in d for s in "abcdefg"] for d in _DIGITS])  # (10, 7) bool


def render_digits(labels: np.ndarray, image_size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one seven-segment glyph per label. Shape: labels (N,) -> uint8 images (N, S, S)."""
    n, s = len(labels), image_size
    height = rng.uniform(0.55, 0.75, n) * s  # glyph size in pixels
    width = height * rng.uniform(0.45, 0.65, n)
    slant = rng.uniform(-0.2, 0.2, n)  # x shift per pixel of y: italic glyphs
    thick = np.maximum(height * rng.uniform(0.1, 0.16, n), 1.5)
    # Shift the centre by up to 15% of the image, never pushing the glyph over the border.
    room_x = np.clip((s - width - np.abs(slant) * height) / 2 - 1, 0, 0.15 * s)
    room_y = np.clip((s - height) / 2 - 1, 0, 0.15 * s)
    cx = s / 2 + rng.uniform(-1, 1, n) * room_x
    cy = s / 2 + rng.uniform(-1, 1, n) * room_y
    # Shorten every segment a little at both ends so the strokes leave the seven-segment gaps.
    mid = _SEGMENTS.mean(axis=1, keepdims=True)
    seg = mid + (_SEGMENTS - mid) * 0.82  # (7, 2 ends, xy)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) + 0.5
    px, py = xx.ravel()[None], yy.ravel()[None]  # (1, S*S) pixel centres
    f32 = lambda a: a.astype(np.float32)[:, None]  # noqa: E731 - (N,) -> (N, 1) float32 column
    cx, cy, height, width, slant, half = f32(cx), f32(cy), f32(height), f32(width), f32(slant), f32(thick / 2)
    active = _ACTIVE[labels]  # (N, 7)
    ink = np.zeros((n, s * s), np.float32)
    for k in range(7):  # distance from every pixel to segment k of every glyph, in pixels
        ends = []
        for x, y in seg[k]:
            dy = (y - 0.5) * height
            ends.append((cx + (x - 0.5) * width - slant * dy, cy + dy))  # (N, 1) each
        (x0, y0), (x1, y1) = ends
        vx, vy = x1 - x0, y1 - y0
        rx, ry = px - x0, py - y0  # (N, S*S)
        t = np.clip((rx * vx + ry * vy) / (vx * vx + vy * vy), 0, 1)
        dist = np.sqrt((rx - t * vx) ** 2 + (ry - t * vy) ** 2)
        stroke = np.clip(half - dist + 0.5, 0, 1)  # anti-aliased edge, one pixel wide
        np.maximum(ink, np.where(active[:, k:k + 1], stroke, 0), out=ink)
    img = ink * rng.uniform(0.65, 1.0, (n, 1)) + rng.normal(0, 0.08, ink.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8).reshape(n, s, s)


class SyntheticDigits(VisionDataset):
    """Procedurally drawn digits with MNIST's item format: (float32 (1, S, S) in [0, 1], int label).

    Args:
        n: number of images (default 6000 for train, 1000 for test). Classes are balanced (label = i % C,
            shuffled).
        image_size: S, e.g. 28 (MNIST-like) or 32 (LeNet-5's input).
        num_classes: C in 1..10; the labels are the digits 0..C-1.
        seed: the train and test splits of one seed are different draws.
        transform, target_transform: as MNIST (transform receives the uint8 (S, S) numpy image).

    Attributes: `data` uint8 Tensor (N, S, S), `targets` int64 Tensor (N,), `classes`.
    """

    def __init__(self, n: int | None = None, image_size: int = 28, num_classes: int = 10, seed: int = 0,
                 train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(None, transform, target_transform)
        n = (6000 if train else 1000) if n is None else n
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"SyntheticDigits: n should be a non-negative int, got {n!r}")
        if not 1 <= num_classes <= 10:
            raise ValueError(f"SyntheticDigits: num_classes should be in 1..10, got {num_classes}")
        if image_size < 12:
            raise ValueError(f"SyntheticDigits: image_size should be at least 12 pixels, got {image_size}")
        self.train, self.seed, self.image_size = train, seed, image_size
        self.classes = [str(d) for d in range(num_classes)]
        rng = np.random.default_rng([seed, 0 if train else 1])
        labels = rng.permutation(np.arange(n) % num_classes)
        chunks = [render_digits(labels[i:i + 256], image_size, rng) for i in range(0, n, 256)]  # bounded memory
        images = np.concatenate(chunks) if chunks else np.zeros((0, image_size, image_size), np.uint8)
        self.data = Tensor._wrap(images)  # (N, S, S) uint8
        self.targets = Tensor._wrap(labels.astype(np.int64))  # (N,)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}\nImage size: {self.image_size}\nSeed: {self.seed}"
