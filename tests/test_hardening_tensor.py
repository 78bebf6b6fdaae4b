"""Issue 12 (hardening), tensor defects: each case is what torch 2.13 does, checked against torch itself.

Creation overflow (no silent wrap-around), uint8 indices as masks, empty list indices, negative indices in
gather/index_select/index_add, finite gradients where torch has them (norm, std, smooth_l1/huber at inf),
prod of bools, non-Tensor inputs to tg.sum & co, object arrays."""
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

from parity import raises_like_torch as _raises_like_torch  # noqa: E402


# --- 7. integer overflow at creation -------------------------------------------------------------------------
@pytest.mark.parametrize("make,match", [
    (lambda m: m.tensor([2 ** 63]), "Overflow when unpacking long long"),
    (lambda m: m.tensor([1, 2 ** 63]), "Overflow when unpacking long long"),
    (lambda m: m.tensor([[1], [-2 ** 63 - 1]]), "Overflow when unpacking long long"),
    (lambda m: m.tensor([300], dtype=m.uint8), "cannot be converted to type uint8 without overflow"),
    (lambda m: m.tensor(-256, dtype=m.uint8), "cannot be converted to type uint8"),
    (lambda m: m.tensor([1e10], dtype=m.int32), "cannot be converted to type int32 without overflow"),
    (lambda m: m.tensor([float("nan")], dtype=m.int64), "cannot be converted to type int64"),
    (lambda m: m.tensor([128], dtype=m.int8), "int8"),
])
def test_creation_overflow_raises_like_torch(make, match):
    _raises_like_torch(make, match)


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([-1], dtype=m.uint8),            # torch wraps negatives within the signed range
    lambda m: m.tensor([1.5, 2 ** 63]),                   # a float list: huge ints are floats
    lambda m: m.tensor([2.7, -3.9], dtype=m.int64),       # truncation toward zero, no error
    lambda m: m.tensor(np.array([300]), dtype=m.uint8),   # arrays are cast (wrap), as torch
    lambda m: m.tensor([2 ** 63 - 1, -2 ** 63]),
])
def test_creation_in_range_matches_torch(make):
    ours, theirs = make(tg), make(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_object_arrays_are_refused():
    arr = np.array([1, "a"], dtype=object)
    _raises_like_torch(lambda m: m.tensor(arr), "can't convert np.ndarray of type numpy.object_")
    _raises_like_torch(lambda m: m.from_numpy(arr), "numpy.object_")
    _raises_like_torch(lambda m: m.as_tensor(arr), "numpy.object_")
    _raises_like_torch(lambda m: m.Tensor(np.array(["a", "b"])), "numpy.str_")


# --- 8. uint8 index = mask; x[[]] ------------------------------------------------------------------------------
def test_uint8_index_is_a_mask_with_torchs_warning():
    x = np.arange(8.0).reshape(4, 2)
    mask = np.array([1, 0, 1, 1], dtype=np.uint8)
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        ours = tg.tensor(x)[tg.tensor(mask)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.tensor(x)[torch.tensor(mask)]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("index", [lambda x: x[[]], lambda x: x[:, []], lambda x: x[[], []]])
def test_empty_list_index_selects_nothing(index):
    ours, theirs = index(tg.ones(3, 2)), index(torch.ones(3, 2))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == tg.float32


# --- 9. negative indices in gather / index_select / scatter / index_add ---------------------------------------
@pytest.mark.parametrize("op", [
    lambda m, x: x.gather(0, m.tensor([-1])),
    lambda m, x: x.index_select(0, m.tensor([-1])),
    lambda m, x: x.scatter(0, m.tensor([-1]), m.ones(1, dtype=x.dtype)),
    lambda m, x: x.scatter_add(0, m.tensor([-1]), m.ones(1, dtype=x.dtype)),
    lambda m, x: x.index_add(0, m.tensor([-1]), m.ones(1, dtype=x.dtype)),
    lambda m, x: x.gather(0, m.tensor([4])),
])
def test_negative_or_large_indices_raise(op):
    _raises_like_torch(lambda m: op(m, m.arange(4.0)), "out of bounds for dimension 0 with size 4")


# --- 10. finite gradients where torch has them ------------------------------------------------------------------
def _grad(m, arr, f):
    x = m.tensor(arr, dtype=m.float64, requires_grad=True)
    f(m, x).backward()
    return x.grad.numpy()


@pytest.mark.parametrize("arr,f", [
    (np.zeros(3), lambda m, x: x.norm()),
    (np.array([[0.0, 0, 0], [1, 2, 2]]), lambda m, x: x.norm(dim=1).sum()),
    (np.array([[0.0, 0, 0], [1, -2, 2]]), lambda m, x: x.norm(p=3, dim=1).sum()),
    (np.array([[0.0, 0, 0], [1, 0, 4]]), lambda m, x: x.norm(p=0.5, dim=1).sum()),
    (np.array([[2.0, 2, 2], [1, 2, 5]]), lambda m, x: x.std(1).sum()),
    (np.full((2, 3), 7.0), lambda m, x: x.std()),
    (np.array([np.inf, 0.5, -2]), lambda m, x: m.nn.functional.smooth_l1_loss(x, m.zeros(3, dtype=m.float64))),
    (np.array([-np.inf, 0.5, 3]), lambda m, x: m.nn.functional.huber_loss(x, m.zeros(3, dtype=m.float64), delta=2.0)),
    (np.array([np.inf, 0.5]), lambda m, x: m.nn.functional.smooth_l1_loss(x, m.zeros(2, dtype=m.float64), beta=0.5)),
])
def test_gradients_are_finite_like_torch(arr, f):
    ours, theirs = _grad(tg, arr, f), _grad(torch, arr, f)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_norm_and_std_gradients_stay_the_formula_elsewhere():
    arr = np.random.default_rng(0).standard_normal((3, 4))
    for f in (lambda m, x: x.norm(), lambda m, x: x.norm(p=1.5, dim=0).sum(), lambda m, x: x.std(0).sum()):
        np.testing.assert_allclose(_grad(tg, arr, f), _grad(torch, arr, f), rtol=1e-12)
    assert tg.autograd.gradcheck(lambda x: x.norm(p=3, dim=1) + x.std(1), (tg.tensor(arr, requires_grad=True),))


# --- prod of bools, non-Tensor inputs ----------------------------------------------------------------------------
def test_prod_of_bools_and_ints_is_int64():
    for arr in (np.array([True, False]), np.array([2, 3], dtype=np.int32)):
        assert tg.tensor(arr).prod().dtype == tg.int64 and torch.tensor(arr).prod().dtype == torch.int64
        assert tg.tensor(arr).prod(0).item() == torch.tensor(arr).prod(0).item()


@pytest.mark.parametrize("name", ["sum", "exp", "max", "mean"])
def test_functions_refuse_a_non_tensor_input(name):
    _raises_like_torch(lambda m: getattr(m, name)(1.0), rf"{name}\(\): argument 'input' \(position 1\) must be "
                                                          r"Tensor, not float")
