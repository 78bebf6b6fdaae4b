"""Pooling gradients by the textbook rules (UFLDL), plain loops over windows; kernel = stride, no padding.

- mean pooling: each input cell of a window receives delta / (k*k) (the delta is spread evenly, "upsampled");
- max pooling: the whole delta goes to the window's maximum (the first one in row-major order on ties).
"""
from __future__ import annotations

import numpy as np


def mean_pool_grad(x: np.ndarray, delta: np.ndarray, k: int) -> np.ndarray:
    grad = np.zeros(x.shape)
    for n in range(delta.shape[0]):
        for c in range(delta.shape[1]):
            for i in range(delta.shape[2]):
                for j in range(delta.shape[3]):
                    grad[n, c, i * k:(i + 1) * k, j * k:(j + 1) * k] += delta[n, c, i, j] / (k * k)
    return grad


def max_pool_grad(x: np.ndarray, delta: np.ndarray, k: int) -> np.ndarray:
    grad = np.zeros(x.shape)
    for n in range(delta.shape[0]):
        for c in range(delta.shape[1]):
            for i in range(delta.shape[2]):
                for j in range(delta.shape[3]):
                    window = x[n, c, i * k:(i + 1) * k, j * k:(j + 1) * k]
                    u, v = divmod(int(np.argmax(window)), k)  # np.argmax: first maximum, row-major
                    grad[n, c, i * k + u, j * k + v] += delta[n, c, i, j]
    return grad
