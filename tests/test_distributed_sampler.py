"""DistributedSampler vs torch's: shares, padding, drop_last, lengths and errors; shuffling keeps torch's rules."""
import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.utils.data.distributed import DistributedSampler

torch = pytest.importorskip("torch")
from torch.utils.data.distributed import DistributedSampler as TorchSampler  # noqa: E402

CASES = [(n, r, drop) for n in (0, 1, 2, 5, 7, 10, 11) for r in (1, 2, 3, 4) for drop in (False, True)
         if n > 0 or drop]


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_unshuffled_shares_equal_torch(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == ours.num_samples
        assert ours.total_size == theirs.total_size


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (3, 7, False), (9, 3, False)])
def test_shuffled_shares_follow_torch_rules_on_our_permutation(n, replicas, drop_last):
    """The permutation is numpy's; padding and striding must be torch's rules applied to it, and every rank
    must see the same permutation (seed + epoch), a new one after set_epoch."""
    data = list(range(n))
    samplers = [DistributedSampler(data, replicas, r, shuffle=True, seed=3, drop_last=drop_last)
                for r in range(replicas)]
    perm = np.random.default_rng(3).permutation(n).tolist()
    total = samplers[0].total_size
    full = perm[:total] if drop_last else (perm * math.ceil(total / n))[:total]
    for r, s in enumerate(samplers):
        assert list(s) == full[r::replicas]
    for s in samplers:
        s.set_epoch(1)
    perm1 = np.random.default_rng(4).permutation(n).tolist()
    assert perm1 != perm
    full1 = perm1[:total] if drop_last else (perm1 * math.ceil(total / n))[:total]
    assert [list(s) for s in samplers] == [full1[r::replicas] for r in range(replicas)]


def test_epoch_shares_partition_the_data():
    data = list(range(12))
    shares = [list(DistributedSampler(data, 3, r, seed=7)) for r in range(3)]
    assert sorted(sum(shares, [])) == data


@pytest.mark.parametrize("rank", [-1, 3])
def test_invalid_rank_message_as_torch(rank):
    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(5), 3, rank)
    with pytest.raises(ValueError) as theirs:
        TorchSampler(range(5), 3, rank)
    assert str(ours.value) == str(theirs.value)


def test_needs_a_process_group_when_replicas_not_given():
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(5))


def test_dataloader_uses_it():
    ds = tg.utils.data.TensorDataset(tg.arange(10))
    loader = tg.utils.data.DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
    assert tg.utils.data.DistributedSampler is DistributedSampler
