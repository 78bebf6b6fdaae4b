"""Pooling: parity with torch (float64, forward, indices and gradients, ties included), gradcheck, the UFLDL
oracles, stochastic pooling's sampling law and eval formula, the reshape fast path, and argument errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
import tinygrad_cnn.ops.pool as pool_ops
from oracles.pool import max_pool_grad, mean_pool_grad
from parity import check_parity

torch = pytest.importorskip("torch")


@st.composite
def pool_cases(draw, dilation=True):
    """kernel, stride, padding (at most half the kernel, torch's rule), dilation, ceil_mode and an
    input large enough for one window; values are small integers half of the time, so windows have ties."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = draw(st.sampled_from([None, (draw(st.integers(1, 3)), draw(st.integers(1, 3)))]))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ext = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    hw = (ext[0] + draw(st.integers(0, 5)), ext[1] + draw(st.integers(0, 5)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)
    x = rng.integers(-2, 3, shape).astype(np.float64) if draw(st.booleans()) else rng.standard_normal(shape)
    return dict(x=x, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=draw(st.booleans()))


@given(pool_cases())
def test_max_pool2d_matches_torch_with_ties_and_indices(c):
    x = c.pop("x")
    out, ref = check_parity(lambda m, x: m.nn.functional.max_pool2d(x, return_indices=True, **c), [x])
    np.testing.assert_array_equal(out[1].numpy(), ref[1].numpy())  # indices: flat H*W, first max on ties
    assert out[1].dtype == tg.int64


@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 1, 3, -2]))
def test_avg_pool2d_matches_torch(c, count_include_pad, divisor_override):
    x, _ = c.pop("x"), c.pop("dilation")
    check_parity(lambda m, x: m.nn.functional.avg_pool2d(x, count_include_pad=count_include_pad,
                                                         divisor_override=divisor_override, **c), [x])


@pytest.mark.parametrize("norm_type", [1, 2, 3.5, float("inf")])
@pytest.mark.parametrize("kernel_size,stride,ceil_mode", [(2, None, False), (3, 2, True), ((2, 3), (1, 2), False)])
def test_lp_pool2d_matches_torch(norm_type, kernel_size, stride, ceil_mode):
    x = np.abs(np.random.default_rng(5).standard_normal((2, 3, 7, 8))) + 0.1  # x^p of negatives: NaN in both
    check_parity(lambda m, x: m.nn.functional.lp_pool2d(x, norm_type, kernel_size, stride, ceil_mode), [x])


def test_lp_pool2d_all_zero_window_has_zero_gradient_as_torch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = 1.0   # one window with a value, three all-zero windows (d x^(1/p) is inf at 0; ReLU masks it)
    check_parity(lambda m, x: m.nn.functional.lp_pool2d(x, 2, 2), [x])


def test_lp_pool2d_with_negative_inputs_p2_and_minus_inf():
    x = np.random.default_rng(6).standard_normal((1, 2, 6, 6))
    check_parity(lambda m, x: m.nn.functional.lp_pool2d(x, 2, 2), [x])
    check_parity(lambda m, x: m.nn.functional.lp_pool2d(x, -float("inf"), 3, 2), [x])


@given(st.integers(1, 9), st.integers(1, 9), st.sampled_from([None, 1, 2, 3, 4, 5, 7, 12]),
       st.sampled_from([1, 2, 3, 5, 6, None]), st.booleans(), st.integers(0, 1000))
def test_adaptive_pools_match_torch(h, w, oh, ow, ties, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (2, 2, h, w)).astype(np.float64) if ties else rng.standard_normal((2, 2, h, w))
    check_parity(lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (oh, ow)), [x])
    out, ref = check_parity(lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (oh, ow), True), [x])
    np.testing.assert_array_equal(out[1].numpy(), ref[1].numpy())


@pytest.mark.parametrize("fn", [
    lambda m, x: m.nn.functional.max_pool2d(x, 2, return_indices=True),
    lambda m, x: m.nn.functional.avg_pool2d(x, 3, 1, 1),
    lambda m, x: m.nn.functional.lp_pool2d(x, 2, 2),
    lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, 3),
    lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (2, 3), return_indices=True),
])
def test_unbatched_3d_inputs(fn):
    out, ref = check_parity(fn, [np.random.default_rng(7).standard_normal((3, 7, 6))])
    first = out[0] if isinstance(out, tuple) else out
    assert first.ndim == 3


