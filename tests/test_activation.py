"""Activations against torch (float64): values and gradients for every option, torch's gradient at the kinks,
gradcheck, stability for large inputs, in-place variants, and float32 staying float32."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tg
from parity import check_parity

torch = pytest.importorskip("torch")
F = tg.nn.functional
seeds = st.integers(0, 2**31 - 1)

ACTIVATIONS = {
    "relu": lambda m, x: m.nn.functional.relu(x),
    "relu6": lambda m, x: m.nn.functional.relu6(x * 4),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x),
    "leaky_relu_0.2": lambda m, x: m.nn.functional.leaky_relu(x, negative_slope=0.2),
    "elu": lambda m, x: m.nn.functional.elu(x),
    "elu_alpha": lambda m, x: m.nn.functional.elu(x, alpha=0.5),
    "selu": lambda m, x: m.nn.functional.selu(x),
    "celu": lambda m, x: m.nn.functional.celu(x, alpha=2.0),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    "gelu_tanh": lambda m, x: m.nn.functional.gelu(x, approximate="tanh"),
    "sigmoid": lambda m, x: m.nn.functional.sigmoid(x),
    "tanh": lambda m, x: m.nn.functional.tanh(x),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "softplus_beta": lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=3.0),
    "silu": lambda m, x: m.nn.functional.silu(x),
    "mish": lambda m, x: m.nn.functional.mish(x),
    "hardtanh": lambda m, x: m.nn.functional.hardtanh(x),
    "hardtanh_range": lambda m, x: m.nn.functional.hardtanh(x, -0.5, 2.0),
    "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
}


@settings(max_examples=60)
@given(name=st.sampled_from(sorted(ACTIVATIONS)), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                                          max_side=4), seed=seeds)
def test_activation_matches_torch(name, shape, seed):
    x = np.asarray(np.random.default_rng(seed).standard_normal(shape) * 3)
    check_parity(ACTIVATIONS[name], [x], atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_gradient_at_kinks_and_edges_matches_torch(name):
    # the points where the piecewise definitions meet: torch picks a side, we must pick the same one
    x = np.array([0.0, 1.0, -1.0, 0.25, 1.5, -0.5, 2.0, 3.0, 6.0, 10.0, 1.5 * 4 / 4])
    check_parity(ACTIVATIONS[name], [x])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_large_inputs_stay_finite_and_match_torch(name):
    x = np.array([-800.0, -50.0, -20.5, 20.5, 50.0, 800.0])
    check_parity(ACTIVATIONS[name], [x], atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_gradcheck(name):
    x = tg.tensor(np.random.default_rng(1).standard_normal((2, 3)) * 2 + 0.05, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: ACTIVATIONS[name](tg, x), [x])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float32_stays_float32(name):
    x = tg.randn(3, 4, requires_grad=True)
    y = ACTIVATIONS[name](tg, x)
    y.sum().backward()
    assert y.dtype == tg.float32 and x.grad.dtype == tg.float32


INPLACE = {
    "relu": lambda m, x: m.nn.functional.relu(x, inplace=True),
    "relu_": lambda m, x: m.nn.functional.relu_(x),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x, 0.1, inplace=True),
    "elu": lambda m, x: m.nn.functional.elu(x, inplace=True),
    "hardtanh": lambda m, x: m.nn.functional.hardtanh(x, -0.5, 0.5, inplace=True),
    "relu6": lambda m, x: m.nn.functional.relu6(x, inplace=True),
    "silu": lambda m, x: m.nn.functional.silu(x, inplace=True),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_variants_overwrite_and_backprop_like_torch(name):
    x = np.random.default_rng(2).standard_normal((3, 4))

    def fn(m, x):
        y = x * 1.5  # a non-leaf, so in-place is allowed
        out = INPLACE[name](m, y)
        assert out is y  # the same tensor object comes back
        return out

    check_parity(fn, [x])


def test_inplace_on_leaf_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(tg.randn(3, requires_grad=True), inplace=True)


def test_argument_errors():
    with pytest.raises(RuntimeError, match="approximate argument must be either 'none' or 'tanh'"):
        F.gelu(tg.randn(3), approximate="fast")
    with pytest.raises(ValueError, match="min_val .* cannot be greater than max_val"):
        F.hardtanh(tg.randn(3), 2.0, 1.0)
    with pytest.raises(TypeError, match="relu\\(\\): argument 'input' must be Tensor"):
        F.relu(np.ones(3))
    with pytest.raises(RuntimeError, match="gelu: expected a floating-point input"):
        F.gelu(tg.tensor([1, 2]))
