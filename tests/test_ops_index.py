"""Indexing against torch (float64): basic (ints, negative ints, slices with steps, None, Ellipsis), integer
arrays with duplicates (gradients must add up), boolean masks, mixed indices; gather/index_select; errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from core_helpers import basic_index, normal, seeds, shapes
from parity import check_parity

torch = pytest.importorskip("torch")


@given(shape=shapes(min_dims=1, max_dims=4, min_side=0, max_side=4), seed=seeds, data=st.data())
def test_basic_indexing(shape, seed, data):
    idx = data.draw(basic_index(shape))
    check_parity(lambda m, a: a[idx], [normal(shape, seed)])


def test_negative_index_and_steps():
    x = normal((5, 4), 0)
    for idx in [-1, (-2, -1), (slice(None, None, 2), slice(1, None, 3)), (Ellipsis, -1), (None, 1, Ellipsis, None),
                slice(-3, None), (slice(4, 1), 0)]:
        check_parity(lambda m, a: a[idx], [x])


def test_negative_step_is_refused_like_torch():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        tg.ones(4)[::-1]


@given(shape=shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_integer_array_index_with_duplicates(shape, seed, data):
    n = shape[0]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=6)), dtype=np.int64)
    check_parity(lambda m, a, i: a[i], [normal(shape, seed), idx])
    check_parity(lambda m, a: a[idx.tolist()] if len(idx) else a[idx], [normal(shape, seed)])
    check_parity(lambda m, a, i: m.index_select(a, 0, i % n), [normal(shape, seed), idx])


def test_duplicate_indices_accumulate_gradients():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[tg.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_multi_dim_integer_arrays_and_mixed_indices():
    x = normal((4, 5, 3), 1)
    i = np.array([[0, 3], [3, 3]])
    j = np.array([1, 4])
    cases = [
        lambda m, a, i, j: a[i],
        lambda m, a, i, j: a[i, j],                 # broadcast (2, 2) with (2,)
        lambda m, a, i, j: a[:, j],
        lambda m, a, i, j: a[i, :, 1],              # separated advanced indices go to the front
        lambda m, a, i, j: a[1:, j, :2],
        lambda m, a, i, j: a[..., j[:1]],
        lambda m, a, i, j: a[None, i],
    ]
    for fn in cases:
        check_parity(fn, [x, i, j])


@given(shape=shapes(min_dims=1, max_dims=3, min_side=0, max_side=4), seed=seeds, data=st.data())
def test_boolean_masks(shape, seed, data):
    k = data.draw(st.integers(1, len(shape)))
    rng = np.random.default_rng(seed)
    mask = rng.random(shape[:k]) > 0.5
    x = normal(shape, seed)
    check_parity(lambda m, a, msk: a[msk], [x, mask])
    check_parity(lambda m, a, msk: a[msk] * 2, [x, mask])
    if len(shape) > 1:
        col = rng.random(shape[1]) > 0.5
        check_parity(lambda m, a, msk: a[:, msk], [x, col])


def test_mask_from_comparison():
    check_parity(lambda m, a: a[a > 0], [normal((3, 4), 2)])
    check_parity(lambda m, a: a[(a > 0).any(1)], [normal((3, 4), 2)])


def test_gather():
    x = normal((3, 4), 0)
    idx = np.array([[0, 0, 3], [1, 2, 1], [2, 2, 2]])
    check_parity(lambda m, a, i: a.gather(1, i), [x, idx])
    check_parity(lambda m, a, i: m.gather(a, 0, i[:2] % 3), [x, idx])
    check_parity(lambda m, a, i: m.gather(a, -1, i[:, :1]), [x, idx])


def test_getitem_keeps_dtype_and_shares_memory_for_basic_indices():
    x = tg.arange(12).reshape(3, 4)
    assert x[1].dtype == tg.int64
    y = tg.zeros(3, 4)
    v = y[1]
    with tg.no_grad():
        v.fill_(5.0)
    assert y.tolist()[1] == [5.0] * 4  # a basic index is a view, as in torch


def test_index_errors_name_dim_and_size():
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        tg.ones(2, 3)[0, 3]
    with pytest.raises(IndexError, match="too many indices"):
        tg.ones(2, 3)[0, 0, 0]
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        tg.ones(3)[tg.tensor([0.0, 1.0])]


def test_iteration_and_len():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == len(x) == 2
    (rows[0] * 2 + rows[1]).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [1.0, 1.0]]
    with pytest.raises(TypeError):
        len(tg.tensor(1.0))


def test_scatter_scatter_add_index_add_values_and_gradients():
    x = normal((3, 5), 0)
    src = normal((2, 3), 1)  # index's shape: torch's scatter backward breaks for a larger src
    idx = np.array([[0, 4, 2], [1, 1, 3]])  # duplicates in row 1: scatter_add must add them up
    check_parity(lambda m, a, s, i: a.scatter(1, i, s), [x, src, idx])
    check_parity(lambda m, a, s, i: m.scatter_add(a, 1, i, s), [x, src, idx])
    check_parity(lambda m, a, s, i: a.scatter_add(0, i[:, :2] % 2, s[:, :2]) * a, [x, src, idx])
    check_parity(lambda m, a, i: a.scatter(1, i, 2.5), [x, idx])
    check_parity(lambda m, a, s: a.index_add(0, m.tensor([2, 0, 2]), s.repeat(2, 2)[:3, :5], alpha=2), [x, src])
    check_parity(lambda m, a, s: m.index_add(a, 1, m.tensor([4, 4]), s.repeat(2, 1)[:3, :2]), [x, src])


def test_in_place_scatters_and_masked_fill_like_torch():
    labels = np.array([2, 0, 1, 2])
    for m in (tg, torch):
        one_hot = m.zeros(4, 3).scatter_(1, m.tensor(labels).unsqueeze(1), 1.0)
        assert one_hot.tolist() == np.eye(3)[labels].tolist()
    def run(m, a, s):
        y = a * 1  # a non-leaf, so in-place changes are recorded
        y.masked_fill_(y > 0, 0.5)
        y.scatter_(0, m.tensor([[1, 0, 2, 0]]), s[:1])
        y.scatter_add_(1, m.tensor([[0, 0], [3, 3], [1, 2]]), s[:, :2])
        y.index_add_(0, m.tensor([1]), s[2:] * 2, alpha=-1.0)
        return y
    check_parity(run, [normal((3, 4), 2), normal((3, 4), 3)])


def test_scatter_errors_like_torch():
    for m in (tg, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1 with size 3"):
            x.scatter(1, m.tensor([[3]]), 1.0)
        with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
            x.scatter(1, m.tensor([[-1]]), 1.0)
        with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
            x.scatter(1, m.tensor([[0]]), m.ones(1, 1, dtype=m.float64))
        with pytest.raises(RuntimeError, match="must have the same scalar type"):
            x.index_add_(0, m.tensor([0]), m.ones(1, 3, dtype=m.float64))


@given(shape=shapes(min_dims=1, max_dims=3, min_side=0, max_side=4), seed=seeds)
def test_masked_select_nonzero_tril_triu(shape, seed):
    x = normal(shape, seed)
    mask = x > 0.3
    check_parity(lambda m, a, k: m.masked_select(a, k), [x, mask])
    check_parity(lambda m, a, k: a.masked_select(k[..., :1] if k.shape[-1] else k), [x, mask])  # broadcast mask
    for as_tuple in (False, True):
        ours, theirs = tg.nonzero(tg.tensor(mask), as_tuple=as_tuple), torch.nonzero(torch.tensor(mask),
                                                                                       as_tuple=as_tuple)
        for o, t in zip(ours if as_tuple else [ours], theirs if as_tuple else [theirs]):
            assert o.dtype == tg.int64 and o.shape == tuple(t.shape) and np.array_equal(o.numpy(), t.numpy())
    if len(shape) >= 2:
        for k in (-1, 0, 2):
            check_parity(lambda m, a: m.tril(a, k), [x])
            check_parity(lambda m, a: a.triu(diagonal=k), [x])
    ours, theirs = [m.tensor([[1.0, 2.0], [3.0, 4.0]]).masked_fill(m.tril(m.ones(2, 2)) == 0, float("-inf"))
                    .softmax(-1) for m in (tg, torch)]  # a causal attention mask
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