def test_max_pools_nan_propagates_like_torch():
    x = np.random.default_rng(8).standard_normal((1, 1, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 3, 3] = np.nan
    for name, args in (("max_pool2d", (2,)), ("max_pool2d", (3, 1, 1)), ("adaptive_max_pool2d", (3,))):
        ours = getattr(F, name)(tg.tensor(x), *args, return_indices=True)
        ref = getattr(torch.nn.functional, name)(torch.tensor(x), *args, return_indices=True)
        np.testing.assert_array_equal(ours[0].numpy(), ref[0].numpy())
        np.testing.assert_array_equal(ours[1].numpy(), ref[1].numpy())  # the last NaN of a window, as torch


def _g(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return tg.tensor(rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + 0.05, dtype=tg.float64,
                     requires_grad=True)  # distinct positive values: no ties at the finite-difference scale


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 2, 1, 1, dilation=(1, 2), ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    lambda x: F.lp_pool2d(x, 3, 2, 1),
    lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    lambda x: F.adaptive_max_pool2d(x, (3, 4)),
    lambda x: F.stochastic_pool2d(x, 2, 1, training=False),
])
def test_pool_gradcheck(fn):
    assert tg.autograd.gradcheck(fn, (_g(1, 2, 5, 5),))


def test_stochastic_pool2d_training_gradcheck_with_fixed_sample():
    x = _g(2, 2, 4, 6)
    # the same seed before every call: the finite differences see the same sample as backward (eps is far too
    # small to move u across a cumulative-weight boundary)
    assert tg.autograd.gradcheck(lambda x: F.stochastic_pool2d(x, 2, generator=tg.Generator().manual_seed(3)),
                                 (x,))


def test_max_and_mean_pooling_match_ufldl_oracles():
    rng = np.random.default_rng(9)
    x = rng.integers(-3, 4, (2, 3, 6, 8)).astype(np.float64)  # ties: the first maximum takes the delta
    delta = rng.standard_normal((2, 3, 3, 4))
    for fn, oracle in ((F.max_pool2d, max_pool_grad), (F.avg_pool2d, mean_pool_grad)):
        xt = tg.tensor(x, requires_grad=True)
        fn(xt, 2).backward(tg.tensor(delta))
        np.testing.assert_allclose(xt.grad.numpy(), oracle(x, delta, 2), atol=1e-12)


def test_stochastic_pool2d_samples_in_proportion_to_activations():
    window = np.array([[1.0, 2.0], [0.0, 5.0]])  # p = (1/8, 2/8, 0, 5/8)
    x = tg.tensor(np.tile(window, (1, 20000, 1, 1)))
    out = F.stochastic_pool2d(x, 2, generator=tg.Generator().manual_seed(0)).numpy().ravel()
    freq = np.array([(out == v).mean() for v in (1.0, 2.0, 0.0, 5.0)])
    np.testing.assert_allclose(freq, [1 / 8, 2 / 8, 0, 5 / 8], atol=0.015)  # ~5 sigma at n = 20000


