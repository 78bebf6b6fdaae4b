"""DistributedSampler: each of num_replicas processes iterates over its own share of the data set (torch's rules).

Every rank draws the same permutation (seeded by seed + epoch, so call set_epoch(e) at the start of each epoch),
pads it by repeating its beginning until it divides evenly (or, with drop_last, cuts the tail), and takes every
num_replicas-th index starting at its rank. The permutation is numpy's, so the order differs from torch's for the same
seed; with shuffle=False the shares are exactly torch's.
"""
from __future__ import annotations

import math
from typing import Iterator, Sized

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices of rank `rank`'s share: num_samples = ceil(len / num_replicas) (drop_last and an uneven length:
    ceil((len - num_replicas) / num_replicas)). num_replicas and rank default to the default process group's.

    Raises:
        ValueError: rank outside [0, num_replicas - 1].
        RuntimeError: num_replicas or rank left out while no process group is initialised.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_available() or not dist.is_initialized():
                raise RuntimeError("Requires distributed package to be available (DistributedSampler: pass "
                                   "num_replicas and rank, or call tg.distributed.init_process_group first)")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:  # deterministic in seed + epoch: every rank draws the same permutation
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use a new permutation for the next iteration (the same on every rank): call once per epoch."""
        self.epoch = epoch
