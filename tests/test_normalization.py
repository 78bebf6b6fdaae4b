"""batch_norm / layer_norm / group_norm against torch (float64): outputs and gradients in training and eval mode,
running statistics after several steps, gradcheck, dtype, and the argument errors. The BatchNorm primitive and its
per-channel helpers (ops/batch_norm.py): gradcheck, second derivatives (GRADGRAD_CASES), float32 accuracy far
from zero mean, what the node saves."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from parity import check_parity
from tinygrad_cnn.ops.batch_norm import BatchNorm, ChannelAffine, ChannelDot, ChannelSum

torch = pytest.importorskip("torch")
F = tg.nn.functional
seeds = st.integers(0, 2**31 - 1)
BN_SHAPES = [(6, 3), (4, 3, 5), (2, 3, 4, 5), (1, 3, 2), (2, 3, 1, 1), (2, 3, 2, 2, 3)]


@settings(max_examples=12)
@given(shape=st.sampled_from(BN_SHAPES), seed=seeds, affine=st.booleans(), eps=st.sampled_from([1e-5, 1e-2]))
def test_batch_norm_training_matches_torch(shape, seed, affine, eps):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2 + 1
    C = shape[1]
    params = [rng.standard_normal(C), rng.standard_normal(C)] if affine else []
    check_parity(lambda m, x, *wb: m.nn.functional.batch_norm(x, None, None, *wb, training=True, eps=eps),
                 [x, *params], atol=1e-9)


@settings(max_examples=20)
@given(shape=st.sampled_from(BN_SHAPES + [(1, 3)]), seed=seeds)
def test_batch_norm_eval_matches_torch(shape, seed):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x, rm, rv = rng.standard_normal(shape), rng.standard_normal(C), rng.random(C) + 0.2
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    check_parity(lambda m, x, w, b, rm, rv: m.nn.functional.batch_norm(x, rm, rv, w, b, training=False),
                 [x, w, b, rm, rv], grad=[True, True, True, False, False])


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 6), (3, 3, 4, 4), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_running_statistics_equal_torch_after_several_steps(shape, momentum):
    rng = np.random.default_rng(7)
    C = shape[1]
    ours_m, ours_v = tg.zeros(C, dtype=tg.float64), tg.ones(C, dtype=tg.float64)
    ref_m, ref_v = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    w = rng.standard_normal(C)
    for step in range(5):
        x = rng.standard_normal(shape) * (step + 1) + step  # statistics that change from step to step
        xt = tg.tensor(x, requires_grad=True)
        out = F.batch_norm(xt, ours_m, ours_v, tg.tensor(w), None, training=True, momentum=momentum)
        out.sum().backward()
        ref = torch.nn.functional.batch_norm(torch.tensor(x), ref_m, ref_v, torch.tensor(w), None, training=True,
                                             momentum=momentum)
        np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(ours_m.numpy(), ref_m.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours_v.numpy(), ref_v.numpy(), rtol=1e-12)  # unbiased estimate
    # eval with the accumulated statistics
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(F.batch_norm(tg.tensor(x), ours_m, ours_v).numpy(),
                               torch.nn.functional.batch_norm(torch.tensor(x), ref_m, ref_v).numpy(), rtol=1e-10)


def test_running_stats_update_in_place_and_keep_dtype():
    rm, rv = tg.zeros(3), tg.ones(3)
    before_m, before_v = rm._data, rv._data
    version = rm._version
    F.batch_norm(tg.randn(8, 3, dtype=tg.float64), rm, rv, training=True)
    assert rm._data is before_m and rv._data is before_v          # the same buffers, modified in place
    assert rm.dtype == tg.float32 and rm._version == version + 1
    assert not np.allclose(rm.numpy(), 0)
    frozen = rm.numpy().copy()
    F.batch_norm(tg.randn(8, 3), rm, rv, training=False)            # eval never touches them
    np.testing.assert_array_equal(rm.numpy(), frozen)


def test_batch_norm_gradcheck():
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    w = tg.tensor(rng.standard_normal(2), requires_grad=True)
    b = tg.tensor(rng.standard_normal(2), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])
    rm, rv = tg.tensor(rng.standard_normal(2)), tg.tensor(rng.random(2) + 0.5)
    assert tg.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), [x, w, b])


@settings(max_examples=12)
@given(shape=st.sampled_from([(4, 5), (2, 3, 4), (2, 3, 2, 2), (6,)]), seed=seeds, k=st.integers(1, 3),
       affine=st.booleans())
def test_layer_norm_matches_torch(shape, seed, k, affine):
    k = min(k, len(shape))
    rng = np.random.default_rng(seed)
    ns = shape[len(shape) - k:]
    x = rng.standard_normal(shape) * 3 + 2
    params = [rng.standard_normal(ns), rng.standard_normal(ns)] if affine else []
    check_parity(lambda m, x, *wb: m.nn.functional.layer_norm(x, list(ns), *wb), [x, *params], atol=1e-9)
    check_parity(lambda m, x: m.nn.functional.layer_norm(x, list(ns), eps=0.1), [x], atol=1e-9)


@settings(max_examples=10)
@given(shape=st.sampled_from([(2, 6), (2, 6, 3), (3, 4, 2, 2)]), groups=st.sampled_from([1, 2]), seed=seeds)
def test_group_norm_matches_torch(shape, groups, seed):
    rng = np.random.default_rng(seed)
    C = shape[1]
    check_parity(lambda m, x, w, b: m.nn.functional.group_norm(x, groups, w, b),
                 [rng.standard_normal(shape), rng.standard_normal(C), rng.standard_normal(C)], atol=1e-9)


def test_layer_and_group_norm_gradcheck_and_float32():
    rng = np.random.default_rng(4)
    x = tg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = tg.tensor(rng.standard_normal(4), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w: F.layer_norm(x, (4,), w), [x, w])
    assert tg.autograd.gradcheck(lambda x: F.group_norm(x, 3), [x])
    x32 = tg.randn(4, 3, requires_grad=True)
    for out in (F.batch_norm(x32, tg.zeros(3), tg.ones(3), tg.ones(3), tg.zeros(3), training=True),
                F.layer_norm(x32, [3], tg.ones(3), tg.zeros(3))):
        assert out.dtype == tg.float32


def test_normalization_errors():
    x = tg.randn(4, 3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training.*\(1, 3\)"):
        F.batch_norm(tg.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(x, tg.zeros(4), tg.ones(4), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(x, tg.zeros(3), tg.ones(3), weight=tg.ones(4))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="both be None or neither"):
        F.batch_norm(x, tg.zeros(3), None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected input of shape \(N, C\).*\(3,\)"):
        F.batch_norm(tg.randn(3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[5\], expected input with shape \[\*, 5\].*\(2, 3, 4\)"):
        F.layer_norm(tg.randn(2, 3, 4), [5])
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as normalized_shape"):
        F.layer_norm(tg.randn(2, 3, 4), [4], weight=tg.ones(3))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(tg.randn(2, 6, 3), 4)


def _t(*shape, seed=0, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed + sum(shape))
    return tg.tensor(rng.standard_normal(shape) * scale + shift, requires_grad=True)


GRADGRAD_CASES = [
    ("batch_norm_affine_4d", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2,
     [_t(3, 2, 2, 2, shift=1.0), _t(2), _t(2)]),
    ("batch_norm_plain_3d", lambda x: F.batch_norm(x, None, None, training=True) ** 3, [_t(2, 3, 3)]),
    ("channel_affine_two_terms", lambda x, s, t, x2, s2: ChannelAffine.apply(x, s, t, x2, s2) ** 2,
     [_t(2, 3, 2), _t(3), _t(3), _t(2, 3, 2, seed=1), _t(3, seed=1)]),
    ("channel_dot_centred", lambda a, b, c: ChannelDot.apply(a, b, c) ** 2, [_t(2, 3, 2), _t(2, 3, 2, seed=1), _t(3)]),
    ("channel_sum", lambda x: ChannelSum.apply(x * x) ** 2, [_t(2, 3, 2)]),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_batch_norm_primitives_gradcheck(case):
    name, fn, inputs = case
    assert tg.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (4, 3, 70, 1), (2, 3, 70, 1), (2, 3, 2, 3, 2)])
def test_channel_primitives_match_numpy(shape):
    """Every layout of the per-channel kernels (samples as rows with short and long channel rows; (sample, channel)
    rows below 4 samples) against plain numpy."""
    rng = np.random.default_rng(5)
    x, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    s, t, s2, c = (rng.standard_normal(3) for _ in range(4))
    axes = (0,) + tuple(range(2, len(shape)))
    col = (1, 3) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(ChannelSum.apply(tg.tensor(x)).numpy(), x.sum(axes), rtol=1e-12)
    np.testing.assert_allclose(ChannelDot.apply(tg.tensor(x), tg.tensor(x2), tg.tensor(c)).numpy(),
                               (x * (x2 - c.reshape(col))).sum(axes), rtol=1e-12)
    got = ChannelAffine.apply(tg.tensor(x), tg.tensor(s), tg.tensor(t), tg.tensor(x2), tg.tensor(s2)).numpy()
    np.testing.assert_allclose(got, x * s.reshape(col) + t.reshape(col) + x2 * s2.reshape(col), rtol=1e-12)


def test_batch_norm_float32_statistics_far_from_zero_mean():
    """Mean 3000, std 1 in float32: a one-pass variance (E[x^2] - mean^2) would lose every digit; the two-pass one
    keeps the running variance and the gradients at float32 accuracy (vs torch in float64)."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((8, 4, 6, 6)) + 3000).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    rm, rv = tg.zeros(4), tg.ones(4)
    xt = tg.tensor(x, requires_grad=True)
    w = tg.tensor(np.full(4, 1.5, np.float32), requires_grad=True)
    F.batch_norm(xt, rm, rv, w, None, training=True, momentum=1.0).backward(tg.tensor(g))
    xr, wr = torch.tensor(x, dtype=torch.float64, requires_grad=True), torch.full((4,), 1.5, dtype=torch.float64,
                                                                                 requires_grad=True)
    trm, trv = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    torch.nn.functional.batch_norm(xr, trm, trv, wr, None, training=True, momentum=1.0).backward(
        torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-4)
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-3, atol=2e-3)
    np.testing.assert_allclose(w.grad.numpy(), wr.grad.numpy(), rtol=1e-3, atol=1e-3)


