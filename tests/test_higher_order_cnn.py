"""Second derivatives through a whole CNN, against torch 2.13 in float64: Hessian-vector products of a loss using
conv2d (stride/padding/dilation/groups), batch_norm (training), max/avg pooling, softplus/tanh/relu/leaky_relu and
cross_entropy with label_smoothing; a WGAN-GP critic step; a MAML inner step."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")
R = np.random.default_rng(5)


def params_np():
    return {
        "w1": R.standard_normal((4, 2, 3, 3)) * 0.4, "b1": R.standard_normal(4) * 0.1,
        "w2": R.standard_normal((6, 2, 3, 3)) * 0.4, "b2": R.standard_normal(6) * 0.1,  # groups=2
        "g": 1 + 0.1 * R.standard_normal(6), "beta": 0.1 * R.standard_normal(6),
        "w3": R.standard_normal((5, 24)) * 0.3, "b3": R.standard_normal(5) * 0.1,
    }


P = params_np()
X = R.standard_normal((3, 2, 10, 10))
Y = np.array([0, 3, 4])
V = {k: R.standard_normal(v.shape) for k, v in P.items()}


def cnn_loss(m, p, x, y):
    F = m.nn.functional
    h = F.conv2d(x, p["w1"], p["b1"], stride=1, padding=1)                       # (3, 4, 10, 10)
    h = F.softplus(h) + 0.1 * h.tanh()
    h = F.max_pool2d(h, 2)                                                       # (3, 4, 5, 5)
    h = F.conv2d(h, p["w2"], p["b2"], stride=2, padding=2, dilation=2, groups=2)  # (3, 6, 3, 3)
    h = F.batch_norm(h, None, None, p["g"], p["beta"], training=True)
    h = F.leaky_relu(h, 0.1) + 0.5 * F.relu(h)
    h = F.avg_pool2d(h, 2, stride=1)                                             # (3, 6, 2, 2)
    logits = F.linear(h.flatten(1), p["w3"], p["b3"])
    return F.cross_entropy(logits, y, label_smoothing=0.1)


def _tensors(m, arrays, requires_grad):
    dtype = tg.float64 if m is tg else torch.float64
    return {k: m.tensor(v, dtype=dtype, requires_grad=requires_grad) for k, v in arrays.items()}


def hvp(m):
    p = _tensors(m, P, True)
    x = m.tensor(X, dtype=tg.float64 if m is tg else torch.float64)
    y = m.tensor(Y)
    loss = cnn_loss(m, p, x, y)
    keys = list(p)
    gs = m.autograd.grad(loss, [p[k] for k in keys], create_graph=True)
    v = _tensors(m, V, False)
    hv = m.autograd.grad(gs, [p[k] for k in keys], [v[k] for k in keys])
    return loss.detach().numpy(), {k: g.detach().numpy() for k, g in zip(keys, gs)}, \
        {k: h.numpy() for k, h in zip(keys, hv)}


def test_cnn_loss_hessian_vector_product_matches_torch():
    (l1, g1, h1), (l2, g2, h2) = hvp(tg), hvp(torch)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    scale = max(np.abs(h).max() for h in h2.values())  # b2 (a bias before batch norm) has Hv = 0 up to rounding
    for k in P:
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-8, atol=1e-12, err_msg=f"gradient of {k}")
        np.testing.assert_allclose(h1[k], h2[k], rtol=1e-8, atol=1e-10 * scale, err_msg=f"Hv for {k}")


def _critic(m):
    nn = m.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.AvgPool2d(2),
                         nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8, 1))


def wgan_gp_step(m, state):
    critic = _critic(m).double()
    if m is tg:
        critic.load_state_dict({k: tg.tensor(v, dtype=tg.float64) for k, v in state.items()})
    else:
        critic.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    opt = m.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.0, 0.9))
    rng = np.random.default_rng(0)
    real = m.tensor(rng.standard_normal((4, 1, 8, 8)), dtype=tg.float64 if m is tg else torch.float64)
    fake = m.tensor(rng.standard_normal((4, 1, 8, 8)), dtype=real.dtype)
    alpha = m.tensor(rng.uniform(size=(4, 1, 1, 1)), dtype=real.dtype)
    for _ in range(2):
        opt.zero_grad()
        xhat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (gx,) = m.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
        gp = ((gx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + 10 * gp
        loss.backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in critic.state_dict().items()}, float(gp)


def test_wgan_gp_critic_step_matches_torch():
    state = {k: v.detach().double().numpy() for k, v in _critic(torch).state_dict().items()}
    ours, gp1 = wgan_gp_step(tg, state)
    theirs, gp2 = wgan_gp_step(torch, state)
    assert abs(gp1 - gp2) <= 1e-10 * max(1.0, abs(gp2))
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-8, atol=1e-10, err_msg=k)


def maml_step(m):
    """One MAML meta-gradient: adapt conv/linear weights with one inner SGD step (create_graph), evaluate on the
    query set, differentiate through the adaptation."""
    F = m.nn.functional
    dtype = tg.float64 if m is tg else torch.float64
    rng = np.random.default_rng(1)
    w = m.tensor(rng.standard_normal((3, 1, 3, 3)) * 0.5, dtype=dtype, requires_grad=True)
    b = m.tensor(np.zeros(3), dtype=dtype, requires_grad=True)
    u = m.tensor(rng.standard_normal((4, 12)) * 0.3, dtype=dtype, requires_grad=True)

    def net(x, w, b, u):
        h = F.max_pool2d(F.relu(F.conv2d(x, w, b)), 2)                 # (N, 3, 2, 2)
        return F.linear(h.flatten(1).tanh(), u)

    xs = m.tensor(rng.standard_normal((5, 1, 6, 6)), dtype=dtype)
    ys = m.tensor(rng.integers(0, 4, 5))
    xq = m.tensor(rng.standard_normal((5, 1, 6, 6)), dtype=dtype)
    yq = m.tensor(rng.integers(0, 4, 5))
    inner = F.cross_entropy(net(xs, w, b, u), ys)
    gw, gb, gu = m.autograd.grad(inner, (w, b, u), create_graph=True)
    w2, b2, u2 = w - 0.4 * gw, b - 0.4 * gb, u - 0.4 * gu
    outer = F.cross_entropy(net(xq, w2, b2, u2), yq)
    outer.backward()
    return [t.grad.numpy() for t in (w, b, u)]


def test_maml_inner_step_meta_gradient_matches_torch():
    for a, b in zip(maml_step(tg), maml_step(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