def test_stochastic_pool2d_routes_gradient_to_the_sample_and_zero_windows_give_zero():
    rng = np.random.default_rng(10)
    x_np = np.abs(rng.standard_normal((3, 2, 4, 4))) + 0.1
    x_np[0, 0, :2, :2] = 0.0           # an all-zero window
    x_np[0, 1, :2, :2] = -1.0          # an all-negative window: no positive weight either
    x = tg.tensor(x_np, requires_grad=True)
    y = F.stochastic_pool2d(x, 2, generator=tg.Generator().manual_seed(1))
    assert y[0, 0, 0, 0].item() == 0.0 and y[0, 1, 0, 0].item() == 0.0
    y.sum().backward()
    grad = x.grad.numpy()
    windows = x_np.reshape(3, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(3, 2, 2, 2, 4)
    gwin = grad.reshape(3, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(3, 2, 2, 2, 4)
    nonzero = gwin.sum(-1) > 0
    assert not nonzero[0, 0, 0, 0] and not nonzero[0, 1, 0, 0]
    assert ((gwin != 0).sum(-1) == nonzero).all()                   # one element per window, or none
    picked = np.take_along_axis(windows, gwin.argmax(-1)[..., None], -1)[..., 0]
    np.testing.assert_array_equal(picked[nonzero], y.detach().numpy()[nonzero])  # output = the routed element


def test_stochastic_pool2d_is_reproducible_with_a_seed():
    x = tg.rand(2, 3, 6, 6)
    tg.manual_seed(11)
    a = F.stochastic_pool2d(x, 3).numpy()
    tg.manual_seed(11)
    b = F.stochastic_pool2d(x, 3).numpy()
    c = F.stochastic_pool2d(x, 3, generator=tg.Generator().manual_seed(11)).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.shape == c.shape == (2, 3, 2, 2)


def test_stochastic_pool2d_eval_is_probability_weighted_average():
    window = np.array([[1.0, 2.0], [0.0, -3.0]])  # negative parts weigh nothing: (1 + 4) / (1 + 2)
    x = tg.tensor(window[None, None], requires_grad=True)
    y = F.stochastic_pool2d(x, 2, training=False)
    assert y.item() == pytest.approx(5.0 / 3.0)
    y.backward()
    # d/da_i sum(a^2)/sum(a) = (2 a_i - out) / sum(a) for a_i > 0, and 0 where a_i <= 0
    np.testing.assert_allclose(x.grad.numpy()[0, 0], [[(2 - 5 / 3) / 3, (4 - 5 / 3) / 3], [0, 0]])
    zero = F.stochastic_pool2d(tg.zeros(1, 1, 2, 2, requires_grad=True), 2, training=False)
    assert zero.item() == 0.0


def test_fast_path_for_non_overlapping_avg_pool_skips_col2im(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("col2im used where the reshape fast path applies")

    x = tg.randn(2, 3, 9, 8, requires_grad=True)
    monkeypatch.setattr(pool_ops, "col2im", forbidden)
    F.avg_pool2d(x, 2).sum().backward()  # 9 rows: the last one is outside every window
    monkeypatch.undo()
    expected = np.full((2, 3, 9, 8), 0.25, np.float32)
    expected[:, :, 8] = 0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_float32_stays_float32():
    x = tg.randn(2, 3, 8, 8, requires_grad=True)
    outs = [F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 2, 1), F.lp_pool2d(x.abs() + 1, 2, 2),
            F.adaptive_avg_pool2d(x, 3), F.adaptive_max_pool2d(x, 3), F.stochastic_pool2d(x, 2),
            F.stochastic_pool2d(x, 2, training=False)]
    for y in outs:
        assert y.dtype == tg.float32
    sum(y.sum() for y in outs).backward()
    assert x.grad.dtype == tg.float32


def _raises(match, fn):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_pool_errors_name_op_argument_and_shapes():
    x = tg.randn(8, 3, 32, 32)
    _raises(r"max_pool2d: padding should be at most half of kernel size.*kernel_size=3.*"
            r"\(input shape \(8, 3, 32, 32\)\)", lambda: F.max_pool2d(x, 3, padding=2))
    # torch's max_pool2d_with_indices ignores dilation in this rule (padding 2 > 3 // 2 although the dilated
    # kernel spans 5 cells); its other CPU path is more lenient for some sizes: we follow the strict one
    _raises(r"max_pool2d: padding should be at most half", lambda: F.max_pool2d(x, 3, padding=2, dilation=2))
    _raises(r"avg_pool2d: padding should be at most half", lambda: F.avg_pool2d(x, 3, padding=2))
    _raises(r"max_pool2d: output size 0 x 0 is too small.*\(input shape \(8, 3, 32, 32\)\)",
            lambda: F.max_pool2d(x, 40))
    _raises(r"max_pool2d: expected 3-D .*but got input of shape \(32, 32\)", lambda: F.max_pool2d(x[0, 0], 2))
    _raises(r"max_pool2d: stride must be positive, but got stride=0", lambda: F.max_pool2d(x, 2, stride=0))
    _raises(r"max_pool2d: kernel_size must be positive", lambda: F.max_pool2d(x, 0))
    _raises(r"max_pool2d: kernel_size must be a single int or a tuple of two ints",
            lambda: F.max_pool2d(x, (2, 2, 2)))
    _raises(r"max_pool2d: dilation must be positive", lambda: F.max_pool2d(x, 2, dilation=0))
    _raises(r"avg_pool2d: divisor_override must be a non-zero integer", lambda: F.avg_pool2d(x, 2,
                                                                                            divisor_override=0))
    _raises(r"avg_pool2d: expected a floating-point input", lambda: F.avg_pool2d(x.long(), 2))
    _raises(r"adaptive_max_pool2d: output_size must be an int or a tuple of two ints",
            lambda: F.adaptive_max_pool2d(x, (2, 3, 4)))
    _raises(r"adaptive_avg_pool2d: expected non-empty channel and spatial dimensions.*\(8, 3, 0, 4\)",
            lambda: F.adaptive_avg_pool2d(tg.zeros(8, 3, 0, 4), 2))
    _raises(r"lp_pool2d: output size 0 x 0 is too small", lambda: F.lp_pool2d(x, 2, 40))
    _raises(r"stochastic_pool2d: stride must be positive", lambda: F.stochastic_pool2d(x, 2, 0))
    for bad in (lambda: torch.nn.functional.max_pool2d(torch.randn(8, 3, 32, 32), 3, padding=2),
                lambda: torch.nn.functional.max_pool2d(torch.randn(8, 3, 32, 32), 40),
                lambda: torch.nn.functional.max_pool2d(torch.randn(32, 32), 2)):
        with pytest.raises(RuntimeError):  # torch rejects the same cases
            bad()


def test_empty_batch_and_zero_adaptive_output():
    x = tg.zeros(0, 3, 6, 6, requires_grad=True)
    assert tuple(F.max_pool2d(x, 2).shape) == (0, 3, 3, 3)
    assert tuple(F.avg_pool2d(x, 2).shape) == (0, 3, 3, 3)
    y = tg.randn(2, 3, 6, 6)
    assert tuple(F.adaptive_avg_pool2d(y, 0).shape) == tuple(torch.nn.functional.adaptive_avg_pool2d(
        torch.randn(2, 3, 6, 6), 0).shape)
    assert tuple(F.adaptive_max_pool2d(y, (0, 2)).shape) == (2, 3, 0, 2)
