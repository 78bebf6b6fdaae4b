"""batch_norm / layer_norm / group_norm against torch (float64): outputs and gradients in training and eval mode,
running statistics after several steps, gradcheck, dtype, and the argument errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from parity import check_parity

torch = pytest.importorskip("torch")
F = tg.nn.functional
seeds = st.integers(0, 2**31 - 1)
BN_SHAPES = [(6, 3), (4, 3, 5), (2, 3, 4, 5), (1, 3, 2), (2, 3, 1, 1)]


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


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 6), (3, 3, 4, 4)])
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
