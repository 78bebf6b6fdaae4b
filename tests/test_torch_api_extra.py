"""torch APIs real scripts reached for (issue 12, part B): fmod / remainder / floor division / div(rounding_mode),
add/sub(alpha), atan2, ones/zeros(size=), tg.backends.cudnn as a real submodule, max_pool1d / avg_pool1d,
F.unfold / F.fold (nn.Unfold / Fold). Forward and gradients against torch in float64; gradcheck where differentiable."""
import importlib

import numpy as np
import pytest

import tinygrad_cnn as tg
from parity import check_parity

torch = pytest.importorskip("torch")
F_CASES = np.random.default_rng(0)


def _arr(*shape, lo=-3.0, hi=3.0):
    return F_CASES.uniform(lo, hi, shape)


def _away_from_zero(*shape):
    a = _arr(*shape, lo=0.5, hi=2.5)
    return a * np.where(F_CASES.random(shape) < 0.5, -1, 1)


# --- modulo, rounding division, alpha, atan2 -------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.fmod(a, b),
    lambda m, a, b: m.remainder(a, b),
    lambda m, a, b: a % b,
    lambda m, a, b: a.fmod(2.5) + a.remainder(-1.5),
    lambda m, a, b: (7.0 % b.detach()) * a,  # torch has no derivative of Scalar % Tensor
    lambda m, a, b: m.atan2(a, b),
    lambda m, a, b: a.atan2(b[0]),
    lambda m, a, b: m.add(a, b, alpha=2.5) - m.sub(b, a, alpha=-0.5),
    lambda m, a, b: a.add(1.0, alpha=3),
], ids=["fmod", "remainder", "mod_op", "scalar_divisors", "rmod", "atan2", "atan2_broadcast", "add_sub_alpha",
        "add_scalar_alpha"])
def test_binary_math_matches_torch(fn):
    check_parity(fn, [_arr(3, 4), _away_from_zero(1, 4)])


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_mode_matches_torch(mode):
    a, b = _arr(3, 4) * 3, _away_from_zero(3, 4)
    check_parity(lambda m, x, y: m.div(x, y, rounding_mode=mode), [a, b], check_grad=mode is None)
    ia, ib = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    ours = tg.tensor(ia).div(tg.tensor(ib), rounding_mode=mode).numpy()
    theirs = torch.tensor(ia).div(torch.tensor(ib), rounding_mode=mode).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_floor_division_and_remainder_of_integers_match_torch():
    ia, ib = np.array([7, -7, 7, -7, 0, 5]), np.array([2, 2, -2, -2, 3, 5])
    for fn in (lambda m, x, y: x // y, lambda m, x, y: x % y, lambda m, x, y: m.fmod(x, y),
               lambda m, x, y: 17 // y, lambda m, x, y: x.remainder(3), lambda m, x, y: m.floor_divide(x, y)):
        ours, theirs = fn(tg, tg.tensor(ia), tg.tensor(ib)), fn(torch, torch.tensor(ia), torch.tensor(ib))
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_alpha_must_fit_the_dtype():
    with pytest.raises(RuntimeError, match="argument alpha must not be a floating point number"):
        tg.tensor([1, 2]).add(1, alpha=0.5)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).add(1, alpha=0.5)


def test_modulo_and_atan2_gradcheck():
    a = tg.tensor(_arr(3, 4), requires_grad=True, dtype=tg.float64)
    b = tg.tensor(_away_from_zero(1, 4), requires_grad=True, dtype=tg.float64)
    assert tg.autograd.gradcheck(lambda x, y: x.fmod(y) + x.remainder(y) + x.atan2(y), (a, b))


# --- creation with size=, backends ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_creation_accepts_size_keyword(name):
    assert tuple(getattr(tg, name)(size=(2, 3)).shape) == tuple(getattr(torch, name)(size=(2, 3)).shape)
    assert tuple(getattr(tg, name)(size=[4]).shape) == (4,)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        getattr(tg, name)(2, size=(2,))


