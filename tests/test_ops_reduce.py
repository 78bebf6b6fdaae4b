"""Reductions against torch (float64): sum/mean/max/min/amax/amin/var/std/prod/norm with dim as int or tuple and
keepdim, argmax/argmin, and the exact distribution of gradients between tied extrema."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from core_helpers import normal, seeds, shapes, with_ties
from parity import check_parity

torch = pytest.importorskip("torch")


@st.composite
def shape_and_dims(draw, min_dims=0, min_side=0, nonempty_reduced=False):
    """A shape and a `dim` argument: None, an int (possibly negative) or a tuple of distinct dims."""
    shape = draw(shapes(min_dims=min_dims, max_dims=4, min_side=min_side, max_side=3))
    nd = len(shape)
    if nd == 0:
        dim = draw(st.sampled_from([None, 0, -1, (0,)]))
    else:
        kind = draw(st.sampled_from(["none", "int", "tuple"]))
        if kind == "none":
            dim = None
        elif kind == "int":
            dim = draw(st.integers(-nd, nd - 1))
        else:
            picked = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
            dim = tuple(d - nd if draw(st.booleans()) else d for d in picked)
    if nonempty_reduced:
        axes = range(nd) if dim is None else ([dim] if isinstance(dim, int) else dim)
        if nd and any(shape[a % nd] == 0 for a in axes):
            shape = tuple(max(n, 1) for n in shape)
    return shape, dim


@pytest.mark.parametrize("op", ["sum", "mean"])
@given(sd=shape_and_dims(), keepdim=st.booleans(), seed=seeds)
def test_sum_mean(op, sd, keepdim, seed):
    shape, dim = sd
    x = normal(shape, seed)
    with np.errstate(invalid="ignore", divide="ignore"):  # the mean of nothing is nan in both
        check_parity(lambda m, a: getattr(a, op)(dim=dim, keepdim=keepdim) if dim is not None
                     else getattr(a, op)(), [x])
        check_parity(lambda m, a: getattr(m, op)(a, dim, keepdim=keepdim) if dim is not None
                     else getattr(m, op)(a), [x])


def test_sum_mean_of_empty_tensor_match_torch():
    check_parity(lambda m, a: a.sum(), [np.zeros((0, 3))])
    check_parity(lambda m, a: a.sum(dim=0), [np.zeros((0, 3))])
    check_parity(lambda m, a: a.sum(dim=1), [np.zeros((0, 3))])
    with np.errstate(invalid="ignore"):
        check_parity(lambda m, a: a.mean(dim=0), [np.zeros((0, 3))])


def test_sum_of_int_and_bool_is_int64():
    assert tg.tensor([1, 2], dtype=tg.int32).sum().dtype == tg.int64
    assert tg.tensor([True, True, False]).sum().item() == 2
    assert tg.tensor([True, True, False]).sum().dtype == tg.int64
    assert tg.ones(3).sum(dtype=tg.float64).dtype == tg.float64
    with pytest.raises(RuntimeError, match="mean"):
        tg.tensor([1, 2]).mean()


@pytest.mark.parametrize("op", ["amax", "amin"])
@given(sd=shape_and_dims(nonempty_reduced=True), keepdim=st.booleans(), seed=seeds)
def test_amax_amin_with_ties(op, sd, keepdim, seed):
    shape, dim = sd
    x = with_ties(shape, seed)
    if x.size == 0 and dim is None:
        return
    check_parity(lambda m, a: getattr(a, op)(dim=() if dim is None else dim, keepdim=keepdim), [x])


@pytest.mark.parametrize("op", ["max", "min"])
@given(shape=shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), seed=seeds)
def test_full_max_min_split_ties_evenly(op, shape, seed):
    check_parity(lambda m, a: getattr(a, op)(), [with_ties(shape, seed)])
    check_parity(lambda m, a: getattr(m, op)(a), [with_ties(shape, seed)])


@pytest.mark.parametrize("op", ["max", "min"])
@given(shape=shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, keepdim=st.booleans(),
       data=st.data())
def test_max_min_with_dim_route_gradient_to_returned_index(op, shape, seed, keepdim, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = with_ties(shape, seed)
    check_parity(lambda m, a: getattr(a, op)(dim, keepdim=keepdim).values, [x])
    check_parity(lambda m, a: getattr(m, op)(a, dim=dim, keepdim=keepdim)[0], [x])
    ours = getattr(tg.tensor(x), op)(dim, keepdim)
    theirs = getattr(torch.tensor(x), op)(dim, keepdim)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == tg.int64 and ours.values.shape == tuple(theirs.values.shape)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_on_a_0d_tensor(op):
    check_parity(lambda m, a: getattr(a, op)(0).values, [np.array(3.0)])
    check_parity(lambda m, a: getattr(a, op)(-1, keepdim=True)[0], [np.array(3.0)])
    assert getattr(tg.tensor(3.0), op)(0).indices.item() == 0
    assert tg.tensor(3.0).argmax(0).item() == 0 and tg.tensor(3.0).argmin().item() == 0


def test_argmax_of_empty_tensor_raises_like_torch():
    with pytest.raises(IndexError, match="numel"):
        tg.zeros(0).argmax()


def test_max_of_empty_tensor_raises_like_torch():
    with pytest.raises(RuntimeError, match="numel"):
        tg.zeros(0, 3).max()


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@given(shape=shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, keepdim=st.booleans(),
       data=st.data())
def test_argmax_argmin_pick_first_tie(op, shape, seed, keepdim, data):
    x = with_ties(shape, seed)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    ours = getattr(tg.tensor(x), op)(dim=dim, keepdim=keepdim) if dim is not None else getattr(tg.tensor(x), op)()
    theirs = (getattr(torch.tensor(x), op)(dim=dim, keepdim=keepdim) if dim is not None
              else getattr(torch.tensor(x), op)())
    assert ours.dtype == tg.int64 and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("op", ["var", "std"])
@given(sd=shape_and_dims(min_dims=1, min_side=2), keepdim=st.booleans(), seed=seeds,
       unbiased=st.sampled_from([None, True, False]))
def test_var_std(op, sd, keepdim, seed, unbiased):
    shape, dim = sd
    x = normal(shape, seed)
    kwargs = {} if unbiased is None else {"unbiased": unbiased}
    check_parity(lambda m, a: getattr(a, op)(dim, keepdim=keepdim, **kwargs), [x])


def test_var_std_correction_keyword():
    x = normal((3, 5), 0)
    for c in (0, 1, 2):
        check_parity(lambda m, a: a.var(dim=1, correction=c), [x])
        check_parity(lambda m, a: m.std(a, 0, correction=c, keepdim=True), [x])


def test_var_keeps_float32():
    x = tg.randn(4, 5)
    assert x.var().dtype == tg.float32 and x.std(dim=1).dtype == tg.float32


@given(shape=shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), seed=seeds, data=st.data())
def test_prod_with_zeros(shape, seed, data):
    x = with_ties(shape, seed)  # contains zeros: the gradient of prod at zeros is the delicate case
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    check_parity(lambda m, a: a.prod() if dim is None else a.prod(dim), [x])


def test_norm():
    x = normal((3, 4), 1)
    check_parity(lambda m, a: a.norm(), [x])
    check_parity(lambda m, a: a.norm(p=1, dim=1), [x])
    check_parity(lambda m, a: a.norm(dim=0, keepdim=True), [x])
    check_parity(lambda m, a: a.norm(p=3, dim=1), [x])


def test_dim_errors_name_the_range():
    with pytest.raises(IndexError, match=r"range of \[-2, 1\].*got 2"):
        tg.ones(2, 3).sum(dim=2)
    with pytest.raises(RuntimeError, match="multiple times"):
        tg.ones(2, 3).sum(dim=(1, -1))


def test_reductions_keep_float32():
    x = tg.randn(3, 4, requires_grad=True)
    for y in (x.sum(), x.mean(1), x.amax(0), x.max(), x.max(1).values, x.var(), x.std(0)):
        assert y.dtype == tg.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == tg.float32


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) of empty reductions: numpy warns, torch does not
@given(shape=shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), seed=seeds, data=st.data())
def test_cumsum_and_logsumexp(shape, seed, data):
    nd = len(shape)
    d = data.draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
    check_parity(lambda m, a: m.cumsum(a, d), [normal(shape, seed)])
    check_parity(lambda m, a: a.cumsum(dim=d) * a, [normal(shape, seed)])
    keepdim = data.draw(st.booleans())
    check_parity(lambda m, a: m.logsumexp(a * 30, d, keepdim=keepdim), [normal(shape, seed)])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cumsum_dtypes_and_logsumexp_of_infinities_like_torch():
    for m in (tg, torch):
        assert m.cumsum(m.tensor([True, False, True]), 0).dtype == m.int64
        assert m.tensor([1, 2], dtype=m.int32).cumsum(0).tolist() == [1, 3]
        assert m.tensor([1.0, 2.0]).cumsum(0, dtype=m.float64).dtype == m.float64
        assert m.ones(2, dtype=m.float32).cumsum(0).dtype == m.float32
        x = m.tensor([[-float("inf"), -float("inf")], [float("inf"), 0.0], [1000.0, 1000.0]])
        out = m.logsumexp(x, 1)
        assert out[0].item() == -float("inf") and out[1].item() == float("inf")
        assert abs(out[2].item() - (1000 + np.log(2))) < 1e-3


@given(shape=shapes(min_dims=0, max_dims=3, min_side=0, max_side=5), seed=seeds, data=st.data())
def test_sort_argsort_topk_with_ties_route_gradients_like_torch(shape, seed, data):
    nd = len(shape)
    d = data.draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
    descending = data.draw(st.booleans())
    x = with_ties(shape, seed)  # ties: torch's CPU sort keeps them in order, and so must we
    check_parity(lambda m, a: m.sort(a, d, descending=descending), [x])
    check_parity(lambda m, a: a.sort(dim=d, descending=descending, stable=True).values, [x])
    assert np.array_equal(tg.tensor(x).argsort(d, descending).numpy(), torch.tensor(x).argsort(d, descending).numpy())
    size = shape[d] if nd else 1
    k = data.draw(st.integers(0, size))
    largest = data.draw(st.booleans())
    check_parity(lambda m, a: m.topk(a, k, d, largest=largest), [normal(shape, seed)])
    # among ties torch's topk picks indices in no documented order: the values must agree, and our indices must
    # be distinct positions holding those values
    (vals, idx), tvals = tg.tensor(x).topk(k, d, largest), torch.tensor(x).topk(k, d, largest).values
    assert idx.dtype == tg.int64 and np.array_equal(vals.numpy(), tvals.numpy())
    if nd:
        assert np.array_equal(np.take_along_axis(x, idx.numpy(), d), vals.numpy())
        assert np.all(np.diff(np.sort(idx.numpy(), axis=d), axis=d) > 0)


def test_topk_k_out_of_range_and_result_names():
    for m in (tg, torch):
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            m.ones(2, 3).topk(4)
        res = m.tensor([[3.0, 1.0, 2.0]]).topk(2)
        assert res.values.tolist() == [[3.0, 2.0]] and res.indices.tolist() == [[0, 2]]
        res = m.sort(m.tensor([2, 1]), descending=True)
        assert res.values.tolist() == [2, 1] and res.indices.tolist() == [0, 1]


def test_unique_and_bincount_like_torch():
    for values in ([2, 0, 1, 2, 2, 3], [[1.5, -1.0], [1.5, 0.0]], []):
        a = np.array(values, dtype=np.int64 if values and isinstance(values[0], int) else np.float64)
        for kw in ({}, {"return_counts": True}, {"return_inverse": True}, {"return_inverse": True,
                                                                          "return_counts": True}):
            ours, theirs = tg.unique(tg.tensor(a), **kw), torch.unique(torch.tensor(a), **kw)
            ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
            for o, t in zip(ours, theirs):
                assert str(o.dtype).split(".")[1] == str(t.dtype).split(".")[1]
                assert o.shape == tuple(t.shape) and np.array_equal(o.numpy(), t.numpy())
    rows = np.array([[1, 2], [1, 2], [3, 4]])
    assert tg.tensor(rows).unique(dim=0).tolist() == torch.tensor(rows).unique(dim=0).tolist()
    labels = np.array([2, 0, 1, 2, 2, 3])
    for kw in ({}, {"minlength": 7}):
        assert tg.bincount(tg.tensor(labels), **kw).tolist() == torch.bincount(torch.tensor(labels), **kw).tolist()
    w = np.linspace(0, 1, 6)
    ours, theirs = tg.tensor(labels).bincount(tg.tensor(w)), torch.tensor(labels).bincount(torch.tensor(w))
    assert ours.dtype == tg.float64 and np.allclose(ours.numpy(), theirs.numpy())
    for m in (tg, torch):
        for bad in (m.tensor([-1, 2]), m.tensor([[1]])):
            with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
                m.bincount(bad)
