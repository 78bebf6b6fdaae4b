"""tg.utils.data against torch.utils.data: collate rules, sampler/loader order and length, seeding, errors."""
from __future__ import annotations

import time
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn.utils import data as D

torch = pytest.importorskip("torch")
TD = torch.utils.data

Point = namedtuple("Point", ["x", "y"])


def _plain(obj):
    """A comparable structure: tensors -> (dtype name, nested list); containers recursively."""
    if isinstance(obj, (tg.Tensor, torch.Tensor)):
        return (str(obj.dtype).split(".")[-1], obj.tolist())
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, [_plain(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_plain(v) for v in obj])
    return obj


def _both(make):
    """make(m) builds a sample using module m's tensor factory; returns (tg sample, torch sample)."""
    return make(tg), make(torch)


COLLATE_CASES = {
    "ints": lambda m: [3, -1, 7],
    "floats": lambda m: [0.5, 1.25],
    "bools": lambda m: [True, False],
    "strings": lambda m: ["a", "bc"],
    "numpy_f32": lambda m: [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "numpy_u8": lambda m: [np.arange(4, dtype=np.uint8), np.arange(4, dtype=np.uint8)],
    "numpy_scalars": lambda m: [np.float32(1.5), np.float32(2.0)],
    "numpy_int_scalars": lambda m: [np.int64(4), np.int64(5)],
    "tensors": lambda m: [m.tensor([[1.0, 2.0]]), m.tensor([[3.0, 4.0]])],
    "int_tensors": lambda m: [m.tensor(1), m.tensor(2)],
    "tuples": lambda m: [(m.tensor([1.0]), 0), (m.tensor([2.0]), 1)],
    "lists": lambda m: [[1, 2.0], [3, 4.0]],
    "dicts": lambda m: [{"img": m.tensor([1.0, 2.0]), "label": 3, "name": "x"},
                        {"img": m.tensor([3.0, 4.0]), "label": 5, "name": "y"}],
    "nested": lambda m: [{"pair": (1, [2.5, np.ones(2)])}, {"pair": (3, [4.5, np.zeros(2)])}],
    "namedtuple": lambda m: [Point(1, 2.0), Point(3, 4.0)],
}


@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    ours, theirs = _both(COLLATE_CASES[case])
    assert _plain(D.default_collate(ours)) == _plain(TD.default_collate(theirs))


@pytest.mark.parametrize("sample", [np.arange(3), (np.ones(2), 1), {"a": np.zeros(1)}, 5, "s", Point(np.ones(1), 2)])
def test_default_convert_matches_torch(sample):
    assert _plain(D.default_convert(sample)) == _plain(TD.default_convert(sample))


def test_default_collate_errors_like_torch():
    for bad in ([object(), object()], [np.array(["a"]), np.array(["b"])]):
        with pytest.raises(TypeError) as theirs:
            TD.default_collate(bad)
        with pytest.raises(TypeError) as ours:
            D.default_collate(bad)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="equal size"):
        D.default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size.*\[2\] at entry 0"):
        D.default_collate([tg.ones(2), tg.ones(3)])


def test_collate_keeps_graph_when_samples_require_grad():
    w = tg.ones(3, requires_grad=True)
    batch = D.default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0, 5.0]


def _tensor_pair(m, n=10):
    x = m.arange(n * 2, dtype=m.float32).reshape(n, 2)
    return x, m.arange(n)


@given(n=st.integers(1, 23), bs=st.integers(1, 7), drop_last=st.booleans())
def test_sequential_batches_and_len_match_torch(n, bs, drop_last):
    ours = D.DataLoader(D.TensorDataset(*_tensor_pair(tg, n)), batch_size=bs, drop_last=drop_last)
    theirs = TD.DataLoader(TD.TensorDataset(*_tensor_pair(torch, n)), batch_size=bs, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]


def test_batch_size_none_yields_converted_items():
    ds = [np.arange(2) + i for i in range(3)]
    ours, theirs = D.DataLoader(ds, batch_size=None), TD.DataLoader(ds, batch_size=None)
    assert len(ours) == len(theirs) == 3
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]


def test_list_dataset_item_by_item_and_custom_collate():
    ds = [(float(i), {"id": i}) for i in range(5)]
    (a, b), = [[a, b] for a, b in D.DataLoader(ds, batch_size=5)]
    assert a.dtype == tg.float64 and b["id"].tolist() == [0, 1, 2, 3, 4]
    sizes = [len(x) for x in D.DataLoader(ds, batch_size=2, collate_fn=lambda items: items)]
    assert sizes == [2, 2, 1]


