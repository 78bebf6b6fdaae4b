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
