"""`tg.utils.data`: Dataset, TensorDataset, Subset, ConcatDataset, random_split, samplers and DataLoader.

Names and semantics follow `torch.utils.data`; see docs/data.md for the differences (in-process workers,
numpy-based shuffling, the `get_batch` fast path).
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .distributed import DistributedSampler
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info", "random_split", "DistributedSampler"]