def test_shuffle_is_a_permutation_reproduced_by_manual_seed():
    loader = D.DataLoader(D.TensorDataset(*_tensor_pair(tg, 50)), batch_size=8, shuffle=True)
    tg.manual_seed(123)
    first = np.concatenate([y.numpy() for _, y in loader])
    second = np.concatenate([y.numpy() for _, y in loader])
    tg.manual_seed(123)
    again = np.concatenate([y.numpy() for _, y in loader])
    assert sorted(first.tolist()) == list(range(50))
    assert (first == again).all()
    assert not (first == second).all()  # each epoch draws a fresh permutation
    assert not (first == np.arange(50)).all()


def test_generator_overrides_the_global_seed():
    ds = D.TensorDataset(*_tensor_pair(tg, 40))

    def order(seed, global_seed):
        tg.manual_seed(global_seed)
        loader = D.DataLoader(ds, batch_size=40, shuffle=True, generator=tg.Generator().manual_seed(seed))
        return next(iter(loader))[1].tolist()

    assert order(7, 0) == order(7, 99)
    assert order(7, 0) != order(8, 0)


def test_samplers():
    assert list(D.SequentialSampler(range(4))) == [0, 1, 2, 3]
    tg.manual_seed(0)
    perm = list(D.RandomSampler(range(20)))
    assert sorted(perm) == list(range(20)) and perm != list(range(20))
    draws = list(D.RandomSampler(range(5), replacement=True, num_samples=200))
    assert len(draws) == 200 and set(draws) <= set(range(5)) and len(set(draws)) == 5
    long = list(D.RandomSampler(range(4), num_samples=10))
    assert len(long) == 10 and sorted(long[:4]) == [0, 1, 2, 3] and sorted(long[4:8]) == [0, 1, 2, 3]
    sub = list(D.SubsetRandomSampler([10, 20, 30]))
    assert sorted(sub) == [10, 20, 30]
    w = list(D.WeightedRandomSampler([0.0, 1.0, 0.0], 6))
    assert w == [1] * 6


