"""Shape ops against torch (float64): reshape/view/flatten/squeeze/unsqueeze/transpose/permute/.T/expand/
contiguous/repeat, cat/stack/split/chunk/unbind; values, gradients, and torch's errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from core_helpers import normal, seeds, shapes
from parity import check_parity

torch = pytest.importorskip("torch")


@st.composite
def shape_and_target(draw):
    """A shape and a reshape target with the same number of elements, possibly with one -1."""
    shape = draw(shapes(max_dims=4, min_side=1, max_side=4))
    n = int(np.prod(shape))
    factors = []
    rest = n
    for _ in range(draw(st.integers(0, 3))):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divs))
        factors.append(d)
        rest //= d
    target = factors + [rest]
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@given(st_=shape_and_target(), seed=seeds)
def test_reshape_and_view(st_, seed):
    shape, target = st_
    x = normal(shape, seed)
    check_parity(lambda m, a: a.reshape(target), [x])
    check_parity(lambda m, a: a.reshape(*target), [x])
    check_parity(lambda m, a: a.view(*target), [x])
    check_parity(lambda m, a: m.reshape(a, target), [x])


def test_reshape_with_zero_sized_dims():
    x = np.zeros((2, 0, 3))
    check_parity(lambda m, a: a.reshape(0, 6), [x])
    check_parity(lambda m, a: a.reshape(3, 0, 2), [x])


def test_view_of_non_contiguous_raises_and_reshape_copies():
    x = tg.randn(3, 4).t()
    with pytest.raises(RuntimeError, match="view size is not compatible.*reshape"):
        x.view(12)
    assert x.reshape(12).shape == (12,)
    check_parity(lambda m, a: a.t().reshape(12), [normal((3, 4), 0)])
    check_parity(lambda m, a: a.t().contiguous().view(12), [normal((3, 4), 0)])


def test_reshape_errors():
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        tg.ones(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        tg.ones(2, 3).reshape(-1, -1)


@given(shape=shapes(max_dims=4, min_side=0, max_side=3), seed=seeds, data=st.data())
def test_flatten(shape, seed, data):
    nd = max(len(shape), 1)
    s = data.draw(st.integers(-nd, nd - 1))
    e = data.draw(st.integers(-nd, nd - 1))
    if s % nd > e % nd:
        with pytest.raises(RuntimeError):
            tg.tensor(normal(shape, seed)).flatten(s, e)
        return
    check_parity(lambda m, a: a.flatten(s, e), [normal(shape, seed)])
    check_parity(lambda m, a: m.flatten(a, start_dim=s, end_dim=e), [normal(shape, seed)])


@given(shape=st.lists(st.sampled_from([1, 1, 2, 3, 0]), max_size=4).map(tuple), seed=seeds, data=st.data())
def test_squeeze_unsqueeze(shape, seed, data):
    x = normal(shape, seed)
    check_parity(lambda m, a: a.squeeze(), [x])
    if shape:
        d = data.draw(st.integers(-len(shape), len(shape) - 1))
        check_parity(lambda m, a: a.squeeze(d), [x])
        check_parity(lambda m, a: m.squeeze(a, d), [x])
        ds = tuple(data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1)))
        check_parity(lambda m, a: a.squeeze(ds), [x])
    u = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_parity(lambda m, a: a.unsqueeze(u), [x])
    check_parity(lambda m, a: m.unsqueeze(a, u), [x])


@given(shape=shapes(min_dims=1, max_dims=4, min_side=0, max_side=3), seed=seeds, data=st.data())
def test_permute_and_transpose(shape, seed, data):
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    x = normal(shape, seed)
    check_parity(lambda m, a: a.permute(*perm), [x])
    check_parity(lambda m, a: a.permute(tuple(p - nd for p in perm)), [x])
    check_parity(lambda m, a: m.permute(a, perm), [x])
    d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    check_parity(lambda m, a: a.transpose(d0, d1), [x])
    check_parity(lambda m, a: m.transpose(a, d0, d1), [x])
    check_parity(lambda m, a: a.transpose(d0, d1).contiguous(), [x])


def test_t_and_T_and_mT():
    check_parity(lambda m, a: a.T, [normal((3, 4), 0)])
    check_parity(lambda m, a: a.t(), [normal((3, 4), 0)])
    check_parity(lambda m, a: m.t(a), [normal((3,), 0)])
    check_parity(lambda m, a: a.mT, [normal((2, 3, 4), 0)])
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        tg.ones(2, 2, 2).t()


def test_permute_errors():
    with pytest.raises(RuntimeError, match="number of dimensions"):
        tg.ones(2, 3).permute(0)
    with pytest.raises(RuntimeError, match="duplicate"):
        tg.ones(2, 3).permute(1, 1)


@given(shape=shapes(max_dims=3, min_side=1, max_side=3), seed=seeds, data=st.data())
def test_expand(shape, seed, data):
    lead = data.draw(st.lists(st.integers(0, 3), min_size=0 if shape else 1, max_size=2))
    target = list(lead) + [data.draw(st.sampled_from([n, -1] if n != 1 else [1, 3, -1, 0])) for n in shape]
    x = normal(shape, seed)
    check_parity(lambda m, a: a.expand(*target), [x])
    check_parity(lambda m, a: a.expand(target) * 2, [x])
    full = tuple(torch.empty(shape).expand(*target).shape)
    check_parity(lambda m, a: a.expand_as(m.zeros(full, dtype=m.float64)), [x])


def test_expand_errors():
    with pytest.raises(RuntimeError, match="must match the existing size"):
        tg.ones(2, 3).expand(2, 4)
    with pytest.raises(RuntimeError, match="number of sizes"):
        tg.ones(2, 3).expand(3)


def test_repeat():
    check_parity(lambda m, a: a.repeat(2, 3), [normal((2, 3), 0)])
    check_parity(lambda m, a: a.repeat(2, 1, 2), [normal((3,), 0)])


@given(dims=st.integers(1, 3), seed=seeds, data=st.data())
def test_cat_and_stack(dims, seed, data):
    base = list(data.draw(shapes(min_dims=dims, max_dims=dims, min_side=1, max_side=3)))
    d = data.draw(st.integers(-dims, dims - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    arrays = []
    for k, n in enumerate(sizes):
        shape = list(base)
        shape[d] = n
        arrays.append(normal(tuple(shape), seed + k))
    check_parity(lambda m, *xs: m.cat(xs, dim=d), arrays)
    check_parity(lambda m, *xs: m.cat(list(xs), d) * 2, arrays)
    same = [normal(tuple(base), seed + k) for k in range(len(sizes))]
    s = data.draw(st.integers(-dims - 1, dims))
    check_parity(lambda m, *xs: m.stack(xs, dim=s), same)


def test_cat_with_a_tensor_that_needs_no_grad():
    x, y = normal((2, 3), 0), normal((1, 3), 1)
    check_parity(lambda m, a, b: m.cat([a, b]), [x, y], grad=[True, False])


def test_cat_promotes_dtypes_and_checks_shapes():
    assert tg.cat([tg.ones(2), tg.ones(2, dtype=tg.float64)]).dtype == tg.float64
    assert tg.cat([tg.ones(2, dtype=tg.int64), tg.ones(2)]).dtype == tg.float32
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0.*\(2, 3\).*\(2, 4\)"):
        tg.cat([tg.ones(2, 3), tg.ones(2, 4)])
    with pytest.raises(ValueError, match="non-empty"):  # torch raises ValueError here
        torch.cat([])
    with pytest.raises(ValueError, match="non-empty"):
        tg.cat([])
    with pytest.raises(RuntimeError, match="equal size"):
        tg.stack([tg.ones(2), tg.ones(3)])


@given(shape=shapes(min_dims=1, max_dims=3, min_side=0, max_side=5), seed=seeds, data=st.data())
def test_split_chunk_unbind(shape, seed, data):
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1))
    n = shape[d]
    x = normal(shape, seed)
    size = data.draw(st.integers(1, 6))
    check_parity(lambda m, a: a.split(size, dim=d), [x])
    check_parity(lambda m, a: m.split(a, size, d), [x])
    if n:
        cut = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
        sections = [b - a for a, b in zip([0] + cut, cut + [n])]
        check_parity(lambda m, a: a.split(sections, d), [x])
        chunks = data.draw(st.integers(1, 6))
        check_parity(lambda m, a: a.chunk(chunks, d), [x])
        check_parity(lambda m, a: m.chunk(a, chunks, dim=d), [x])
        check_parity(lambda m, a: a.unbind(d), [x])


def test_cat_of_0d_tensors_raises_and_chunk_of_empty():
    with pytest.raises(RuntimeError, match="zero-dimensional tensor .at position 0. cannot be concatenated"):
        tg.cat([tg.tensor(1.0), tg.tensor(2.0)])
    assert tg.stack([tg.tensor(1.0), tg.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert [tuple(c.shape) for c in tg.zeros(0, 2).chunk(3)] == [tuple(c.shape) for c in torch.zeros(0, 2).chunk(3)]


def test_split_errors():
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        tg.ones(5).split([2, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        tg.ones(5).chunk(0)


def test_only_some_split_outputs_used():
    check_parity(lambda m, a: a.split(2)[1] * 3, [normal((5, 2), 0)])
    check_parity(lambda m, a: a.chunk(3, 1)[0].exp(), [normal((2, 5), 0)])


@given(shape=shapes(min_dims=1, max_dims=4, min_side=0, max_side=4), seed=seeds, data=st.data())
def test_flip_roll_narrow_movedim_tile(shape, seed, data):
    nd = len(shape)
    x = normal(shape, seed)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), max_size=nd, unique_by=lambda d: d % nd))
    check_parity(lambda m, a: m.flip(a, dims), [x])
    if dims:
        check_parity(lambda m, a: a.flip(*dims), [x])
        shifts = data.draw(st.lists(st.integers(-6, 6), min_size=len(dims), max_size=len(dims)))
        check_parity(lambda m, a: m.roll(a, shifts, dims), [x])
    shift = data.draw(st.integers(-7, 7))
    check_parity(lambda m, a: a.roll(shift), [x])  # no dims: the flattened tensor is rolled
    d = data.draw(st.integers(-nd, nd - 1))
    start = data.draw(st.integers(0, shape[d]))
    length = data.draw(st.integers(0, shape[d] - start))
    check_parity(lambda m, a: a.narrow(d, start, length) * 2, [x])
    src, dst = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    check_parity(lambda m, a: m.movedim(a, src, dst), [x])
    reps = tuple(data.draw(st.lists(st.integers(1, 2), min_size=1, max_size=nd + 1)))
    check_parity(lambda m, a: a.tile(reps), [x])


def test_flip_roll_narrow_movedim_errors_like_torch():
    for m in (tg, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
            m.roll(x, (1, 2), 0)
        with pytest.raises(RuntimeError, match="exceeds dimension size"):
            x.narrow(1, 2, 2)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.flip(x, [2])
        with pytest.raises(RuntimeError, match="movedim: Invalid source or destination dims"):
            m.movedim(x, (0, 1), (1,))
