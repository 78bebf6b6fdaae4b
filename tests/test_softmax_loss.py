"""softmax / log_softmax and the losses against torch (float64), gradcheck, and the hand-derived oracles of
tests/oracles/softmax_oracles.py; numerical stability with huge logits; errors raised at the boundary."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tg
from oracles import softmax_oracles as O
from parity import check_parity

torch = pytest.importorskip("torch")
F = tg.nn.functional
seeds = st.integers(0, 2**31 - 1)
REDUCTIONS = ["none", "mean", "sum"]


def rand(shape, seed, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# --- softmax / log_softmax ----------------------------------------------------------------------------------------
@settings(max_examples=15)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_softmax_log_softmax_match_torch_any_dim(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = rand(shape, seed, 3.0)
    check_parity(lambda m, x: m.nn.functional.softmax(x, dim), [x])
    check_parity(lambda m, x: m.nn.functional.log_softmax(x, dim=dim), [x])
    check_parity(lambda m, x: x.softmax(dim) + x.log_softmax(dim), [x])


def test_softmax_zero_dim_and_empty_and_dtype():
    check_parity(lambda m, x: m.nn.functional.log_softmax(x, 0) + m.nn.functional.softmax(x, 0), [np.array(1.5)])
    check_parity(lambda m, x: m.nn.functional.softmax(x, 1), [np.zeros((0, 3))])
    x32 = tg.randn(3, 4)
    assert F.softmax(x32, 1).dtype == tg.float32 and F.log_softmax(x32, 1).dtype == tg.float32
    assert F.softmax(x32, 1, dtype=tg.float64).dtype == tg.float64
    check_parity(lambda m, x: m.nn.functional.softmin(x, 1), [rand((3, 4), 1)])


def test_implicit_dim_follows_torch_legacy_rule_with_warning():
    for shape in [(5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = rand(shape, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = torch.nn.functional.softmax(torch.tensor(x)).detach().numpy()
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            ours = F.softmax(tg.tensor(x))
        np.testing.assert_allclose(ours.detach().numpy(), ref, rtol=1e-12)


def test_huge_logits_stay_finite():
    x = t64([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4 + 1, 3.0]], grad=True)
    for fn in (lambda x: F.log_softmax(x, 1), lambda x: F.softmax(x, 1)):
        out = fn(x)
        assert np.isfinite(out.detach().numpy()).all()
        out.backward(tg.ones_like(out))
        assert np.isfinite(x.grad.detach().numpy()).all()
        x.grad = None
    np.testing.assert_allclose(F.log_softmax(x, 1).detach().numpy()[0], [0.0, -1e4, -2e4])
    loss = F.cross_entropy(x, tg.tensor([2, 0, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.detach().numpy()).all()
    ref = torch.nn.functional.cross_entropy(torch.tensor(x.detach().numpy()), torch.tensor([2, 0, 1]))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    big32 = tg.tensor([[3e4, -3e4]])  # float32 too: exp(3e4) would be inf without the max shift
    assert np.isfinite(F.log_softmax(big32, 1).detach().numpy()).all()


def test_log_softmax_and_softmax_grads_equal_oracle():
    x, g = rand((4, 6), 3, 2.0), rand((4, 6), 4)
    for fn, oracle in ((F.log_softmax, O.log_softmax_grad_2d), (F.softmax, O.softmax_grad_2d)):
        xt = t64(x, grad=True)
        fn(xt, 1).backward(t64(g))
        np.testing.assert_allclose(xt.grad.detach().numpy(), oracle(x, g), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(F.log_softmax(t64(x), 1).detach().numpy(), O.log_softmax_2d(x), rtol=1e-12)


def test_softmax_gradcheck():
    x = t64(rand((3, 4), 5), grad=True)
    assert tg.autograd.gradcheck(lambda x: F.log_softmax(x, 1), [x])
    assert tg.autograd.gradcheck(lambda x: F.softmax(x, 0), [x])


# --- cross_entropy / nll_loss ------------------------------------------------------------------------------------
@settings(max_examples=25)
@given(n=st.integers(1, 5), c=st.integers(1, 5), spatial=st.lists(st.integers(1, 3), max_size=2), seed=seeds,
       reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(), label_smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_class_indices_match_torch(reduction, weighted, label_smoothing, n, c, spatial, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial)) * 3
    t = rng.integers(0, c, (n, *spatial))
    t[rng.random(t.shape) < 0.25] = -100            # some ignored positions
    w = rng.random(c) + 0.1
    extra = [w] if weighted else []
    check_parity(lambda m, x, t, *w: m.nn.functional.cross_entropy(
        x, t, *w, reduction=reduction, label_smoothing=label_smoothing), [x, t, *extra], grad=[True, False, False],
        atol=1e-9)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", [None, -100, 2])
def test_two_d_class_losses_match_torch(reduction, ignore):
    """(N, C) inputs pick and scatter the target class with one fancy index (not take/put_along_axis); all targets
    valid, some ignored, and an ignore_index that is also a class."""
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((6, 4)) * 2, rng.random(4) + 0.1
    t = np.array([0, 3, 2, 1, 2, 3])
    kw = {} if ignore is None else {"ignore_index": ignore}
    if ignore == -100:
        t[[1, 4]] = -100
    check_parity(lambda m, x, t, w: m.nn.functional.cross_entropy(x, t, w, reduction=reduction, label_smoothing=0.1,
                                                                  **kw), [x, t, w], grad=[True, False, False])
    check_parity(lambda m, x, t: m.nn.functional.nll_loss(m.nn.functional.log_softmax(x, 1), t, reduction=reduction,
                                                          **kw), [x, t])


@settings(max_examples=15)
@given(n=st.integers(1, 4), c=st.integers(1, 4), spatial=st.lists(st.integers(1, 3), max_size=2), seed=seeds,
       reduction=st.sampled_from(REDUCTIONS))
def test_nll_loss_matches_torch(reduction, n, c, spatial, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial))
    t = rng.integers(0, c, (n, *spatial))
    t.flat[0] = 7  # ignored through a custom ignore_index (never a class here: c <= 4)
    w = rng.random(c) + 0.1
    check_parity(lambda m, x, t, w: m.nn.functional.nll_loss(x, t, w, ignore_index=7, reduction=reduction),
                 [x, t, w], grad=[True, False, False])
    check_parity(lambda m, x, t: m.nn.functional.nll_loss(m.nn.functional.log_softmax(x, 1), t, ignore_index=7,
                                                          reduction=reduction), [x, t])


@settings(max_examples=15)
@given(shape=st.sampled_from([(3, 4), (2, 3, 2), (2, 3, 2, 2), (5,)]), seed=seeds,
       reduction=st.sampled_from(REDUCTIONS), label_smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_probability_targets_match_torch(reduction, label_smoothing, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    q = rng.random(shape)
    cdim = 1 if len(shape) > 1 else 0
    q /= q.sum(cdim, keepdims=True)
    w = rng.random(shape[cdim]) + 0.1
    fn = (lambda m, x, q, w: m.nn.functional.cross_entropy(x, q, w, reduction=reduction,
                                                          label_smoothing=label_smoothing))
    check_parity(fn, [x, q, w], grad=[True, True, False])       # the target gets a gradient too, as in torch
    check_parity(lambda m, x, q: m.nn.functional.cross_entropy(x, q, reduction=reduction), [x, q])


def test_unbatched_and_degenerate_cross_entropy_match_torch():
    x = rand((5,), 1)
    for red in REDUCTIONS:
        check_parity(lambda m, x, t: m.nn.functional.cross_entropy(x, t, reduction=red, label_smoothing=0.1),
                     [x, np.array(3)])
        check_parity(lambda m, x, t: m.nn.functional.nll_loss(x, t, reduction=red), [x, np.array(2)])
    all_ignored = np.array([-100, -100])  # 'mean' of nothing is nan in torch, 'sum' is 0
    for red in REDUCTIONS:
        ours = F.cross_entropy(t64(rand((2, 3), 2)), tg.tensor(all_ignored), reduction=red).detach().numpy()
        ref = torch.nn.functional.cross_entropy(torch.tensor(rand((2, 3), 2)), torch.tensor(all_ignored),
                                                reduction=red).detach().numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    check_parity(lambda m, x, t: m.nn.functional.cross_entropy(x, t), [rand((3, 4), 3), np.array([1, 2, 0],
                                                                                               dtype=np.uint8)])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_grad_equals_oracle(weighted, label_smoothing):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((6, 5)) * 2
    t = np.array([0, 4, -100, 2, 2, 1])
    w = rng.random(5) + 0.2 if weighted else None
    loss_ref, grad_ref = O.cross_entropy_mean(x, t, w, -100, label_smoothing)
    xt = t64(x, grad=True)
    loss = F.cross_entropy(xt, tg.tensor(t), None if w is None else t64(w), label_smoothing=label_smoothing)
    loss.backward()
    np.testing.assert_allclose(loss.item(), loss_ref, rtol=1e-12)
    np.testing.assert_allclose(xt.grad.detach().numpy(), grad_ref, rtol=1e-10, atol=1e-14)
    if not weighted and label_smoothing == 0:  # the UFLDL form: (softmax - onehot) / N over the kept rows
        keep = t != -100
        onehot = np.eye(5)[np.where(keep, t, 0)]
        expected = (np.stack([O.softmax_row(r) for r in x]) - onehot) * keep[:, None] / keep.sum()
        np.testing.assert_allclose(xt.grad.detach().numpy(), expected, rtol=1e-10, atol=1e-14)


def test_nll_grad_equals_oracle():
    rng = np.random.default_rng(12)
    logp = rng.standard_normal((4, 3))
    t, w = np.array([2, -100, 0, 2]), rng.random(3)
    xt = t64(logp, grad=True)
    F.nll_loss(xt, tg.tensor(t), t64(w), reduction="sum").backward()
    np.testing.assert_allclose(xt.grad.detach().numpy(), O.nll_grad_sum(logp.shape, t, w), rtol=1e-14)


def test_cross_entropy_gradcheck():
    rng = np.random.default_rng(13)
    x = t64(rng.standard_normal((3, 4, 2)), grad=True)
    t = tg.tensor(np.array([[0, 3], [-100, 1], [2, 2]]))
    w = t64(rng.random(4) + 0.1)
    for red in REDUCTIONS:
        assert tg.autograd.gradcheck(lambda x: F.cross_entropy(x, t, w, reduction=red, label_smoothing=0.2), [x])
        assert tg.autograd.gradcheck(lambda x: F.nll_loss(x, t, w, reduction=red), [x])
    q = t64(np.abs(rng.standard_normal((3, 4, 2))), grad=True)
    assert tg.autograd.gradcheck(lambda x, q: F.cross_entropy(x, q, label_smoothing=0.1), [x, q])


def test_cross_entropy_float32_stays_float32():
    x = tg.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([0, 1, 2, 0]), tg.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == tg.float32 and x.grad.dtype == tg.float32
    assert F.nll_loss(x, tg.tensor([0, 1, 2, 0])).dtype == tg.float32
    q64, w64 = F.softmax(tg.randn(4, 3, dtype=tg.float64), 1), tg.ones(3, dtype=tg.float64)
    assert F.cross_entropy(x, q64, w64).dtype == tg.float32          # float64 targets do not promote the loss
    assert F.binary_cross_entropy_with_logits(x, q64, w64, pos_weight=w64).dtype == tg.float32


# --- elementwise losses -------------------------------------------------------------------------------------------
def _pair(shape, seed, lo=-2.0, hi=2.0):
    rng = np.random.default_rng(seed)
    return np.asarray(rng.uniform(lo, hi, shape)), np.asarray(rng.uniform(lo, hi, shape))


@settings(max_examples=12)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), seed=seeds,
       reduction=st.sampled_from(REDUCTIONS))
def test_regression_losses_match_torch(reduction, shape, seed):
    x, y = _pair(shape, seed)
    w = np.asarray(np.random.default_rng(seed + 1).random(shape) + 0.1)
    red = reduction
    check_parity(lambda m, x, y: m.nn.functional.mse_loss(x, y, reduction=red), [x, y])
    check_parity(lambda m, x, y, w: m.nn.functional.mse_loss(x, y, reduction=red, weight=w), [x, y, w])
    check_parity(lambda m, x, y: m.nn.functional.l1_loss(x, y, reduction=red), [x, y])
    check_parity(lambda m, x, y, w: m.nn.functional.l1_loss(x, y, reduction=red, weight=w), [x, y, w])
    for beta in (0.0, 0.5, 1.0):
        check_parity(lambda m, x, y: m.nn.functional.smooth_l1_loss(x, y, reduction=red, beta=beta), [x, y])
    for delta in (0.3, 1.0):
        check_parity(lambda m, x, y: m.nn.functional.huber_loss(x, y, reduction=red, delta=delta), [x, y])
        check_parity(lambda m, x, y, w: m.nn.functional.huber_loss(x, y, red, delta, w), [x, y, w])


def test_regression_losses_at_kinks_match_torch():
    x = np.array([0.0, 1.0, -1.0, 0.5, 2.0, -0.5])
    y = np.zeros(6)
    for fn in ("l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"):
        check_parity(lambda m, x, y: getattr(m.nn.functional, fn)(x, y, reduction="sum"), [x, y])
    check_parity(lambda m, x, y: m.nn.functional.smooth_l1_loss(x, y, beta=0.5), [x, y])


def test_broadcast_target_warns_like_torch():
    with pytest.warns(UserWarning, match="target size"):
        check_parity(lambda m, x, y: m.nn.functional.mse_loss(x, y), [rand((3, 1), 1), rand((3,), 2)])


@settings(max_examples=12)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds,
       reduction=st.sampled_from(REDUCTIONS))
def test_binary_cross_entropy_matches_torch(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    p, t, w = rng.uniform(0.02, 0.98, shape), rng.random(shape), rng.random(shape[-1:]) + 0.1
    red = reduction
    check_parity(lambda m, p, t: m.nn.functional.binary_cross_entropy(p, t, reduction=red), [p, t])
    check_parity(lambda m, p, t, w: m.nn.functional.binary_cross_entropy(p, t, w, reduction=red), [p, t, w],
                 grad=[True, True, False])
    z = rng.standard_normal(shape) * 4
    pw = rng.random(shape[-1:]) * 3
    check_parity(lambda m, z, t, w, pw: m.nn.functional.binary_cross_entropy_with_logits(
        z, t, w, reduction=red, pos_weight=pw), [z, t, w, pw], grad=[True, True, False, False])
    check_parity(lambda m, z, t: m.nn.functional.binary_cross_entropy_with_logits(z, t, reduction=red), [z, t])


def test_bce_clamps_log_and_bce_with_logits_is_stable():
    p, t = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    check_parity(lambda m, p, t: m.nn.functional.binary_cross_entropy(p, t, reduction="none"), [p, t],
                 check_grad=False)
    assert F.binary_cross_entropy(t64(p), t64(t), reduction="none").detach().numpy().tolist() == [100.0, 100.0, 0.0, 0.0]
    z = np.array([1e4, -1e4, 800.0, -800.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    check_parity(lambda m, z, y: m.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none"), [z, y])
    check_parity(lambda m, x: m.nn.functional.logsigmoid(x), [z])


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div_matches_torch(reduction):
    rng = np.random.default_rng(3)
    logp = np.log(rng.dirichlet(np.ones(4), 3))
    q = rng.dirichlet(np.ones(4), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_parity(lambda m, x, q: m.nn.functional.kl_div(x, q, reduction=reduction), [logp, q])
        check_parity(lambda m, x, q: m.nn.functional.kl_div(x, q, reduction=reduction, log_target=True),
                     [logp, np.log(q)])
        check_parity(lambda m, x, q: m.nn.functional.kl_div(x, q, reduction=reduction), [logp, q * (q > 0.2)],
                     grad=[True, False])


def test_elementwise_losses_gradcheck():
    rng = np.random.default_rng(4)
    x, y = t64(rng.uniform(0.1, 0.9, (2, 3)), grad=True), t64(rng.uniform(0.1, 0.9, (2, 3)), grad=True)
    w = t64(rng.random((2, 3)) + 0.1)
    for fn in (lambda x, y: F.mse_loss(x, y, weight=w), lambda x, y: F.l1_loss(x, y, reduction="sum"),
               lambda x, y: F.smooth_l1_loss(x * 3, y, beta=0.7), lambda x, y: F.huber_loss(x * 3, y, delta=0.4),
               lambda x, y: F.binary_cross_entropy(x, y, w), lambda x, y: F.kl_div(x.log(), y, reduction="sum"),
               lambda x, y: F.binary_cross_entropy_with_logits(x * 8 - 4, y, w, pos_weight=t64([0.5, 2.0, 1.0]))):
        assert tg.autograd.gradcheck(fn, [x, y])


def test_elementwise_loss_errors():
    x = tg.rand(3, 1)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: Using a target size \(\(3,\)\)"):
        F.binary_cross_entropy(x, tg.rand(3))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(x * 3 - 1, tg.rand(3, 1))
    with pytest.raises(ValueError, match=r"Target size \(\(3,\)\) must be the same as input size \(\(3, 1\)\)"):
        F.binary_cross_entropy_with_logits(x, tg.rand(3))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(x, x, weight=tg.rand(3))
    with pytest.raises(ValueError, match="l1_loss: 'elementwise' is not a valid value for reduction"):
        F.l1_loss(x, x, reduction="elementwise")
    with pytest.raises(RuntimeError, match="mse_loss: The size of tensor a"):
        F.mse_loss(tg.rand(3), tg.rand(4))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)


# --- errors -------------------------------------------------------------------------------------------------------
def test_cross_entropy_errors_name_the_problem():
    x = tg.randn(5, 10)
    t = tg.tensor([1, 2, 3, 12, 0])
    with pytest.raises(IndexError, match=r"cross_entropy: target 12 is out of bounds for 10 classes \(at position 3\)"):
        F.cross_entropy(x, t)
    with pytest.raises(IndexError, match=r"target -3 is out of bounds for 10 classes \(at position \(1, 0\)\)"):
        F.cross_entropy(tg.randn(2, 10, 2), tg.tensor([[0, 1], [-3, 2]]))
    with pytest.raises(IndexError, match="nll_loss: target 10 is out of bounds"):
        F.nll_loss(x, tg.tensor([1, 2, 3, 10, 0]))
    with pytest.raises(ValueError, match=r"batch_size \(5\) to match target batch_size \(4\).*\(5, 10\).*\(4,\)"):
        F.cross_entropy(x, tg.tensor([1, 2, 3, 4]))
    with pytest.raises(RuntimeError, match=r"float target.*\(5, 10\).*float32 target of shape \(5,\)"):
        F.cross_entropy(x, tg.tensor([1.0, 2.0, 3.0, 4.0, 0.0]))
    with pytest.raises(RuntimeError, match="Long or Byte.*int32"):
        F.nll_loss(x, tg.tensor(np.array([1, 2, 3, 4, 0], dtype=np.int32)))
    with pytest.raises(ValueError, match="cross_entropy: 'avg' is not a valid value for reduction"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 10 classes.*\(3,\)"):
        F.cross_entropy(x, tg.tensor([1, 2, 3, 4, 0]), weight=tg.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, tg.tensor([1, 2, 3, 4, 0]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="Expected target size"):
        F.cross_entropy(tg.randn(2, 3, 5), tg.tensor(np.zeros((2, 4), dtype=np.int64)))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, F.softmax(x, 1), ignore_index=1)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.nll_loss(x, tg.tensor([1, 2, 3, 4, 0]), weight=tg.ones(10, requires_grad=True))


def test_legacy_size_average_and_reduce_map_like_torch():
    x, t = rand((4, 3), 5), np.array([0, 2, 1, 1])
    for sa, rd in [(None, False), (False, None), (True, True), (False, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_parity(lambda m, x, t: m.nn.functional.cross_entropy(x, t, size_average=sa, reduce=rd), [x, t])
            check_parity(lambda m, x, y: m.nn.functional.mse_loss(x, y, sa, rd), [x, rand((4, 3), 6)])
