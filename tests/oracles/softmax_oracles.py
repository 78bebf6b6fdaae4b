"""Hand-derived softmax / cross-entropy formulas in plain numpy, one row at a time (no tinygrad_cnn, no torch).

Derivations (x one row of logits, p = softmax(x), y = log_softmax(x) = x - log sum_k exp x_k):
  d y_j / d x_i = [i == j] - p_i                      => grad_x = g - p * sum(g)          (log_softmax VJP)
  d p_j / d x_i = p_j ([i == j] - p_i)                => grad_x = p * (g - sum(g * p))    (softmax VJP)
Cross-entropy of class indices t with class weights w, over the non-ignored rows R, 'mean' reduction:
  L = sum_{n in R} -w[t_n] y_n[t_n] / sum_{n in R} w[t_n]
  d L / d x_n = w[t_n] (p_n - onehot(t_n)) / sum_{m in R} w[t_m]  for n in R, 0 otherwise
  (no weights: (softmax - onehot) / |R|).
With label smoothing eps, each row adds eps / C * (-sum_c w_c y_n[c]) to (1 - eps) times its NLL term, whose
gradient is eps / C * (p_n * sum_c w_c - w) for n in R; the denominator stays sum_{n in R} w[t_n].
"""
from __future__ import annotations

import math

import numpy as np


def softmax_row(x: np.ndarray) -> np.ndarray:
    """softmax of one 1-D row, written out: exp(x_j - max) / sum_k exp(x_k - max)."""
    m = max(x)
    e = np.array([math.exp(v - m) for v in x])
    return e / e.sum()


def log_softmax_row(x: np.ndarray) -> np.ndarray:
    m = max(x)
    lse = m + math.log(sum(math.exp(v - m) for v in x))
    return np.array([v - lse for v in x])


def log_softmax_2d(x: np.ndarray) -> np.ndarray:
    """(N, C) -> (N, C), rows independent."""
    return np.stack([log_softmax_row(r) for r in x])


def log_softmax_grad_2d(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """VJP of log_softmax over dim 1: g - softmax(x) * sum(g), per row."""
    return np.stack([gr - softmax_row(xr) * gr.sum() for xr, gr in zip(x, g)])


def softmax_grad_2d(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """VJP of softmax over dim 1: p * (g - sum(g * p)), per row."""
    out = []
    for xr, gr in zip(x, g):
        p = softmax_row(xr)
        out.append(p * (gr - (gr * p).sum()))
    return np.stack(out)


def cross_entropy_mean(x: np.ndarray, t: np.ndarray, weight: np.ndarray | None = None, ignore_index: int = -100,
                       label_smoothing: float = 0.0) -> tuple[float, np.ndarray]:
    """(loss, grad_x) of mean-reduced cross-entropy for x (N, C), t (N,), row by row."""
    N, C = x.shape
    w = np.ones(C) if weight is None else weight
    total, denom = 0.0, 0.0
    grad = np.zeros_like(x)
    for n in range(N):
        if t[n] == ignore_index:
            continue
        y = log_softmax_row(x[n])
        p = softmax_row(x[n])
        onehot = np.zeros(C)
        onehot[t[n]] = 1.0
        total += (1 - label_smoothing) * -w[t[n]] * y[t[n]] + label_smoothing / C * -(w * y).sum()
        grad[n] = ((1 - label_smoothing) * w[t[n]] * (p - onehot)
                   + label_smoothing / C * (p * w.sum() - w))
        denom += w[t[n]]
    return total / denom, grad / denom


def nll_grad_sum(shape: tuple, t: np.ndarray, weight: np.ndarray | None = None, ignore_index: int = -100) -> np.ndarray:
    """grad of sum-reduced nll_loss w.r.t. its log-probability input (N, C): -w[t_n] at (n, t_n), else 0."""
    grad = np.zeros(shape)
    for n, c in enumerate(t):
        if c != ignore_index:
            grad[n, c] = -(1.0 if weight is None else weight[c])
    return grad
