"""nn.functional: embedding (torch.nn.functional name, arguments and defaults).

A lookup is an index gather of rows (GetItem, whose backward scatter-adds, so a row used k times collects k
gradients). padding_idx and scale_grad_by_freq only change the gradient: padding_idx is expressed as
`where(mask, out, out.detach())` (the value is unchanged, the gradient masked), scale_grad_by_freq as the GradScale
primitive (identity; gradient times 1 / count), whose second derivatives are torch's (see ops/grad_scale.py).
"""
from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...ops.grad_scale import GradScale
from ...ops.index import GetItem
from ...tensor import Tensor

__all__ = ["embedding"]


def _padding_index(padding_idx: int | None, num_embeddings: int) -> int | None:
    """torch's rule: -num_embeddings <= padding_idx < num_embeddings; negatives count from the end."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(f"Padding_idx must be within num_embeddings (got padding_idx={padding_idx} with "
                             f"num_embeddings={num_embeddings})")  # torch's exception type
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def _renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """In place, without grad (as torch.embedding_renorm_): rows used by idx whose norm exceeds max_norm are scaled
    to max_norm / (norm + 1e-7)."""
    rows = np.unique(idx)
    w = weight._data[rows]                                             # (R, D)
    norms = np.linalg.norm(w.astype(np.float64), ord=norm_type, axis=1)
    hit = norms > max_norm
    if not hit.any():
        return
    scale = (max_norm / (norms[hit] + 1e-7)).astype(weight._data.dtype)[:, None]   # (R', 1), in the weight's dtype
    with no_grad():
        weight[Tensor._wrap(rows[hit])] = Tensor._wrap(w[hit] * scale)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` picked by the integer `input`: out[..., :] = weight[input[...], :].

    padding_idx: that row's gradient is zero (its value is still looked up). max_norm: rows used here with a larger
    norm_type-norm are first renormalised in place (weight is modified, as in torch). scale_grad_by_freq: each
    row's gradient is divided by how often it occurs in input. sparse gradients are not supported (dense instead).

    Shape: input (*) int64 or int32, weight (num_embeddings, embedding_dim) -> (*, embedding_dim).

    Raises:
        RuntimeError: input not an integer tensor, weight not 2-D.
        IndexError: an index outside [0, num_embeddings).
        AssertionError: padding_idx outside [-num_embeddings, num_embeddings) (torch's type).
    """
    for t, arg in ((input, "input"), (weight, "weight")):
        if not isinstance(t, Tensor):
            raise TypeError(f"embedding(): argument '{arg}' must be Tensor, not {type(t).__name__}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (got shape {tuple(weight.shape)})")
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {input.dtype} instead (input shape {tuple(input.shape)})")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"index out of range in self (embedding: index {bad} with num_embeddings={n}, weight "
                         f"{tuple(weight.shape)})")
    pad = _padding_index(padding_idx, n)
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    out = GetItem.apply(weight, (idx.astype(np.int64),))              # (*, embedding_dim)
    if pad is not None and (idx == pad).any():
        out = out.where(Tensor._wrap(idx[..., None] != pad), out.detach())
    if scale_grad_by_freq and idx.size:
        _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
        c = (1.0 / counts[inverse.reshape(idx.shape)]).astype(weight._data.dtype)[..., None]   # (*, 1)
        out = GradScale.apply(out, c)
    return out
