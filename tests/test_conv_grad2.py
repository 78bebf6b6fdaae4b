"""Convolution derivatives of every order: each conv primitive's backward is made of conv primitives.

- gradcheck of each primitive on its own (Conv2d, ConvTranspose2d with asymmetric pads and a cropped window count,
  Conv2dWeight with and without its column cache);
- second derivatives vs torch 2.13 in float64 (autograd.grad with create_graph=True, then grad again) for random
  stride / padding / dilation / groups / output_padding;
- tg.autograd.gradgradcheck for every conv primitive.
"""
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.ops import _conv_im2col as im2col
from tinygrad_cnn.ops.conv import Conv2d, Conv2dWeight, ConvTranspose2d

try:
    import torch
except ImportError:  # only the torch comparisons skip; the gradgradcheck table needs no torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


def _leaf(rng, *shape):
    return tg.tensor(rng.standard_normal(shape), dtype=tg.float64, requires_grad=True)


def _random_case(seed: int) -> dict:
    """Small random conv2d geometry (float64 arrays); stride/pads/dilation/groups all drawn."""
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(1, 3))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    stride = tuple(int(v) for v in rng.integers(1, 3, 2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
    padding = tuple(int(v) for v in rng.integers(0, 3, 2))
    hw = tuple(dilation[a] * (k[a] - 1) + 1 + int(rng.integers(0, 4)) for a in (0, 1))
    return dict(rng=rng, n=int(rng.integers(1, 3)), cin=cin, cout=cout, k=k, hw=hw, groups=groups,
                kw=dict(stride=stride, padding=padding, dilation=dilation, groups=groups))


# --- each primitive's first derivative (gradcheck calls the primitive directly) --------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_gradcheck_each_conv_primitive(seed):
    c = _random_case(seed)
    rng, kw = c["rng"], c["kw"]
    x, w = _leaf(rng, c["n"], c["cin"], *c["hw"]), _leaf(rng, c["cout"], c["cin"] // c["groups"], *c["k"])
    pads = (kw["padding"][0], kw["padding"][0] + 1, kw["padding"][1], kw["padding"][1])  # asymmetric
    geo = (kw["stride"], pads, kw["dilation"], c["groups"])
    y = Conv2d.apply(x, w, None, *geo)
    g = _leaf(rng, *y.shape)
    assert tg.autograd.gradcheck(lambda x, w: Conv2d.apply(x, w, None, *geo), (x, w))
    assert tg.autograd.gradcheck(lambda g, w: ConvTranspose2d.apply(g, w, None, *geo, tuple(x.shape[2:])), (g, w))
    assert tg.autograd.gradcheck(lambda x, g: Conv2dWeight.apply(x, g, c["k"], *geo), (x, g))
    # the column cache must give the same weight gradient as recomputing the columns
    cols = im2col.columns(x.detach().numpy(), c["k"], kw["stride"], pads, kw["dilation"], c["groups"],
                          tuple(y.shape[2:]))
    np.testing.assert_allclose(Conv2dWeight.apply(x, g, c["k"], *geo, ("im2col", cols)).detach().numpy(),
                               Conv2dWeight.apply(x, g, c["k"], *geo).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose_first_windows_only():
    # Conv2d's input gradient when the stride leaves the last rows/columns uncovered (they get zero gradient)
    rng = np.random.default_rng(7)
    x, w = _leaf(rng, 1, 2, 7, 8), _leaf(rng, 3, 2, 2, 3)
    y = F.conv2d(x, w, stride=3)
    y.backward(tg.ones(*y.shape, dtype=tg.float64))
    assert np.all(x.grad.numpy()[:, :, 6, :] == 0) and np.all(x.grad.numpy()[:, :, :, 7] == 0)


# --- second derivatives vs torch ------------------------------------------------------------------------------


def _double_grads(lib, fn, arrays, v, u):
    """d/d(inputs, v) of <u, d<v, fn(inputs)>/d inputs>: every second derivative of fn contracted."""
    ins = [lib.tensor(a, requires_grad=True) for a in arrays]
    vt = lib.tensor(v, requires_grad=True)
    out = fn(lib, *ins)
    grads = lib.autograd.grad(out, ins, grad_outputs=vt, create_graph=True)
    total = sum((g * lib.tensor(ui)).sum() for g, ui in zip(grads, u))
    second = lib.autograd.grad(total, ins + [vt], allow_unused=True)
    return [np.zeros_like(a) if s is None else s.detach().numpy() for s, a in zip(second, arrays + [v])]


def _compare_second_order(fn, arrays, seed):
    rng = np.random.default_rng(seed)
    with tg.no_grad():
        shape = fn(tg, *[tg.tensor(a) for a in arrays]).shape
    v = rng.standard_normal(tuple(shape))
    u = [rng.standard_normal(a.shape) for a in arrays]
    ours, theirs = _double_grads(tg, fn, arrays, v, u), _double_grads(torch, fn, arrays, v, u)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=f"second derivative wrt input {i}")


@needs_torch
@pytest.mark.parametrize("seed", range(8))
def test_conv2d_second_derivatives_match_torch(seed):
    c = _random_case(seed)
    rng, kw = c["rng"], c["kw"]
    arrays = [rng.standard_normal((c["n"], c["cin"], *c["hw"])),
              rng.standard_normal((c["cout"], c["cin"] // c["groups"], *c["k"])), rng.standard_normal(c["cout"])]
    # tanh makes the function non-linear in the conv's output, so every second-order path is exercised
    _compare_second_order(lambda m, x, w, b: m.tanh(m.nn.functional.conv2d(x, w, b, **kw)), arrays, seed)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("k,dilation", [((2, 3), 1), ((4, 1), 2)])
def test_conv2d_same_padding_second_derivatives_match_torch(k, dilation):
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, *k))]
    _compare_second_order(lambda m, x, w: m.tanh(m.nn.functional.conv2d(x, w, padding="same", dilation=dilation)),
                          arrays, 3)


@needs_torch
@pytest.mark.parametrize("seed", range(6))
def test_conv_transpose2d_second_derivatives_match_torch(seed):
    c = _random_case(100 + seed)
    rng, kw = c["rng"], dict(c["kw"])
    s, d = kw["stride"], kw["dilation"]
    kw["output_padding"] = tuple(int(rng.integers(0, max(s[a], d[a]))) for a in (0, 1))
    kw["padding"] = tuple(min(kw["padding"][a], ((c["hw"][a] - 1) * s[a] + d[a] * (c["k"][a] - 1)) // 2)
                          for a in (0, 1))  # the transposed output keeps at least one cell
    arrays = [rng.standard_normal((c["n"], c["cin"], *c["hw"])),
              rng.standard_normal((c["cin"], c["cout"] // c["groups"], *c["k"])), rng.standard_normal(c["cout"])]
    fn = lambda m, x, w, b: m.tanh(m.nn.functional.conv_transpose2d(x, w, b, **kw))  # noqa: E731
    _compare_second_order(fn, arrays, seed)


@needs_torch
def test_conv1d_second_derivatives_match_torch():
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, 3))]
    _compare_second_order(lambda m, x, w: m.tanh(m.nn.functional.conv1d(x, w, stride=2, padding=1, dilation=2,
                                                                        groups=2)), arrays, 1)


@needs_torch
def test_third_derivative_of_conv_weight_gradient_chain():
    # d^3/dx^3 of sum(conv(x, w)^3) along directions: finite difference of the second derivative (float64)
    rng = np.random.default_rng(9)
    x0, w = rng.standard_normal((1, 2, 5, 5)), tg.tensor(rng.standard_normal((2, 2, 3, 3)))
    dx = rng.standard_normal(x0.shape)

    def hvp(xa):
        x = tg.tensor(xa, requires_grad=True)
        (gx,) = tg.autograd.grad((F.conv2d(x, w, padding=1) ** 3).sum(), x, create_graph=True)
        (hx,) = tg.autograd.grad((gx * tg.tensor(dx)).sum(), x, create_graph=True)
        return x, hx

    x, hx = hvp(x0)
    (third,) = tg.autograd.grad((hx * tg.tensor(dx)).sum(), x)
    eps = 1e-5
    numeric = ((hvp(x0 + eps * dx)[1] - hvp(x0 - eps * dx)[1]).detach().numpy() * dx).sum() / (2 * eps)
    np.testing.assert_allclose((third.numpy() * dx).sum(), numeric, rtol=1e-6)


# --- gradgradcheck of every conv primitive (also read by test_gradgradcheck's coverage test) -----------------
def _gradgrad_cases() -> list:
    rng = np.random.default_rng(21)
    cases = []
    for name, stride, pads, dilation, groups in [("plain", (1, 1), (1, 1, 0, 0), (1, 1), 1),
                                                 ("strided_asym", (2, 1), (1, 0, 0, 2), (1, 2), 2)]:
        x, w, b = _leaf(rng, 2, 2, 5, 6), _leaf(rng, 4, 2 // groups, 3, 2), _leaf(rng, 4)
        geo = (stride, pads, dilation, groups)
        with tg.no_grad():
            g = _leaf(rng, *Conv2d.apply(x, w, None, *geo).shape)
        wt, bt = _leaf(rng, g.shape[1], 2 // groups, 3, 2), _leaf(rng, 2)  # transposed: 4 -> 2 channels
        image = tuple(x.shape[2:])
        cases += [
            (f"conv2d_{name}", lambda x, w, b, geo=geo: Conv2d.apply(x, w, b, *geo), [x, w, b]),
            (f"conv_transpose2d_{name}", lambda g, w, b, geo=geo, image=image:
             ConvTranspose2d.apply(g, w, b, *geo, image), [g, wt, bt]),
            (f"conv2d_weight_{name}", lambda x, g, geo=geo: Conv2dWeight.apply(x, g, (3, 2), *geo), [x, g]),
        ]
    x, w = _leaf(rng, 2, 4, 7), _leaf(rng, 2, 2, 3)
    cases.append(("conv1d", lambda x, w: F.conv1d(x, w, stride=2, padding=1, groups=2), [x, w]))
    return cases


GRADGRAD_CASES = _gradgrad_cases()


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradgradcheck_every_conv_primitive(case):
    name, fn, inputs = case
    assert tg.autograd.gradgradcheck(fn, inputs)