@pytest.mark.parametrize("bs,drop_last", [(3, False), (3, True), (5, True), (1, False), (20, False)])
def test_batch_sampler_matches_torch(bs, drop_last):
    ours = D.BatchSampler(D.SequentialSampler(range(10)), bs, drop_last)
    theirs = TD.BatchSampler(TD.SequentialSampler(range(10)), bs, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_and_batch_sampler_options():
    ds = D.TensorDataset(*_tensor_pair(tg, 10))
    got = [y.tolist() for _, y in D.DataLoader(ds, batch_size=4, sampler=[9, 8, 7, 6, 5])]
    assert got == [[9, 8, 7, 6], [5]]
    got = [y.tolist() for _, y in D.DataLoader(ds, batch_sampler=[[0, 5], [2], [9, 1, 3]])]
    assert got == [[0, 5], [2], [9, 1, 3]]
    loader = D.DataLoader(ds, batch_sampler=D.BatchSampler(D.SequentialSampler(ds), 4, True))
    assert len(loader) == 2 and loader.batch_size is None


def _message(fn):
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize("kwargs", [
    {"batch_size": 0}, {"batch_size": -2}, {"shuffle": True, "sampler": [0, 1]},
    {"batch_sampler": [[0]], "batch_size": 2}, {"batch_sampler": [[0]], "shuffle": True},
    {"batch_sampler": [[0]], "drop_last": True}, {"batch_sampler": [[0]], "sampler": [0]},
    {"batch_size": None, "drop_last": True}, {"num_workers": -1}, {"timeout": -1},
    {"prefetch_factor": 2}, {"persistent_workers": True}, {"drop_last": 1},
])
def test_option_errors_match_torch(kwargs):
    ours = _message(lambda: D.DataLoader(list(range(4)), **kwargs))
    theirs = _message(lambda: TD.DataLoader(list(range(4)), **kwargs))
    assert ours == theirs


def test_batch_size_error_text_and_frozen_attributes():
    assert _message(lambda: D.DataLoader([1], batch_size=0)) == \
        "batch_size should be a positive integer value, but got batch_size=0"
    loader = D.DataLoader([1, 2])
    assert _message(lambda: setattr(loader, "batch_size", 4)) == \
        "batch_size attribute should not be set after DataLoader is initialized"


def test_num_workers_runs_in_process_with_same_batches():
    ds = D.TensorDataset(*_tensor_pair(tg, 9))
    a = [y.tolist() for _, y in D.DataLoader(ds, batch_size=4, num_workers=2)]
    b = [y.tolist() for _, y in D.DataLoader(ds, batch_size=4)]
    assert a == b and D.get_worker_info() is None


class _Stream(D.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset_matches_torch(drop_last):
    class TStream(TD.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    ours = D.DataLoader(_Stream(7), batch_size=3, drop_last=drop_last)
    theirs = TD.DataLoader(TStream(), batch_size=3, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        D.DataLoader(_Stream(3), shuffle=True)


def test_tensor_dataset_items_and_size_error():
    x, y = _tensor_pair(tg, 6)
    ds = D.TensorDataset(x, y)
    xi, yi = ds[4]
    assert len(ds) == 6 and xi.tolist() == [8.0, 9.0] and yi.item() == 4
    with pytest.raises(AssertionError, match=r"Size mismatch between tensors.*\[6, 5\].*\(6, 2\), \(5,\)"):
        D.TensorDataset(x, tg.arange(5))


def test_subset_concat_and_add_match_torch():
    ours = D.ConcatDataset([list(range(3)), list(range(10, 15))])
    theirs = TD.ConcatDataset([list(range(3)), list(range(10, 15))])
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-8, 8)] == [theirs[i] for i in range(-8, 8)]
    sub = D.Subset(D.TensorDataset(*_tensor_pair(tg, 10)), [7, 2, 5])
    assert [sub[i][1].item() for i in range(3)] == [7, 2, 5]
    assert [y.tolist() for _, y in D.DataLoader(sub, batch_size=2)] == [[7, 2], [5]]
    both = D.TensorDataset(*_tensor_pair(tg, 2)) + D.TensorDataset(*_tensor_pair(tg, 3))
    assert isinstance(both, D.ConcatDataset) and len(both) == 5


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [0.33, 0.33, 0.34], [1 / 3] * 3])
def test_random_split_lengths_match_torch(lengths):
    ours = D.random_split(range(10), lengths)
    theirs = TD.random_split(range(10), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    flat = sorted(i for s in ours for i in s.indices)
    assert flat == list(range(10))


def test_random_split_seeding_and_errors():
    a = D.random_split(range(20), [5, 15], generator=tg.Generator().manual_seed(3))
    b = D.random_split(range(20), [5, 15], generator=tg.Generator().manual_seed(3))
    assert a[0].indices == b[0].indices
    tg.manual_seed(1)
    c = D.random_split(range(20), [5, 15])
    tg.manual_seed(1)
    assert D.random_split(range(20), [5, 15])[0].indices == c[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        D.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        D.random_split(range(10), [1.0, -0.5, 0.5])


def test_tensor_dataset_epoch_is_fast():
    """The fancy-indexing fast path: an MNIST-sized epoch with batch 50 takes a small fraction of a second."""
    x = tg.from_numpy(np.zeros((60000, 1, 28, 28), np.float32))
    y = tg.from_numpy(np.zeros(60000, np.int64))
    loader = D.DataLoader(D.TensorDataset(x, y), batch_size=50, shuffle=True)
    start = time.perf_counter()
    shapes = {tuple(xb.shape) for xb, _ in loader}
    elapsed = time.perf_counter() - start
    assert shapes == {(50, 1, 28, 28)}
    assert elapsed < 0.5, f"one epoch took {elapsed:.2f} s"
    train, _ = D.random_split(loader.dataset, [50000, 10000])  # Subsets keep the fast path
    start = time.perf_counter()
    assert sum(1 for _ in D.DataLoader(train, batch_size=50, shuffle=True)) == 1000
    assert time.perf_counter() - start < 0.5


def test_subset_fast_path_equals_item_by_item():
    x, y = _tensor_pair(tg, 30)
    sub = D.random_split(D.TensorDataset(x, y), [0.5, 0.5], generator=tg.Generator().manual_seed(0))[1]
    fast = list(D.DataLoader(sub, batch_size=4))
    slow = list(D.DataLoader(sub, batch_size=4, collate_fn=lambda b: D.default_collate(b)))
    assert [[t.tolist() for t in b] for b in fast] == [[t.tolist() for t in b] for b in slow]
