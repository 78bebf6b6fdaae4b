"""Convolution gradients by the textbook formulas (UFLDL "Convolutional Neural Network" notes), plain loops.

For y = b + x * w (cross-correlation, stride s, zero padding p) and an output delta d = dL/dy:
- grad_w = valid cross-correlation of the padded input with the delta (dilated by the stride),
- grad_x = full convolution of the delta (dilated by the stride) with the kernel, i.e. the full
  cross-correlation with the 180-degree-rotated kernel, cropped by the padding,
- grad_b = the sum of the delta over batch and positions.
"""
from __future__ import annotations

import numpy as np


def correlate_valid(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Valid 2-D cross-correlation of one plane a (H, W) with k (kh, kw), one output pixel at a time."""
    kh, kw = k.shape
    out = np.zeros((a.shape[0] - kh + 1, a.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(a[i:i + kh, j:j + kw] * k)
    return out


def convolve_full(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Full 2-D convolution: pad a by (k - 1) on every side and correlate with k rotated by 180 degrees."""
    kh, kw = k.shape
    padded = np.zeros((a.shape[0] + 2 * (kh - 1), a.shape[1] + 2 * (kw - 1)))
    padded[kh - 1:kh - 1 + a.shape[0], kw - 1:kw - 1 + a.shape[1]] = a
    return correlate_valid(padded, k[::-1, ::-1])


def _pad(x: np.ndarray, p: int) -> np.ndarray:
    out = np.zeros((*x.shape[:2], x.shape[2] + 2 * p, x.shape[3] + 2 * p))
    out[:, :, p:p + x.shape[2], p:p + x.shape[3]] = x
    return out


def _dilate(delta: np.ndarray, stride: int, size: tuple) -> np.ndarray:
    """Put delta[i, j] at (i*stride, j*stride) of a zero plane of the stride-1 output size."""
    out = np.zeros(size)
    out[::stride, ::stride][:delta.shape[0], :delta.shape[1]] = delta
    return out


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """y[n, o] = b[o] + sum_c correlate_valid(x_pad[n, c], w[o, c]) sampled every `stride` pixels."""
    xp = _pad(x, padding)
    out = []
    for n in range(x.shape[0]):
        maps = []
        for o in range(w.shape[0]):
            acc = sum(correlate_valid(xp[n, c], w[o, c]) for c in range(x.shape[1]))
            maps.append(acc[::stride, ::stride] + b[o])
        out.append(maps)
    return np.array(out)


def conv2d_grads(x: np.ndarray, w: np.ndarray, delta: np.ndarray, stride: int, padding: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grad_x, grad_w, grad_b) for a stride/padding conv (groups=1, no dilation) and output delta."""
    xp = _pad(x, padding)
    kh, kw = w.shape[2:]
    full = (xp.shape[2] - kh + 1, xp.shape[3] - kw + 1)  # stride-1 output size
    grad_w = np.zeros(w.shape)
    grad_xp = np.zeros(xp.shape)
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            d = _dilate(delta[n, o], stride, full)
            for c in range(x.shape[1]):
                grad_w[o, c] += correlate_valid(xp[n, c], d)
                grad_xp[n, c] += convolve_full(d, w[o, c])
    grad_x = grad_xp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
    grad_b = delta.sum(axis=(0, 2, 3))
    return grad_x, grad_w, grad_b
