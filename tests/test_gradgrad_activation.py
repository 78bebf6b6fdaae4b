"""Higher-order derivatives of the activation primitives (ops/activation.py): gradgradcheck cases and second/third
derivatives vs torch 2.13 in float64, through create_graph."""
import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.nn import functional as F

from higher_order_torch import check_orders

R = np.random.default_rng(3)


def t(*shape, scale=1.5):
    """A float64 leaf requiring grad, away from 0 (the kink of the piecewise activations)."""
    a = R.standard_normal(shape) * scale
    a = np.where(np.abs(a) < 0.05, 0.3, a)
    return tg.tensor(a, dtype=tg.float64, requires_grad=True)


GRADGRAD_CASES = [
    ("erf", lambda a: a.erf(), [t(2, 3)]),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.2) ** 2, [t(2, 3)]),
    ("elu", lambda a: F.elu(a, 0.7), [t(2, 3)]),
    ("selu", lambda a: F.selu(a), [t(3, 2)]),
    ("celu", lambda a: F.celu(a, 1.3), [t(2, 3)]),
    ("gelu", lambda a: F.gelu(a), [t(2, 3)]),
    ("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), [t(2, 3)]),
    ("softplus", lambda a: F.softplus(a, beta=2.0, threshold=2.5), [t(2, 4)]),
    ("logsigmoid", lambda a: F.logsigmoid(a), [t(2, 3)]),
    ("silu", lambda a: F.silu(a), [t(2, 3)]),
    ("mish", lambda a: F.mish(a), [t(2, 3)]),
    ("hardtanh", lambda a: F.hardtanh(a, -0.8, 1.1) ** 3, [t(2, 3)]),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradgradcheck_activation(case):
    name, fn, inputs, *kwargs = case
    assert tg.autograd.gradgradcheck(fn, inputs, **(kwargs[0] if kwargs else {}))


X = np.array([[-2.5, -0.7, -0.1, 0.2], [0.9, 3.0, -25.0, 30.0]])  # both branches, and past softplus's threshold

TORCH_CASES = {
    "erf": lambda m, x: m.erf(x),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x * x * x, 0.1),
    "elu": lambda m, x: m.nn.functional.elu(x, 0.5),
    "selu": lambda m, x: m.nn.functional.selu(x),
    "celu": lambda m, x: m.nn.functional.celu(x, 2.0),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    # scaled: torch's own third derivative of the tanh form is nan at x = 30 (ours is the limit, 0)
    "gelu_tanh": lambda m, x: m.nn.functional.gelu(x * 0.2, approximate="tanh"),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "softplus_beta": lambda m, x: m.nn.functional.softplus(x, beta=0.5, threshold=1.0),
    "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
    "silu": lambda m, x: m.nn.functional.silu(x),
    "mish": lambda m, x: m.nn.functional.mish(x),
    "hardtanh": lambda m, x: m.nn.functional.hardtanh(x * x, -1.0, 2.0),
}


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_third_derivatives_match_torch(name):
    check_orders(TORCH_CASES[name], [X], order=3, atol=1e-8)


def test_float32_gradient_stays_float32_under_create_graph():
    x = tg.tensor(X.astype(np.float32), requires_grad=True)
    for f in (F.gelu, F.silu, F.elu, F.softplus, F.logsigmoid, tg.erf):
        (g,) = tg.autograd.grad(f(x).sum(), x, create_graph=True)
        (h,) = tg.autograd.grad(g.sum(), x)
        assert g.dtype == tg.float32 and h.dtype == tg.float32, f
