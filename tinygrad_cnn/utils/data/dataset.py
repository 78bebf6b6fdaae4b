"""Map-style and iterable datasets, as in `torch.utils.data.dataset`.

A map-style dataset has `__getitem__(i)` and `__len__()`. Ours may also offer `get_batch(indices)`: the collated
batch that `default_collate([ds[i] for i in indices])` would give, built by fancy indexing in one go. DataLoader calls
it when it uses the default collate function, which makes batching array-backed data (TensorDataset, MNIST) fast.
"""
from __future__ import annotations

import bisect
import itertools
import math
import warnings
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ...random import Generator, rng_of
from ...tensor import Tensor
from .collate import default_collate

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: subclasses define `__getitem__` and usually `__len__`."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define `__iter__`. DataLoader batches it in order, without sampler."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Any) -> Any:
        raise TypeError("ConcatDataset does not support IterableDataset; chain the iterables instead")


class TensorDataset(Dataset):
    """Samples are `tuple(t[i] for t in tensors)`; all tensors share the size of dim 0.

    Shape: tensors (N, *) each; an item is a tuple of (*) slices; `get_batch(idx)` gives a list of (B, *) tensors.
    Raises AssertionError (as torch) when the tensors' first dims differ; the message lists them.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} should be a Tensor, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first (sample) dim")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise AssertionError(f"Size mismatch between tensors: first dims {sizes} (shapes {shapes})")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> list:
        """`default_collate([self[i] for i in indices])` by one fancy index per tensor: a list of (B, *) tensors."""
        idx = np.asarray(indices, dtype=np.int64)
        # Tensors that track gradients go through the differentiable GetItem, as torch.stack would record them.
        return [t[idx] if t.requires_grad else Tensor._wrap(t._data[idx]) for t in self.tensors]


class Subset(Dataset):
    """The items of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        self._index_cache: tuple = (None, None)

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        """The collated batch: vectorised when the wrapped dataset has `get_batch`, item by item otherwise."""
        src, arr = getattr(self, "_index_cache", (None, None))  # subclasses may skip __init__
        if src is not self.indices:  # convert the index list once, not once per batch
            arr = np.asarray(self.indices, dtype=np.int64)
            self._index_cache = (self.indices, arr)
        inner = arr[np.asarray(indices, dtype=np.int64)]
        get_batch = getattr(self.dataset, "get_batch", None)
        if callable(get_batch):
            return get_batch(inner)
        return default_collate(self.__getitems__(list(indices)))


class ConcatDataset(Dataset):
    """The datasets one after another; `cumulative_sizes[k]` is the number of items in datasets 0..k."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[k][idx if k == 0 else idx - self.cumulative_sizes[k - 1]]


def _fraction_lengths(n: int, fractions: Sequence[float]) -> list:
    """torch's rule: floor(n * f) each, then the remainder handed out one by one, round-robin from the first."""
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(math.floor(n * frac))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                          stacklevel=3)
    return lengths


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None) -> list:
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1), in a random order.

    The permutation comes from `generator`, or from the global generator (seeded by `tg.manual_seed`).
    Raises ValueError when the lengths do not add up to `len(dataset)`.
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _fraction_lengths(n, lengths)
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! "
                         f"(lengths {list(lengths)} sum to {sum(lengths)}, the dataset has {n} items)")
    perm = rng_of(generator).permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + int(length)]))
        offset += int(length)
    return out
