"""DataLoader: batches from a dataset through a sampler and a collate function, as `torch.utils.data.DataLoader`.

Loading happens in the calling process. `num_workers > 0` is accepted (and its arguments checked as torch checks
them) but runs in-process too, in the same order: numpy fancy indexing already fills a batch in microseconds, and
worker processes would only add pickling. `get_worker_info()` is therefore always None and `worker_init_fn` is
never called. `pin_memory` has no effect (there is only the CPU).

Fast path: with the default collate function, a dataset that has `get_batch(indices)` (TensorDataset, Subset of
one, MNIST, FashionMNIST, CIFAR10, SyntheticDigits) is asked for the whole batch at once instead of item by item.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ...random import Generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def get_worker_info() -> None:
    """Always None: batches are loaded in the main process (see the module docstring)."""
    return None


class _InfiniteConstantSampler(Sampler):
    """None forever: the index stream for an IterableDataset, which ignores indices."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


class DataLoader:
    """Iterate over `dataset` in batches.

    Each batch is `collate_fn([dataset[i] for i in batch_indices])`; with the default collate function, samples of
    Tensors (*) become batches (B, *) (see `default_collate`). `shuffle=True` draws a new permutation per epoch from
    `generator` or from the global generator (`tg.manual_seed`). `len(loader)` is the number of batches:
    ceil(N / batch_size), or floor(N / batch_size) with `drop_last=True`.

    Raises ValueError for incompatible options, with torch's messages (e.g. sampler and shuffle together,
    batch_sampler with batch_size/shuffle/sampler/drop_last, batch_size <= 0, num_workers < 0).
    """

    __initialized = False

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        _check_worker_args(num_workers, timeout, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.multiprocessing_context, self.in_order = multiprocessing_context, in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.generator = generator
        self._default_collate = collate_fn is None or collate_fn is default_collate
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__initialized and attr in _FROZEN:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> "_DataLoaderIter":
        return _DataLoaderIter(self)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _DataLoaderIter:
    """One pass over the loader: indices from the (batch) sampler, data fetched and collated in-process."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._dataset = loader.dataset
        self._collate_fn = loader.collate_fn
        self._auto = loader._auto_collation
        self._sampler_iter = iter(loader._index_sampler)
        self._num_yielded = 0
        self._ended = False
        self._dataset_iter = iter(loader.dataset) if loader._iterable else None
        get_batch = getattr(loader.dataset, "get_batch", None)
        self._get_batch = get_batch if (callable(get_batch) and loader._default_collate and self._auto
                                        and not loader._iterable) else None

    def __iter__(self) -> "_DataLoaderIter":
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self) -> Any:
        index = next(self._sampler_iter)
        data = self._fetch_iterable(index) if self._dataset_iter is not None else self._fetch_map(index)
        self._num_yielded += 1
        return data

    def _fetch_map(self, index: Any) -> Any:
        if not self._auto:
            return self._collate_fn(self._dataset[index])
        if self._get_batch is not None:
            return self._get_batch(np.asarray(index, dtype=np.int64))
        getitems = getattr(self._dataset, "__getitems__", None)
        data = getitems(index) if callable(getitems) else [self._dataset[i] for i in index]
        return self._collate_fn(data)

    def _fetch_iterable(self, index: Any) -> Any:
        if self._ended:
            raise StopIteration
        if not self._auto:
            return self._collate_fn(next(self._dataset_iter))
        data = list(itertools.islice(self._dataset_iter, len(index)))
        if len(data) < len(index):
            self._ended = True
        if not data or (self._loader.drop_last and len(data) < len(index)):
            raise StopIteration
        return self._collate_fn(data)


def _check_worker_args(num_workers: int, timeout: float, prefetch_factor: int | None,
                       persistent_workers: bool) -> None:
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         "multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                         "to enable multiprocessing, otherwise set prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
