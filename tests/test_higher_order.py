"""Higher-order gradients: n-th derivatives vs torch, and hooks / retain_grad / anomaly mode / no_grad / version
checks / custom Functions / check_graph(order=2) / draw_graph when the backward itself is recorded."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")
R = np.random.default_rng(11)
XA = R.standard_normal((3, 4))
YA = R.uniform(0.5, 1.5, (4,))


def pair(a, m):
    dtype = tg.float64 if m is tg else torch.float64
    return m.tensor(a, dtype=dtype, requires_grad=True)


def chain(m, x, y):
    """An elementwise chain touching every elementwise/selection primitive kind."""
    a = (x * y).exp() / (1 + x * x) + (x - y) ** 3 - x.sin() * y.cos()
    b = (x.abs() + 0.1).log() * y.sqrt() + m.maximum(x, y * 0.5).tanh() + x.sigmoid() * x.relu()
    c = m.where(x > 0, a, b).clamp(-3.0, 3.0) + (2.0 ** x) * y.reshape(1, 4).expand(3, 4).permute(1, 0).T
    return (c * c).sum() + c.mean(0).sum()


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_nth_derivatives_of_an_elementwise_chain_match_torch(order):
    results = []
    for m in (tg, torch):
        x, y = pair(XA, m), pair(YA, m)
        g = chain(m, x, y)
        for k in range(order):  # d^k/dx^k of the summed (k-1)-th derivative, with respect to x then y alternately
            wrt = x if k % 2 == 0 else y
            (g,) = m.autograd.grad(g.sum() if k else g, wrt, create_graph=True)
        (gy,) = m.autograd.grad(g.sum(), y, allow_unused=True)
        results.append((g.detach().numpy(), None if gy is None else gy.numpy()))
    (a, ay), (b, by) = results
    np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)
    if ay is None or by is None:
        assert ay is None and by is None
    else:
        np.testing.assert_allclose(ay, by, rtol=1e-8, atol=1e-8)


def test_gradient_penalty_style_backward_accumulates_like_torch():
    out = []
    for m in (tg, torch):
        x, y = pair(XA, m), pair(YA, m)
        loss = ((x * y).tanh() ** 2).sum()
        loss.backward(create_graph=True)
        assert x.grad.requires_grad and x.grad.grad_fn is not None
        penalty = ((x.grad * x.grad).sum() - 1) ** 2
        x.grad = None  # as WGAN-GP code does: keep only the penalty's gradient for x
        penalty.backward()
        out.append((x.grad.numpy(), y.grad.detach().numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_tensor_hooks_and_retain_grad_see_the_recorded_gradient():
    out = []
    for m in (tg, torch):
        x = pair(XA, m)
        h = x * x
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(g.requires_grad) or g * 2)
        (gx,) = m.autograd.grad((h ** 3).sum(), x, create_graph=True)
        (gxx,) = m.autograd.grad(gx.sum(), x)
        out.append((gx.detach().numpy(), gxx.numpy(), seen[0]))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-10)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-10)
    assert out[0][2] == out[1][2] is True


def test_retained_non_leaf_grad_has_a_graph_under_create_graph():
    for m in (tg, torch):
        x = pair(XA, m)
        h = x.exp()
        h.retain_grad()
        (h * h).sum().backward(create_graph=True)
        assert h.grad.requires_grad
        (h2,) = m.autograd.grad(h.grad.sum(), x)
        np.testing.assert_allclose(h2.numpy(), 2 * np.exp(XA), rtol=1e-12)


def test_create_graph_records_even_under_no_grad_and_plain_backward_records_nothing():
    x = pair(XA, tg)
    y = (x ** 3).sum()
    with tg.no_grad():
        (g,) = tg.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad  # as torch: the engine's grad mode is create_graph
    (g1,) = tg.autograd.grad((x ** 3).sum(), x)
    assert not g1.requires_grad and g1.grad_fn is None


def test_version_check_still_guards_the_second_backward():
    for m in (tg, torch):
        x = pair(XA, m)
        w = m.tensor(YA, dtype=x.dtype, requires_grad=True)
        (g,) = m.autograd.grad((x * w).sin().sum(), w, create_graph=True)
        with m.no_grad():
            x.mul_(2)  # x was saved (by Mul and by the backward's own nodes)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            g.sum().backward()


def test_anomaly_mode_names_the_double_backward_node_that_made_nan():
    x = tg.tensor([0.0, 1.0], dtype=tg.float64, requires_grad=True)
    with tg.autograd.detect_anomaly():
        (g,) = tg.autograd.grad((x ** 1.5).sum(), x, create_graph=True)  # 1.5 x^0.5: finite at 0
        assert np.isfinite(g.detach().numpy()).all()
        with pytest.raises(RuntimeError, match="anomaly mode.*PowBackward0.*(nan|inf)"):  # 0.75 x^-0.5: inf
            g.sum().backward()


def test_custom_function_backward_is_recorded_and_once_differentiable_refuses():
    from planted_cubes import Cube, OnceCube as CubeOnce

    x = pair(XA, tg)
    (g,) = tg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * XA, rtol=1e-12)
    assert tg.autograd.gradgradcheck(Cube.apply, (x,))
    (g1,) = tg.autograd.grad(CubeOnce.apply(x).sum(), x)  # first order still works
    np.testing.assert_allclose(g1.numpy(), 3 * XA ** 2, rtol=1e-12)
    (g2,) = tg.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g2.sum().backward()


def test_check_graph_order_2_names_a_wrong_double_backward():
    from planted_cubes import LeakyCube

    lin = tg.nn.Linear(4, 3).double()
    x = tg.tensor(XA, dtype=tg.float64)

    def loss():
        return (LeakyCube.apply(lin(x).tanh()) + lin(x).sigmoid()).sum()

    assert tg.autograd.check_graph(loss).passed  # first order: all right
    report = tg.autograd.check_graph(loss, order=2)
    assert not report.passed
    assert [r.op for r in report.failures] == ["LeakyCubeBackward"]
    clean = tg.autograd.check_graph(lambda: (lin(x).tanh() * lin(x).sigmoid()).sum(), order=2)
    assert clean.passed and {r.verdict for r in clean.rows} <= {"ok", "skipped"}
    with pytest.raises(ValueError, match="order"):
        tg.autograd.check_graph(loss, order=3)


def test_draw_graph_shows_the_backward_nodes_of_a_double_backward():
    x = pair(XA, tg)
    (g,) = tg.autograd.grad((x.sin() * x).sum(), x, create_graph=True)
    src = tg.viz.draw_graph(g).source
    # d/dx (x sin x) = sin x + x cos x: the backward's own Cos and Mul nodes are in the graph of g
    assert "CosBackward0" in src and "MulBackward0" in src and "SinBackward0" in src


def test_check_graph_that_checked_nothing_does_not_pass():
    x = tg.tensor(XA, dtype=tg.float64, requires_grad=True)
    report = tg.autograd.check_graph(lambda: (x.relu() * x).sum())
    assert report.passed and report.checked == len(report.rows) == 3
    for r in report.rows:  # as if every node had been skipped (not recorded, sampled forward, ...)
        r.skip("not checked")
    assert report.checked == 0 and not report.passed
    assert "nothing was checked" in report.summary()
