"""nn.init and the layers' default initialisation: distributions checked statistically against torch's formulas."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")

SHAPE = (64, 32, 5, 5)  # fan_in = 800, fan_out = 1600, 51 200 samples


def _fresh(shape=SHAPE, dtype=tg.float32):
    return tg.empty(*shape, dtype=dtype)


def _check_uniform(x: np.ndarray, bound: float) -> None:
    """Support [-bound, bound] reached at both ends, std bound/sqrt(3), mean 0 (tolerances ~6 sigma)."""
    n = x.size
    assert np.abs(x).max() <= bound * (1 + 1e-6)
    assert x.max() > bound * (1 - 20 / n) and x.min() < -bound * (1 - 20 / n)
    assert abs(x.std() / (bound / math.sqrt(3)) - 1) < 6 * 0.45 / math.sqrt(n) + 1e-3
    assert abs(x.mean()) < 6 * bound / math.sqrt(3 * n)


def _check_normal(x: np.ndarray, std: float, mean: float = 0.0) -> None:
    n = x.size
    assert abs(x.std() / std - 1) < 6 / math.sqrt(2 * n)
    assert abs(x.mean() - mean) < 6 * std / math.sqrt(n)
    kurt = ((x - x.mean()) ** 4).mean() / x.var() ** 2
    assert abs(kurt - 3) < 0.2  # a uniform would give 1.8


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3),
                                      ("selu", None)])
def test_calculate_gain_matches_torch(nl, param):
    assert nn.init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param), abs=0)


def test_calculate_gain_errors_match_torch():
    for args in [("swish",), ("leaky_relu", "x"), ("leaky_relu", True)]:
        with pytest.raises(ValueError) as ours:
            nn.init.calculate_gain(*args)
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.calculate_gain(*args)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(7, 3), (8, 4, 3, 3), (6, 2, 5, 1, 2)])
def test_fans_match_torch(shape):
    assert nn.init._calculate_fan_in_and_fan_out(_fresh(shape)) == \
           torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init._calculate_fan_in_and_fan_out(_fresh((3,)))


@pytest.mark.parametrize("a,mode,nl", [(0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
                                       (0, "fan_out", "relu"), (0.1, "fan_in", "leaky_relu")])
def test_kaiming_uniform_bound(a, mode, nl):
    t = _fresh()
    assert nn.init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nl) is t and t.dtype == tg.float32
    fan = 800 if mode == "fan_in" else 1600
    bound = math.sqrt(3.0) * torch.nn.init.calculate_gain(nl, a) / math.sqrt(fan)  # torch's documented formula
    _check_uniform(t.numpy(), bound)
    ref = torch.nn.init.kaiming_uniform_(torch.empty(SHAPE), a=a, mode=mode, nonlinearity=nl).numpy()
    assert abs(ref.max() - t.numpy().max()) < 1e-3 * bound * 50 and abs(ref.std() - t.numpy().std()) < 0.02 * bound


@pytest.mark.parametrize("mode,nl", [("fan_in", "relu"), ("fan_out", "leaky_relu"), ("fan_in", "tanh")])
def test_kaiming_normal_std(mode, nl):
    t = nn.init.kaiming_normal_(_fresh(), mode=mode, nonlinearity=nl)
    fan = 800 if mode == "fan_in" else 1600
    _check_normal(t.numpy(), torch.nn.init.calculate_gain(nl) / math.sqrt(fan))


def test_xavier():
    g = 1.7
    t = nn.init.xavier_uniform_(_fresh(), gain=g)
    _check_uniform(t.numpy(), g * math.sqrt(6.0 / (800 + 1600)))
    t = nn.init.xavier_normal_(_fresh(), gain=g)
    _check_normal(t.numpy(), g * math.sqrt(2.0 / (800 + 1600)))


def test_uniform_normal_constant_ones_zeros():
    _check_uniform(nn.init.uniform_(_fresh(), -0.3, 0.3).numpy(), 0.3)
    x = nn.init.uniform_(_fresh(), 2.0, 5.0).numpy()
    assert x.min() >= 2.0 and x.max() <= 5.0 and abs(x.mean() - 3.5) < 0.02
    _check_normal(nn.init.normal_(_fresh(), 1.5, 0.2).numpy(), 0.2, 1.5)
    assert np.all(nn.init.constant_(_fresh((3, 2)), 0.25).numpy() == 0.25)
    assert np.all(nn.init.ones_(_fresh((3, 2))).numpy() == 1) and np.all(nn.init.zeros_(_fresh((3, 2))).numpy() == 0)
    assert np.array_equal(nn.init.eye_(_fresh((3, 4))).numpy(), torch.nn.init.eye_(torch.empty(3, 4)).numpy())
    assert np.array_equal(nn.init.dirac_(_fresh((4, 2, 3, 3)), groups=2).numpy(),
                          torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), groups=2).numpy())


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.2, 0.3, 0.6), (0.0, 1.0, 1.5, 4.0)])
def test_trunc_normal_moments(mean, std, a, b):
    x = nn.init.trunc_normal_(_fresh((200, 250), tg.float64), mean, std, a, b).numpy()
    assert x.min() >= a and x.max() <= b
    # moments of the truncated normal (closed form)
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    Z = cdf(beta) - cdf(alpha)
    m = mean + std * (pdf(alpha) - pdf(beta)) / Z
    var = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / Z - ((pdf(alpha) - pdf(beta)) / Z) ** 2)
    assert abs(x.mean() - m) < 6 * math.sqrt(var / x.size)
    assert abs(x.std() / math.sqrt(var) - 1) < 0.02


def test_orthogonal():
    w = nn.init.orthogonal_(_fresh((6, 10), tg.float64), gain=2.0).numpy()
    np.testing.assert_allclose(w @ w.T, 4 * np.eye(6), atol=1e-12)
    w = nn.init.orthogonal_(_fresh((10, 3, 2), tg.float64)).numpy().reshape(10, 6)
    np.testing.assert_allclose(w.T @ w, np.eye(6), atol=1e-12)


def test_init_is_in_place_and_recorded_nowhere():
    p = nn.Parameter(tg.zeros(4, 3))
    v = p._version
    nn.init.normal_(p)
    assert p.grad_fn is None and p.is_leaf and p._version == v + 1 and p.dtype == tg.float32


def test_seeded_and_generator_reproducible():
    tg.manual_seed(3)
    a = nn.Linear(5, 4)
    tg.manual_seed(3)
    b = nn.Linear(5, 4)
    assert np.array_equal(a.weight.numpy(force=True), b.weight.numpy(force=True))
    g1, g2 = tg.Generator().manual_seed(7), tg.Generator().manual_seed(7)
    x = nn.init.kaiming_uniform_(_fresh((5, 5)), generator=g1).numpy()
    y = nn.init.kaiming_uniform_(_fresh((5, 5)), generator=g2).numpy()
    assert np.array_equal(x, y)


@pytest.mark.parametrize("make,fan_in", [(lambda: nn.Linear(900, 300), 900),
                                         (lambda: nn.Conv2d(36, 64, 5), 36 * 25),
                                         (lambda: nn.Conv2d(36, 64, (3, 5), groups=4), 9 * 15)])
def test_default_layer_init_matches_torch_formula(make, fan_in):
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias U(+-1/sqrt(fan_in))."""
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    _check_uniform(layer.weight.numpy(force=True), bound)
    b = layer.bias.numpy(force=True)
    assert np.abs(b).max() <= bound and layer.weight.dtype == tg.float32 and b.dtype == np.float32
    assert np.abs(b).max() > 0.5 * bound


def test_layer_dtype_argument():
    assert nn.Linear(3, 2, dtype=tg.float64).weight.dtype == tg.float64
    assert nn.Conv2d(1, 2, 3, dtype=tg.float64).bias.dtype == tg.float64
    bn = nn.BatchNorm2d(3, dtype=tg.float64)
    assert bn.running_mean.dtype == tg.float64 and bn.num_batches_tracked.dtype == tg.int64
    with pytest.raises(RuntimeError, match="cuda"):
        nn.Linear(2, 2, device="cuda")
