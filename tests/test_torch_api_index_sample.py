"""torch APIs real scripts reached for (issue 12, part B), second part: take, select, broadcast_to, index_put(_),
median, softmax/log_softmax(dtype=), and the samplers bernoulli/bernoulli_ (EfficientNet's drop-connect),
multinomial, exponential_: values and gradients against torch (float64), errors as torch, sample statistics."""
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from parity import check_parity

torch = pytest.importorskip("torch")
R = np.random.default_rng(1)


@pytest.mark.parametrize("fn", [
    lambda m, x: x.take(m.tensor([[0, -1], [5, 3]])),
    lambda m, x: m.take(x, m.tensor([2, 2, 7])),
    lambda m, x: x.select(1, -2) * 2,
    lambda m, x: m.select(x, 0, 1),
    lambda m, x: x[0].broadcast_to((4, 3, 4)),
    lambda m, x: m.broadcast_to(x[:, :1], (2, 3, 4)),
    lambda m, x: x.index_put((m.tensor([0, 1, 0]), m.tensor([2, 0, 2])), x[1, 1] * 3),
    lambda m, x: x.index_put((m.tensor([0, 1, 0]), m.tensor([2, 0, 2])), x[0, 0] * 2, accumulate=True),
    lambda m, x: x.softmax(1, dtype=m.float32).double() + x.log_softmax(0, dtype=m.float64),
    lambda m, x: m.nn.functional.softmax(x, -1, dtype=m.float64),
    lambda m, x: x.unfold(2, 2, 1) * x.unfold(1, 2, 1).sum(),
    lambda m, x: x.unfold(-1, 3, 2) + x[0, 0].unfold(0, 1, 3).sum(),
    lambda m, x: (x[0, :, :3] + 3 * m.eye(3, dtype=m.float64)).det() + (x[1, :, 1:] + 3 * m.eye(3, dtype=m.float64)).logdet()
    + m.slogdet(x[0, :, :3] + 3 * m.eye(3, dtype=m.float64))[1],
    lambda m, x: m.inverse(x[0, :, :3] + 3 * m.eye(3, dtype=m.float64)) + m.det(x[1, :, :3]),
], ids=["take", "take_fn", "select", "select_fn", "broadcast_to", "broadcast_to_fn", "index_put",
        "index_put_accumulate", "softmax_dtype", "F_softmax_dtype", "unfold_overlapping", "unfold_step",
        "det_logdet_slogdet", "inverse"])
def test_index_ops_match_torch(fn):
    check_parity(fn, [R.standard_normal((2, 3, 4))], atol=1e-7)


def test_index_put_in_place_matches_torch():
    results = []
    for m in (tg, torch):
        t = m.zeros(3, 2, dtype=m.float64)
        t.index_put_((m.tensor([0, 0, 2]),), m.tensor([1.0, 2.0], dtype=m.float64), accumulate=True)
        t.index_put_((m.tensor([1]), m.tensor([1])), m.tensor(5.0, dtype=m.float64))
        results.append(t.numpy())
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("op,match", [
    (lambda m: m.arange(4.0).take(m.tensor([4])), "out of range: tried to access index 4 on a tensor of 4"),
    (lambda m: m.ones(4).select(0, -5), r"select\(\): index -5 out of range for tensor of size \[4\]"),
    (lambda m: m.ones(3).index_put_((m.tensor([0]),), m.ones(1, dtype=m.float64)), "dtypes match"),
    (lambda m: m.ones(2, 3).broadcast_to((3, 3)), "must match the existing size"),
])
def test_index_op_errors_like_torch(op, match):
    with pytest.raises(Exception) as theirs:
        op(torch)
    with pytest.raises(type(theirs.value), match=match):
        op(tg)


# --- median -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arr", [
    np.array([3.0, 1, 3, 2, 3]), np.array([[1.0, 5, 2, 2], [4, 4, 0, 9], [7, 1, 1, 2]]), np.arange(6.0),
    np.array([[2.0, np.nan, 1], [0, 1, 2]]),
])
def test_median_matches_torch_values_indices_and_gradients(arr):
    check_parity(lambda m, x: m.median(x), [arr])
    for dim in range(arr.ndim):
        for keep in (False, True):
            check_parity(lambda m, x: x.median(dim, keepdim=keep), [arr])


