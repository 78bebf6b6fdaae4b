"""Pooling differentiated twice (and three times): gradgradcheck cases for every pooling primitive and its gradient
primitives (GRADGRAD_CASES, collected by test_gradgradcheck.py), and second derivatives vs torch 2.13 in float64
for every pooling kind and option."""
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from gradgrad_torch import check_grad2
from tinygrad_cnn.ops.pool_routes import IndexGather2d, IndexScatter2d, TapGather, TapScatter

gradgradcheck = tg.autograd.gradgradcheck


def _g(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return tg.tensor(rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + 0.05, dtype=tg.float64,
                     requires_grad=True)  # distinct positive values: no ties at the finite-difference scale


def _grad_of(f):
    """x -> d sum(f(x)^2) / dx, recorded: its gradgradcheck is a third-derivative check of f, and its backward
    differentiates f's gradient primitives (scatter -> gather, AvgPool2dAdjoint -> AvgPool2d)."""
    def grad(x):
        with tg.enable_grad():  # gradgradcheck evaluates outputs under no_grad
            return tg.autograd.grad((f(x) ** 2).sum(), x, create_graph=True)[0]

    return grad


def _stochastic(x):
    return F.stochastic_pool2d(x, 2, generator=tg.Generator().manual_seed(3))  # the same sample every call


def _vjp(f, x0):
    """u -> the gradient of f at x0 for the upstream gradient u: the pool's gradient primitive as a function."""
    def vjp(u):
        with tg.enable_grad():
            return tg.autograd.grad(f(x0), x0, u, create_graph=True)[0]

    return vjp


# the gradient primitives on their own: taps in [-1, 8] of 3x3 windows, stride 2, padding 1 (cells in the padding
# and -1 go nowhere); flat indices that repeat (adaptive windows overlap)
_TAPS = np.random.default_rng(4).integers(-1, 9, (2, 2, 3, 3)).astype(np.int8)
_GEOM = ((2, 2, 5, 5), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), (3, 3))
_FLAT = np.random.default_rng(5).integers(0, 20, (2, 2, 3, 3))

GRADGRAD_CASES = [
    ("TapScatter", lambda g: TapScatter.apply(g, _TAPS, _GEOM), (_g(2, 2, 3, 3),)),
    ("TapGather", lambda x: TapGather.apply(x, _TAPS, _GEOM), (_g(2, 2, 5, 5),)),
    ("IndexScatter2d", lambda g: IndexScatter2d.apply(g, _FLAT, (2, 2, 4, 5)), (_g(2, 2, 3, 3),)),
    ("IndexGather2d", lambda x: IndexGather2d.apply(x, _FLAT), (_g(2, 2, 4, 5),)),
    ("AvgPool2dAdjoint", _vjp(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                              _g(1, 2, 6, 5)), (_g(1, 2, 4, 3),)),
    ("max_pool2d dilated ceil", lambda x: F.max_pool2d(x, 2, 1, 1, dilation=(1, 2), ceil_mode=True), (_g(1, 2, 5, 5),)),
    ("max_pool2d 3rd order", _grad_of(lambda x: F.max_pool2d(x, 3, 2, 1)), (_g(1, 2, 5, 5),)),
    ("max_pool2d indices", lambda x: F.max_pool2d(x, 2, return_indices=True)[0], (_g(2, 1, 4, 4),)),
    ("avg_pool2d ceil no pad count", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     (_g(1, 2, 5, 5),)),
    ("avg_pool2d divisor_override", lambda x: F.avg_pool2d(x, 2, divisor_override=3), (_g(1, 2, 5, 5),)),
    ("avg_pool2d 3rd order", _grad_of(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)), (_g(1, 2, 5, 5),)),
    ("avg_pool2d tiled 3rd order", _grad_of(lambda x: F.avg_pool2d(x, 2)), (_g(1, 2, 5, 4),)),
    ("lp_pool2d p=3", lambda x: F.lp_pool2d(x, 3, 2, 1), (_g(1, 2, 5, 5),)),
    ("adaptive_avg_pool2d dividing", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), (_g(1, 2, 4, 6),)),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 4)), (_g(1, 2, 5, 5),)),
    ("adaptive_max_pool2d 3rd order", _grad_of(lambda x: F.adaptive_max_pool2d(x, (3, 2))), (_g(1, 2, 5, 5),)),
    ("stochastic_pool2d train", _stochastic, (_g(2, 2, 4, 6),)),
    ("stochastic_pool2d train 3rd order", _grad_of(_stochastic), (_g(1, 2, 4, 4),)),
    ("stochastic_pool2d eval", lambda x: F.stochastic_pool2d(x, 2, 1, training=False), (_g(1, 2, 5, 5),)),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_pool_gradgradcheck(case):
    name, fn, inputs, *kwargs = case
    assert gradgradcheck(fn, inputs, **(kwargs[0] if kwargs else {}))