def test_batch_norm_node_saves_the_input_and_per_channel_vectors_only():
    """The training node keeps x (the input itself), weight, mean and invstd: no xhat or x - mean copies."""
    x = tg.randn(4, 3, 5, 5, requires_grad=True)
    w = tg.ones(3, requires_grad=True)
    y = F.batch_norm(x, tg.zeros(3), tg.ones(3), w, tg.zeros(3, requires_grad=True), training=True)
    node = y.grad_fn
    assert node._fn is BatchNorm
    saved = node._saved
    assert saved[0] is x._data and saved[1] is w._data
    assert [np.shape(v) for v in saved[2:]] == [(3,), (3,)]


@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_second_derivatives_5d_match_torch(affine):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2, 2, 3, 2))
    params = [rng.standard_normal(2), rng.standard_normal(2)] if affine else []

    def grads(m, tensors):
        y = m.nn.functional.batch_norm(tensors[0], None, None, *tensors[1:], training=True)
        first = m.autograd.grad((y ** 3).sum(), tensors, create_graph=True)
        return m.autograd.grad(sum((f * f).sum() for f in first), tensors)

    ours = grads(tg, [tg.tensor(a, requires_grad=True) for a in [x, *params]])
    ref = grads(torch, [torch.tensor(a, requires_grad=True) for a in [x, *params]])
    for o, r in zip(ours, ref):
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-8, atol=1e-10)


def test_batch_norm_non_contiguous_input_and_groups_far_from_zero_mean():
    """A channels-last view (not contiguous) normalises like torch; layer/group norm rows with mean 1000 in float32
    stay at float32 accuracy (two-pass statistics)."""
    rng = np.random.default_rng(12)
    base = rng.standard_normal((4, 5, 5, 3))
    check_parity(lambda m, x, w: m.nn.functional.batch_norm(x.permute(0, 3, 1, 2), None, None, w, None,
                                                            training=True), [base, rng.standard_normal(3)], atol=1e-9)
    x = (rng.standard_normal((6, 4, 8)) + 1000).astype(np.float32)
    xr = torch.tensor(x, dtype=torch.float64)
    np.testing.assert_allclose(F.layer_norm(tg.tensor(x), [8]).numpy(),
                               torch.nn.functional.layer_norm(xr, [8]).numpy(), atol=1e-3)
    np.testing.assert_allclose(F.group_norm(tg.tensor(x), 2).numpy(),
                               torch.nn.functional.group_norm(xr, 2).numpy(), atol=1e-3)