def test_median_gradcheck():
    x = tg.tensor(R.permutation(12).reshape(3, 4) * 0.5, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.median(1).values + t.median(), (x,))


# --- sampling -----------------------------------------------------------------------------------------------------
def test_bernoulli_frequencies_and_drop_connect():
    tg.manual_seed(0)
    p = tg.tensor([0.0, 0.2, 0.9, 1.0], dtype=tg.float64)
    draws = np.stack([tg.bernoulli(p).numpy() for _ in range(4000)])
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(0), [0.0, 0.2, 0.9, 1.0], atol=0.03)
    mask = tg.empty(2000, 1, 1, 1).bernoulli_(0.8)  # EfficientNet: x / keep_prob * mask
    assert abs(mask.mean().item() - 0.8) < 0.04 and tuple(mask.shape) == (2000, 1, 1, 1)
    tg.manual_seed(3)
    a = tg.zeros(6).bernoulli_(tg.full((6,), 0.5))
    tg.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), tg.zeros(6).bernoulli_(tg.full((6,), 0.5)).numpy())


def test_bernoulli_probability_range_is_checked():
    for op in (lambda m: m.bernoulli(m.tensor([1.5])), lambda m: m.zeros(2).bernoulli_(-0.1)):
        with pytest.raises(RuntimeError):
            op(torch)
        with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1"):
            op(tg)


def test_multinomial_frequencies_shapes_and_errors():
    tg.manual_seed(0)
    w = tg.tensor([[1.0, 3.0, 0.0, 4.0], [0.0, 0.0, 5.0, 0.0]])
    s = tg.multinomial(w, 8000, replacement=True)
    assert s.dtype == tg.int64 and tuple(s.shape) == (2, 8000)
    np.testing.assert_allclose(np.bincount(s[0].numpy(), minlength=4) / 8000, [0.125, 0.375, 0, 0.5], atol=0.02)
    assert (s[1].numpy() == 2).all()
    perm = tg.multinomial(tg.ones(5), 5)
    assert sorted(perm.tolist()) == [0, 1, 2, 3, 4]
    first = tg.multinomial(tg.tensor([0.0, 1.0, 0.0]), 3)  # zero weights come last, as torch (no error)
    assert first[0].item() == 1 and sorted(first.tolist()) == [0, 1, 2]
    for op, match in ((lambda m: m.multinomial(m.tensor([-1.0, 2.0]), 1), "element < 0"),
                      (lambda m: m.multinomial(m.zeros(3), 1), "sum of probabilities <= 0|invalid multinomial"),
                      (lambda m: m.multinomial(m.ones(3), 4), "n_sample > prob_dist.size")):
        with pytest.raises(RuntimeError):
            op(torch)
        with pytest.raises(RuntimeError, match=match):
            op(tg)


def test_exponential_fills_in_place_with_the_rate():
    tg.manual_seed(0)
    t = tg.empty(20000, dtype=tg.float64)
    assert t.exponential_(4.0) is t
    assert (t.numpy() >= 0).all() and abs(t.mean().item() - 0.25) < 0.01
    with pytest.raises(RuntimeError, match="lambda > 0"):
        t.exponential_(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError):
            torch.empty(2).exponential_(0.0)


def test_in_place_samplers_take_a_generator():
    for name, args in (("uniform_", (-1.0, 1.0)), ("normal_", (0.0, 2.0)), ("exponential_", (3.0,)),
                       ("bernoulli_", (0.3,))):
        a = getattr(tg.empty(50), name)(*args, generator=tg.Generator().manual_seed(7))
        b = getattr(tg.empty(50), name)(*args, generator=tg.Generator().manual_seed(7))
        c = getattr(tg.empty(50), name)(*args, generator=tg.Generator().manual_seed(8))
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert not np.array_equal(a.numpy(), c.numpy()), name
        getattr(torch.empty(2), name)(*args, generator=torch.Generator().manual_seed(7))  # the same call is valid
