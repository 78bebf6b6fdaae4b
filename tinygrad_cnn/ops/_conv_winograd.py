"""Winograd F(2x2, 3x3) convolution kernels (3x3, stride 1, no dilation, groups 1): 16 GEMMs for 9 taps x 4 outputs.

Each 4x4 input tile d (tiles every 2 cells) gives a 2x2 output tile y = A^T [(G w G^T) * (B^T d B)] A, the product
summed over channels: per tile component (16 of them) one GEMM (O x C) @ (C x tiles*N), 2.25x fewer FLOPs than
the 36 multiply-adds per 2x2 outputs of im2col. The transforms B and A have entries 0 and +-1: they are additions
of strided views (20 for the input, 24 for the output), on the batch-last layout (C, H, W, N) of _conv_im2col.

The input gradient of a stride-1 convolution is a convolution too (of the output gradient padded by k - 1 - pad,
with the kernel flipped and its channel axes swapped), so `transpose` runs the same forward; the weight gradient
has no Winograd form here (the selector times im2col and FFT for it).
"""
from __future__ import annotations

import numpy as np

from ._windows import Pads, Pair, relayout

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])  # weight transform (4, 3)


def applies(kernel: Pair, stride: Pair, dilation: Pair, groups: int) -> bool:
    return kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1


def _framed(x: np.ndarray, pads: Pads, rows: int, cols: int) -> np.ndarray:
    """x (N, C, H, W) -> (C, rows, cols, N) C-contiguous: x at offset (top, left), zeros around; a negative pad
    crops (the input gradient of a conv padded by more than k - 1)."""
    N, C, H, W = x.shape
    out = np.zeros((C, rows, cols, N), x.dtype)
    top, left = pads[0], pads[2]
    r0, c0 = max(0, -top), max(0, -left)                       # first input row/col that lands in the frame
    r1, c1 = min(H, rows - top), min(W, cols - left)
    if r1 > r0 and c1 > c0:
        relayout(out[:, top + r0:top + r1, left + c0:left + c1].transpose(3, 0, 1, 2), x[:, :, r0:r1, c0:c1])
    return out


def _weight_transform(w: np.ndarray) -> np.ndarray:
    """G w G^T of every (o, c): w (O, C, 3, 3) -> (4, 4, O, C), as two plain GEMMs (not O*C tiny ones)."""
    O, C = w.shape[:2]
    g = _G.astype(w.dtype)
    t = (w.reshape(-1, 3) @ g.T).reshape(O * C, 3, 4).transpose(1, 0, 2)           # (3, O*C, 4): G along j
    return (g @ t.reshape(3, -1)).reshape(4, O, C, 4).transpose(0, 3, 1, 2).copy()  # G along i


def _input_transform(xf: np.ndarray, th: int, tw: int) -> np.ndarray:
    """B^T d B of every tile: xf (C, 2th+2, 2tw+2, N) -> V (16, C, th*tw*N)."""
    C, N = xf.shape[0], xf.shape[3]
    d = [xf[:, i:i + 2 * th:2] for i in range(4)]               # (C, th, 2tw+2, N) views: tile row i
    h = [d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]]
    v = np.empty((4, 4, C, th, tw, N), xf.dtype)
    for a in range(4):
        e = [h[a][:, :, j:j + 2 * tw:2] for j in range(4)]
        np.subtract(e[0], e[2], out=v[a, 0])
        np.add(e[1], e[2], out=v[a, 1])
        np.subtract(e[2], e[1], out=v[a, 2])
        np.subtract(e[1], e[3], out=v[a, 3])
    return v.reshape(16, C, th * tw * N)


def _output_transform(m: np.ndarray, th: int, tw: int, n: int) -> np.ndarray:
    """A^T M A: m (16, O, th*tw*N) -> (O, 2th, 2tw, N)."""
    O = m.shape[1]
    m = m.reshape(4, 4, O, th, tw, n)
    z = np.empty((4, 2, O, th, tw, n), m.dtype)
    for a in range(4):
        np.add(m[a, 0], m[a, 1], out=z[a, 0])
        z[a, 0] += m[a, 2]
        np.subtract(m[a, 1], m[a, 2], out=z[a, 1])
        z[a, 1] -= m[a, 3]
    y = np.empty((O, th, 2, tw, 2, n), m.dtype)
    for s in range(2):
        np.add(z[0, s], z[1, s], out=y[:, :, 0, :, s])
        y[:, :, 0, :, s] += z[2, s]
        np.subtract(z[1, s], z[2, s], out=y[:, :, 1, :, s])
        y[:, :, 1, :, s] -= z[3, s]
    return y.reshape(O, 2 * th, 2 * tw, n)


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, pads: Pads, out_hw: Pair,
            keep: bool = False) -> tuple[np.ndarray, None]:
    """y = conv2d(x, w) + b: x (N, C, H, W), w (O, C, 3, 3) -> (N, O, *out_hw) C-contiguous (no cache)."""
    N, O = x.shape[0], w.shape[0]
    th, tw = (out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2
    v = _input_transform(_framed(x, pads, 2 * th + 2, 2 * tw + 2), th, tw)
    u = _weight_transform(w).reshape(16, O, -1)                                    # (16, O, C)
    y = _output_transform(np.matmul(u, v), th, tw, N)[:, :out_hw[0], :out_hw[1]]     # (O, Ho, Wo, N)
    out = np.empty((N, O, *out_hw), x.dtype)
    relayout(out, y.transpose(3, 0, 1, 2), None if b is None else b.reshape(O, 1, 1))
    return out, None


def transpose(g: np.ndarray, w: np.ndarray, pads: Pads, image_hw: Pair) -> np.ndarray:
    """Adjoint of forward in x: g (N, O, Ho, Wo), w (O, C, 3, 3) -> (N, C, *image_hw), as a forward of g."""
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))      # (C, O, 3, 3)
    return forward(g, flipped, None, (2 - pads[0], 0, 2 - pads[2], 0), image_hw)[0]