def test_backends_cudnn_is_a_real_submodule_with_torchs_names():
    cudnn = importlib.import_module("tinygrad_cnn.backends.cudnn")
    real = importlib.import_module("torch.backends.cudnn")
    assert tg.backends.cudnn is cudnn
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit"):
        assert getattr(cudnn, name) == getattr(real, name), name
    assert cudnn.is_available() is False and cudnn.version() is None
    old = cudnn.benchmark
    try:
        cudnn.benchmark = True
        assert tg.backends.cudnn.benchmark is True
        with cudnn.flags(enabled=False, benchmark=False):
            assert cudnn.enabled is False and cudnn.benchmark is False
        assert cudnn.enabled is True and cudnn.benchmark is True
    finally:
        cudnn.benchmark = old
    assert tg.backends.mps.is_available() is False and tg.backends.mkldnn.enabled is True
    tg.backends.cuda.matmul.allow_tf32 = True  # torch scripts set it; accepted
    assert tg.backends.cpu.get_cpu_capability()


# --- 1-D pools, unfold / fold ---------------------------------------------------------------------------------
POOL1D = [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, ceil_mode=True),
          dict(kernel_size=(2,), stride=(1,))]


@pytest.mark.parametrize("kw", POOL1D)
def test_pool1d_matches_torch(kw):
    x = F_CASES.permutation(54).reshape(2, 3, 9).astype(np.float64)  # distinct values: no max ties
    check_parity(lambda m, x: m.nn.functional.max_pool1d(x, **kw), [x])
    check_parity(lambda m, x: m.nn.functional.avg_pool1d(x, **kw), [x])
    check_parity(lambda m, x: m.nn.functional.max_pool1d(x[0], **kw), [x])
    check_parity(lambda m, x: m.nn.MaxPool1d(**kw)(x) + m.nn.AvgPool1d(**kw)(x), [x])


def test_max_pool1d_indices_and_dilation_match_torch():
    x = F_CASES.permutation(30).reshape(1, 3, 10).astype(np.float64)
    check_parity(lambda m, x: m.nn.functional.max_pool1d(x, 3, 1, 1, 2, return_indices=True), [x])
    with pytest.raises(RuntimeError, match="max_pool1d: Expected 2D or 3D"):
        tg.nn.functional.max_pool1d(tg.ones(1, 1, 2, 2), 2)


FOLD = [dict(kernel_size=3), dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(2, 1)),
        dict(kernel_size=2, stride=2)]


@pytest.mark.parametrize("kw", FOLD)
def test_unfold_and_fold_match_torch(kw):
    x = _arr(2, 3, 7, 6)
    check_parity(lambda m, x: m.nn.functional.unfold(x, **kw), [x])
    check_parity(lambda m, x: m.nn.Unfold(**kw)(x[0]), [x])
    cols = tg.nn.functional.unfold(tg.tensor(x), **kw).numpy()
    check_parity(lambda m, c: m.nn.functional.fold(c, (7, 6), **kw), [cols])
    check_parity(lambda m, c: m.nn.Fold((7, 6), **kw)(c[0]), [cols])


def test_unfold_fold_gradcheck_and_errors():
    x = tg.tensor(_arr(1, 2, 4, 5), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.fold(
        tg.nn.functional.unfold(t, 2, padding=1) * 1.5, (4, 5), 2, padding=1), (x,))
    with pytest.raises(RuntimeError, match="fold: expected size"):
        tg.nn.functional.fold(tg.ones(1, 5, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match="unfold: .*must be at least one"):
        tg.nn.functional.unfold(tg.ones(1, 1, 2, 2), 3)


# --- second derivatives (the Mod and Atan2 primitives) --------------------------------------------------------
def _t(arr):
    return tg.tensor(arr, dtype=tg.float64, requires_grad=True)


GRADGRAD_CASES = [
    ("fmod_remainder", lambda a, b: (a.fmod(b) + a.remainder(b)) * a * b, [_t(_arr(2, 3)), _t(_away_from_zero(3))]),
    ("atan2", lambda a, b: a.atan2(b) ** 2, [_t(_arr(2, 3)), _t(_away_from_zero(2, 1))]),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradgradcheck_modulo_atan2(case):
    name, fn, inputs = case
    assert tg.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("fn", [lambda m, a, b: (m.fmod(a, b) + m.remainder(a, b)) * a * b,
                                lambda m, a, b: m.atan2(a, b) * a],
                         ids=["fmod_remainder", "atan2"])
def test_second_derivatives_match_torch(fn):
    from gradgrad_torch import check_grad2

    check_grad2(fn, [_arr(2, 3), _away_from_zero(1, 3)])