def _x(*shape, seed=1):
    """Distinct values of both signs (no ties), float64."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - np.prod(shape) / 3) / 9.0


@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, ceil_mode=True),
])
def test_max_pool2d_second_derivatives_match_torch(kw):
    check_grad2(lambda m, x: m.nn.functional.max_pool2d(x, **kw), [_x(2, 3, 7, 6)])
    check_grad2(lambda m, x: m.nn.functional.max_pool2d(x, **kw, return_indices=True)[0] ** 2, [_x(1, 2, 7, 6)])


@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(2, 1), divisor_override=4),
])
def test_avg_pool2d_second_derivatives_match_torch(kw):
    # squared so the first derivative depends on x: d2 of (avg)^2 goes through AvgPool2dAdjoint's backward
    check_grad2(lambda m, x: m.nn.functional.avg_pool2d(x, **kw) ** 2, [_x(2, 3, 7, 6)])


@pytest.mark.parametrize("norm_type, kernel, stride, ceil", [(2, 2, None, False), (3, 3, 2, True), (1.5, 2, 1, False)])
def test_lp_pool2d_second_derivatives_match_torch(norm_type, kernel, stride, ceil):
    x = np.abs(_x(2, 2, 6, 7)) + 0.5  # positive: torch's x^p with fractional p is nan for x < 0
    check_grad2(lambda m, x: m.nn.functional.lp_pool2d(x, norm_type, kernel, stride, ceil), [x], atol=1e-8)


@pytest.mark.parametrize("out", [(3, 2), (1, 1), (4, 7), (None, 3)])
def test_adaptive_pools_second_derivatives_match_torch(out):
    x = _x(2, 2, 8, 7)
    check_grad2(lambda m, x: m.nn.functional.adaptive_max_pool2d(x, out) ** 2, [x])
    check_grad2(lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, out) ** 2, [x])


def test_stochastic_pool2d_second_derivatives_are_exact():
    """No torch twin: training is the gather of the sampled elements (so the Hessian of sum(out^2) is 2 at each
    sampled cell), eval is sum(a^2) / sum(a), a = relu(x), whose Hessian is checked by gradgradcheck."""
    x = tg.tensor(np.abs(_x(1, 2, 4, 4)) + 0.1, requires_grad=True)
    y = _stochastic(x)
    (gx,) = tg.autograd.grad((y ** 2).sum(), x, create_graph=True)
    (hv,) = tg.autograd.grad(gx.sum(), x)
    picked = gx.detach().numpy() != 0
    assert picked.sum() == y.numel()  # one cell per window holds the gradient 2 * out
    np.testing.assert_allclose(hv.numpy(), 2.0 * picked)
    assert gradgradcheck(lambda x: F.stochastic_pool2d(x, 3, 1, training=False) ** 2, (_g(1, 1, 5, 5),))


def test_first_order_pool_gradients_stay_numpy_and_float32():
    """The default backward runs on arrays: float32 stays float32 and nothing is recorded."""
    x = tg.randn(2, 3, 8, 8, requires_grad=True)
    for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 2, 1), F.adaptive_max_pool2d(x, 3),
              F.stochastic_pool2d(x, 2)):
        (g,) = tg.autograd.grad(y.sum(), x)
        assert g.dtype == tg.float32 and g.grad_fn is None and not g.requires_grad


def test_pool1d_and_unbatched_second_derivatives_match_torch():
    x1, x3 = _x(2, 3, 9), _x(3, 6, 5)
    f = lambda m: m.nn.functional  # noqa: E731
    check_grad2(lambda m, x: f(m).max_pool1d(x, 3, 2, 1) ** 2, [x1])
    check_grad2(lambda m, x: f(m).avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2, [x1])
    check_grad2(lambda m, x: f(m).max_pool2d(x, 2, 1) ** 2, [x3])
    check_grad2(lambda m, x: f(m).adaptive_max_pool2d(x, (4, 3), return_indices=True)[0] ** 2, [x3])
    check_grad2(lambda m, x: f(m).interpolate(x, size=4, mode="area") ** 2, [x1])
