"""tg.autograd.functional (vjp, jvp, jacobian, hessian, vhp, hvp) against torch.autograd.functional in float64."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")
R = np.random.default_rng(3)
A = R.standard_normal((3, 4))
B = R.standard_normal((4,))


def pair(*arrays):
    return ([tg.tensor(a, dtype=tg.float64) for a in arrays], [torch.tensor(a, dtype=torch.float64) for a in arrays])


def f_one(m):
    return lambda x: (x.sin() * x.exp()).sum(1) ** 2


def f_two(m):
    return lambda x, y: ((x * y).tanh() @ y, (x ** 3).sum(0) - y)


def f_scalar(m):
    return lambda x, y: ((x @ y).sigmoid() ** 2).sum() + (x * x * x).sum() * y.sum()


def close(a, b, tol=1e-10):
    if isinstance(a, tuple):  # ours is a tuple (of tuples), as torch documents; torch's forward mode gives lists
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for u, v in zip(a, b):
            close(u, v, tol)
        return
    a_np = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    np.testing.assert_allclose(a_np, b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp_match_torch(create_graph):
    (x,), (xt,) = pair(A)
    (v,), (vt,) = pair(R.standard_normal(3))
    close(tg.autograd.functional.vjp(f_one(tg), x, v, create_graph=create_graph),
          torch.autograd.functional.vjp(f_one(torch), xt, vt, create_graph=create_graph))
    (u,), (ut,) = pair(R.standard_normal((3, 4)))
    close(tg.autograd.functional.jvp(f_one(tg), x, u, create_graph=create_graph),
          torch.autograd.functional.jvp(f_one(torch), xt, ut, create_graph=create_graph))
    (x, y), (xt, yt) = pair(A, B)
    (v1, v2), (vt1, vt2) = pair(R.standard_normal(3), R.standard_normal(4))
    close(tg.autograd.functional.vjp(f_two(tg), (x, y), (v1, v2)),
          torch.autograd.functional.vjp(f_two(torch), (xt, yt), (vt1, vt2)))
    (u1, u2), (ut1, ut2) = pair(R.standard_normal((3, 4)), R.standard_normal(4))
    close(tg.autograd.functional.jvp(f_two(tg), (x, y), (u1, u2)),
          torch.autograd.functional.jvp(f_two(torch), (xt, yt), (ut1, ut2)))


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_matches_torch(strategy):
    (x, y), (xt, yt) = pair(A, B)
    kw = {"strategy": strategy, "vectorize": strategy == "forward-mode"}
    close(tg.autograd.functional.jacobian(f_one(tg), x, **kw), torch.autograd.functional.jacobian(f_one(torch), xt, **kw))
    close(tg.autograd.functional.jacobian(f_two(tg), (x, y), **kw),
          torch.autograd.functional.jacobian(f_two(torch), (xt, yt), **kw))
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        tg.autograd.functional.jacobian(f_one(tg), x, strategy="forward-mode")


def test_hessian_vhp_hvp_match_torch():
    (x, y), (xt, yt) = pair(A, B)
    close(tg.autograd.functional.hessian(f_scalar(tg), (x, y)), torch.autograd.functional.hessian(f_scalar(torch), (xt, yt)))
    one = lambda m: (lambda x: (x.sin() * x * x).sum())  # noqa: E731
    close(tg.autograd.functional.hessian(one(tg), x), torch.autograd.functional.hessian(one(torch), xt))
    (v1, v2), (vt1, vt2) = pair(R.standard_normal((3, 4)), R.standard_normal(4))
    for name in ("vhp", "hvp"):
        ours = getattr(tg.autograd.functional, name)(f_scalar(tg), (x, y), (v1, v2))
        theirs = getattr(torch.autograd.functional, name)(f_scalar(torch), (xt, yt), (vt1, vt2))
        close(ours, theirs)


def test_create_graph_results_differentiate_again():
    x = tg.tensor(A, dtype=tg.float64, requires_grad=True)
    xt = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    v = np.ones((3, 4))
    _, h = tg.autograd.functional.hvp(lambda a: (a ** 4).sum(), x, tg.tensor(v), create_graph=True)
    _, ht = torch.autograd.functional.hvp(lambda a: (a ** 4).sum(), xt, torch.tensor(v), create_graph=True)
    h.sum().backward()
    ht.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_strict_and_errors_as_torch():
    (x, y), _ = pair(A, B)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        tg.autograd.functional.vjp(lambda a, b: a * 2, (x, y), tg.ones(3, 4, dtype=tg.float64), strict=True)
    _, res = tg.autograd.functional.vjp(lambda a, b: a * 2, (x, y), tg.ones(3, 4, dtype=tg.float64))
    assert not res[1].numpy().any() and tuple(res[1].shape) == (4,)
    with pytest.raises(RuntimeError, match="single element"):
        tg.autograd.functional.vjp(lambda a: a * 2, x)
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        tg.autograd.functional.jacobian(lambda a: a, [1.0])
