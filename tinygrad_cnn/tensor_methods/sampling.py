"""Tensor sampling methods: bernoulli / bernoulli_, multinomial, exponential_ (torch's names and checks).

Samples come from the global generator (tg.manual_seed) or a given tg.Generator; they carry no gradient (torch's
derivative of a sample with respect to its probabilities is zero, and it records none either).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import is_tensor, wrap

if TYPE_CHECKING:
    from ..tensor import Tensor


class SamplingMixin:
    """Random samples drawn with the tensor's values as parameters, or written into the tensor in place."""

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> "Tensor":
        """1 with probability self (or p), else 0, elementwise; self's shape and dtype. Probabilities in [0, 1]."""
        probs = self._data if p is None else np.broadcast_to(_probabilities(p), self._data.shape)
        _check_unit_interval(probs, "bernoulli")
        return wrap(_draw(generator, probs).astype(self._data.dtype))

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> "Tensor":
        """Fill self with 0/1 samples, 1 with probability p (a number or a tensor broadcastable to self)."""
        probs = np.broadcast_to(_probabilities(p), self._data.shape)
        _check_unit_interval(probs, "bernoulli_")
        return self._fill_random(_draw(generator, probs), "bernoulli_")

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> "Tensor":
        """Fill self with samples of the exponential distribution of rate lambd (mean 1 / lambd)."""
        from ..random import rng_of

        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return self._fill_random(rng_of(generator).exponential(1.0 / lambd, self._data.shape), "exponential_")

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> "Tensor":
        """Category indices drawn with probability proportional to self's non-negative weights.

        Shape: (C) -> (num_samples), (N, C) -> (N, num_samples), int64. Without replacement, categories of
        weight 0 are drawn only after all others (torch's behaviour).
        """
        from ..random import rng_of

        w = _check_weights(self, int(num_samples), replacement)
        rng = rng_of(generator)
        rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
        n = int(num_samples)
        if replacement:
            cdf = np.cumsum(rows, 1)
            u = rng.random((rows.shape[0], n)) * cdf[:, -1:]
            out = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u)])
        else:  # torch's method: the n largest keys w / E, E ~ Exp(1); zero weights (key 0) come last
            keys = rows / rng.exponential(1.0, rows.shape)
            out = np.argsort(-keys, axis=1, kind="stable")[:, :n]
        return wrap(out.astype(np.int64).reshape(*w.shape[:-1], n))


def _probabilities(p: Any) -> np.ndarray:
    return np.asarray(p._data if is_tensor(p) else p, dtype=np.float64)


def _check_unit_interval(probs: np.ndarray, op: str) -> None:
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError(f"{op}: Expected p_in >= 0 && p_in <= 1 to be true, but got false (probabilities from "
                           f"{probs.min():.4g} to {probs.max():.4g}, shape {probs.shape})")


def _draw(generator: Any, probs: np.ndarray) -> np.ndarray:
    from ..random import rng_of

    return (rng_of(generator).random(probs.shape) < probs).astype(np.float64)


def _check_weights(t: Tensor, n: int, replacement: bool) -> np.ndarray:
    """torch's multinomial checks, each naming the shape."""
    w = t._data
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim (got shape {tuple(w.shape)})")
    if w.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {t.dtype}")
    if n <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {n})")
    if not replacement and n > w.shape[-1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"({n} > {w.shape[-1]})")
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if (rows.sum(1) <= 0).any():
        raise RuntimeError(f"multinomial: invalid multinomial distribution (sum of probabilities <= 0) in a row of "
                           f"the weights of shape {tuple(w.shape)}")
    return w
