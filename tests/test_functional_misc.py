"""dropout (statistics, seeded reproducibility, eval identity, channel masks), linear, pad (all modes), one_hot and
normalize against torch (float64), with gradcheck and the boundary errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from parity import check_parity

torch = pytest.importorskip("torch")
F = tg.nn.functional
seeds = st.integers(0, 2**31 - 1)


# --- dropout -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    tg.manual_seed(0)
    x = tg.ones(200_000)
    out = F.dropout(x, p).numpy()
    kept = out != 0
    n = out.size
    # the kept fraction is Binomial(n, 1 - p): within 5 standard deviations
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)   # survivors are scaled by 1 / (1 - p)
    assert abs(out.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)     # so the expectation is unchanged


def test_dropout_is_reproducible_with_manual_seed_and_advances_the_rng():
    x = tg.randn(50, 40)
    tg.manual_seed(123)
    a = F.dropout(x, 0.3).numpy()
    b = F.dropout(x, 0.3).numpy()
    tg.manual_seed(123)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), a)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), b)
    assert not np.array_equal(a, b)  # consecutive calls draw new masks


def test_dropout_eval_identity_and_edge_probabilities():
    x = tg.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout2d(tg.randn(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(F.dropout(x, 0.0).detach().numpy(), x.detach().numpy())
    out = F.dropout(x, 1.0)
    assert np.all(out.detach().numpy() == 0) and np.isfinite(out.detach().numpy()).all()
    assert out.dtype == tg.float32


def test_dropout_gradient_uses_the_same_mask():
    tg.manual_seed(5)
    x = tg.randn(30, 20, requires_grad=True)
    out = F.dropout(x, 0.4)
    g = np.random.default_rng(0).standard_normal((30, 20))
    out.backward(tg.tensor(g, dtype=tg.float32))
    mask = out.detach().numpy() / x.detach().numpy()   # 0 or 1 / (1 - p), elementwise
    np.testing.assert_allclose(x.grad.numpy(), g * mask, rtol=1e-5, atol=1e-6)
    assert np.all((mask == 0) | np.isclose(mask, 1 / 0.6, rtol=1e-5))


@pytest.mark.parametrize("fn,shape,mask_dims", [("dropout2d", (8, 16, 5, 5), 2), ("dropout2d", (8, 16, 7), 2),
                                                 ("dropout1d", (8, 16, 7), 2), ("dropout1d", (16, 7), 1),
                                                 ("dropout3d", (4, 8, 2, 3, 3), 2), ("dropout3d", (8, 2, 3, 3), 1)])
def test_feature_dropout_zeroes_whole_channels(fn, shape, mask_dims):
    tg.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(F, fn)(tg.ones(*shape), 0.5).numpy()
    per_channel = out.reshape(*shape[:mask_dims], -1)
    # every channel is either all zero or all 2: one draw per (sample, channel)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8


def test_dropout2d_3d_input_warns_like_torch():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(tg.ones(2, 3, 4))


def test_inplace_dropout_writes_into_the_input():
    y = tg.randn(10, 10, requires_grad=True) * 1.0
    out = F.dropout(y, 0.5, inplace=True)
    assert out is y and (y.detach().numpy() == 0).any()
    y.sum().backward()


def test_dropout_errors():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(tg.ones(3), 1.5)
    with pytest.raises(ValueError, match="dropout2d: dropout probability.*-0.1"):
        F.dropout2d(tg.ones(2, 3, 4, 4), -0.1)
    with pytest.raises(RuntimeError, match=r"dropout1d: Expected 2D or 3D input.*\(2, 3, 4, 5\)"):
        F.dropout1d(tg.ones(2, 3, 4, 5))


# --- linear --------------------------------------------------------------------------------------------------------
@settings(max_examples=15)
@given(lead=st.lists(st.integers(1, 3), max_size=2), fin=st.integers(1, 5), fout=st.integers(1, 4), seed=seeds,
       bias=st.booleans())
def test_linear_matches_torch(lead, fin, fout, seed, bias):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((*lead, fin)), rng.standard_normal((fout, fin)), rng.standard_normal(fout)
    check_parity(lambda m, x, w, *b: m.nn.functional.linear(x, w, *b), [x, w] + ([b] if bias else []))
    check_parity(lambda m, x, w: m.nn.functional.linear(x, w), [x, rng.standard_normal(fin)])  # 1-D weight


def test_linear_gradcheck_and_errors():
    rng = np.random.default_rng(1)
    x, w, b = (tg.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 4), (2, 4), (2,)])
    assert tg.autograd.gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])
    with pytest.raises(RuntimeError, match=r"^linear: input has 84 features but weight expects 120 \(input shape "
                                           r"\(50, 84\), weight \(10, 120\)\)$"):
        F.linear(tg.randn(50, 84), tg.randn(10, 120))
    with pytest.raises(RuntimeError, match=r"linear: bias of shape \(3,\) does not match the output"):
        F.linear(tg.randn(5, 4), tg.randn(2, 4), tg.randn(3))


# --- pad -----------------------------------------------------------------------------------------------------------
PAD_CASES = [((2, 3, 4, 5), (2, 1, 3, 0)), ((2, 3, 4, 5), (-1, 2, 1, -2)), ((2, 3, 4, 5), (3, 3, 2, 2)),
             ((3, 6), (2, 5)), ((2, 3, 6), (-2, 4)), ((2, 3, 6), (5, -1)), ((3, 4, 5), (1, 2, 3, 0)),
             ((2, 2, 3, 4, 5), (1, 2, 0, 1, 2, 1)), ((2, 3, 4, 5), (1, 0, 0, 1, 2, 2))]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PAD_CASES)
def test_pad_matches_torch(mode, shape, pad):
    x = np.random.default_rng(0).standard_normal(shape)
    k = len(pad) // 2
    if mode != "constant" and len(shape) not in (k + 1, k + 2):
        with pytest.raises(NotImplementedError, match=f"Padding size {len(pad)} is not supported"):
            F.pad(tg.tensor(x), pad, mode=mode)
        return
    check_parity(lambda m, x: m.nn.functional.pad(x, pad, mode=mode), [x])


def test_pad_constant_value_and_gradcheck():
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    check_parity(lambda m, x: m.nn.functional.pad(x, (1, 1, 2, 0, 0, 1), value=-2.5), [x])
    assert F.pad(tg.tensor([[1, 2]]), (1, 1), value=7).tolist() == [[7, 1, 2, 7]]
    xt = tg.tensor(np.random.default_rng(2).standard_normal((1, 2, 3, 3)), requires_grad=True)
    for mode in ("reflect", "replicate", "circular"):
        assert tg.autograd.gradcheck(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode), [xt])


def test_pad_errors():
    x = tg.randn(1, 3, 4)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two times"):
        F.pad(x, (1, 1) * 4)
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode 'mirror'"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(RuntimeError, match=r"reflect.*padding \(4, 1\) at dimension 2 of input \(1, 3, 4\)"):
        F.pad(x, (4, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="circular.*at most"):
        F.pad(x, (0, 5), mode="circular")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        F.pad(x, (1, 1), mode="reflect", value=2.0)


# --- one_hot, normalize ----------------------------------------------------------------------------------------------
def test_one_hot_matches_torch():
    t = np.array([[0, 3], [2, 2], [1, 0]])
    for nc in (-1, 4, 6):
        ours = F.one_hot(tg.tensor(t), nc)
        ref = torch.nn.functional.one_hot(torch.tensor(t), nc)
        assert ours.dtype == tg.int64 and ours.shape == tuple(ref.shape)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert F.one_hot(tg.tensor(np.zeros(0, dtype=np.int64)), 3).shape == (0, 3)


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match=r"Class values must be smaller than num_classes \(got 5 at position \(1,\)"):
        F.one_hot(tg.tensor([1, 5]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(tg.tensor([1, -1]))
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type LongTensor"):
        F.one_hot(tg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(tg.tensor(np.zeros(0, dtype=np.int64)))


def test_normalize_matches_torch():
    x = np.random.default_rng(3).standard_normal((3, 4, 2))
    check_parity(lambda m, x: m.nn.functional.normalize(x), [x])
    check_parity(lambda m, x: m.nn.functional.normalize(x, p=1.0, dim=-1), [x])
    check_parity(lambda m, x: m.nn.functional.normalize(x, p=3.0, dim=1), [x])
    check_parity(lambda m, x: m.nn.functional.normalize(x, p=float("inf"), dim=2), [x])
    check_parity(lambda m, x: m.nn.functional.normalize(x, dim=0), [np.zeros((2, 3))])  # eps guards 0 / 0
