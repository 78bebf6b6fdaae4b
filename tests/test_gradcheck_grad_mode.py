"""gradcheck runs func in the caller's grad mode, as torch does, so a func that differentiates inside (a gradient
penalty: the norm of an input gradient, as a function of the weights) can be checked."""
import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F


def test_gradcheck_of_a_function_that_calls_autograd_grad_inside():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((2, 1, 5, 5)), requires_grad=True)

    def penalty(w):
        (gx,) = tg.autograd.grad(F.conv2d(x, w).tanh().sum(), x, create_graph=True)
        return ((gx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()

    w = tg.tensor(rng.standard_normal((2, 1, 3, 3)), requires_grad=True)
    assert tg.autograd.gradcheck(penalty, (w,))
    assert tg.autograd.gradcheck(penalty, (w,), fast_mode=True)


def test_gradcheck_still_refuses_a_wrong_second_derivative():
    x = tg.tensor([0.3, -0.7, 1.1], dtype=tg.float64, requires_grad=True)

    def wrong(w):  # d/dw of sum(w * x^2)'s x-gradient (2 w x) is 2 x; detach() drops it
        (gx,) = tg.autograd.grad((w.detach() * x * x).sum() + (w * x).sum() * 0, x, create_graph=True)
        return gx.sum()

    w = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    assert not tg.autograd.gradcheck(wrong, (w,), raise_exception=False)
