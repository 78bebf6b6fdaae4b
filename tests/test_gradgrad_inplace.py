"""Higher-order derivatives through in-place ops (ops/inplace.py): an in-place change is recorded out of place and,
through a view, as IndexPut on the base (torch's CopySlices) with every live view re-reading the base (GetItem).
Second and third derivatives through those records must equal torch's (float64), and a node that saved a value
later changed in place must still refuse to differentiate, also under create_graph."""
import numpy as np
import pytest

import tinygrad_cnn as tg

from higher_order_torch import check_orders

torch = pytest.importorskip("torch")

R = np.random.default_rng(11)
X = R.standard_normal((3, 4))
V = R.standard_normal(4)


def _unary_on_view(m, x):
    y = x * 1
    y[1:].mul_(x[1:])          # in place through a basic view: CopySlices on y
    y[:, 0].exp_()             # an op that saves its output, through a strided view
    return y ** 2


def _view_of_transpose(m, x):
    b = x * 2
    v = b.t()
    v[0].sigmoid_()            # a view of a view: the change lands in b's history
    return b ** 3


def _live_views_reread(m, x):
    y = x * 1
    row = y[0]                 # a view taken before the change
    y.tanh_()                  # its base changes: row must read the new history
    return row ** 3 + y.sum() * row


def _setitem_value_with_grad(m, x, v):
    y = x.clone()
    y[1] = v * v               # the value's own graph enters through IndexPut
    y[:, 1:3] *= x[:, :2]      # augmented assignment on a view
    return y ** 2


def _chained_updates(m, x, v):
    y = x * x
    y.add_(v, alpha=0.5)
    y[0].div_(v.exp())
    y.clamp_(-0.9, 0.95)
    y.tanh_()                  # last: tanh saves its output y, and torch refuses a later change of y (below)
    return y * x


CASES = {
    "unary_on_view": (_unary_on_view, [X]),
    "view_of_transpose": (_view_of_transpose, [X]),
    "live_views_reread": (_live_views_reread, [X]),
    "setitem_value_with_grad": (_setitem_value_with_grad, [X, V]),
    "chained_updates": (_chained_updates, [X, V]),
}

GRADGRAD_CASES = [(name, lambda *a, f=f: f(tg, *a), [tg.tensor(x, requires_grad=True) for x in arrays])
                  for name, (f, arrays) in CASES.items()]


@pytest.mark.parametrize("name", list(CASES))
def test_third_derivatives_through_inplace_match_torch(name):
    fn, arrays = CASES[name]
    check_orders(fn, arrays, order=3)


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradgradcheck_inplace(case):
    name, fn, inputs = case
    assert tg.autograd.gradgradcheck(fn, inputs)


def test_a_value_changed_after_saving_refuses_under_create_graph_too():
    for m in (tg, torch):
        x = m.tensor(X, requires_grad=True)
        y = x * 1
        z = y.exp()            # saves its output z
        z.add_(1)              # ... which then changes
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            m.autograd.grad(z.sum(), x, create_graph=True)


@pytest.mark.parametrize("op", ["exp_", "tanh_", "sigmoid_", "relu_"])
def test_an_output_saved_by_an_inplace_op_then_changed_refuses_as_torch(op):
    """exp_ (and tanh_, sigmoid_, relu_) saves its result, which is the tensor itself: changing it again, directly
    or through a view, must make the backward refuse, in both libraries."""
    for m in (tg, torch):
        for change in (lambda y: y.add_(1), lambda y: y[0].mul_(2)):
            x = m.tensor(X, requires_grad=True)
            y = x * 1
            getattr(y, op)()
            change(y)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                m.autograd.grad(y.sum(), x, create_graph=True)
        y = m.tensor(X, requires_grad=True) * 1
        getattr(y, op)().sum().backward()  # unchanged afterwards: fine


def test_second_backward_through_grad_changed_in_place_sees_the_change():
    """A first-order gradient (with its graph) updated in place, then differentiated: as torch."""
    def run(m):
        x = m.tensor(X, requires_grad=True)
        (g,) = m.autograd.grad((x ** 3).sum(), x, create_graph=True)  # 3 x^2
        g.mul_(x)                                                      # 3 x^3, in place on the gradient
        (h,) = m.autograd.grad(g.sum(), x)
        return h.detach().numpy()

    np.testing.assert_allclose(run(tg), run(torch), rtol=1e-12)


# in-place ops, then a second in-place change of the same tensor: torch refuses exactly when the first op saved its
# result (exp_, sqrt_, tanh_, pow_ with a tensor exponent, elu_ ...), and both libraries must agree. (Not listed:
# leaky_relu_, whose result torch saves; tinygrad_cnn saves the sign mask instead and accepts the second change.)
INPLACE_OPS = {
    "add_": lambda m, y, w: y.add_(w), "sub_": lambda m, y, w: y.sub_(w, alpha=2), "mul_": lambda m, y, w: y.mul_(w),
    "div_": lambda m, y, w: y.div_(w), "pow_scalar": lambda m, y, w: y.pow_(2),
    "pow_tensor": lambda m, y, w: y.abs_().pow_(w), "clamp_": lambda m, y, w: y.clamp_(-1, 1),
    "relu_": lambda m, y, w: y.relu_(), "abs_": lambda m, y, w: y.abs_(), "neg_": lambda m, y, w: y.neg_(),
    "exp_": lambda m, y, w: y.exp_(), "log_": lambda m, y, w: y.abs_().log_(),
    "sqrt_": lambda m, y, w: y.abs_().sqrt_(), "sigmoid_": lambda m, y, w: y.sigmoid_(),
    "tanh_": lambda m, y, w: y.tanh_(), "masked_fill_": lambda m, y, w: y.masked_fill_(y.detach() > 1, 0.0),
    "elu": lambda m, y, w: m.nn.functional.elu(y, inplace=True),
    "selu": lambda m, y, w: m.nn.functional.selu(y, inplace=True),
    "celu": lambda m, y, w: m.nn.functional.celu(y, inplace=True),
    "hardtanh": lambda m, y, w: m.nn.functional.hardtanh(y, inplace=True),
    "silu": lambda m, y, w: m.nn.functional.silu(y, inplace=True),
    "relu6": lambda m, y, w: m.nn.functional.relu6(y, inplace=True),
}


def _twice_in_place(m, op):
    x = m.tensor(X[:2, :3], requires_grad=True)
    w = m.tensor(X[1:, 1:] + 3, requires_grad=True)
    y = x * 1
    INPLACE_OPS[op](m, y, w)
    y.mul_(2)
    try:
        (y * y).sum().backward()
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e)
        return "refused"
    return x.grad.numpy(), (None if w.grad is None else w.grad.numpy())


@pytest.mark.parametrize("op", list(INPLACE_OPS))
def test_a_second_inplace_change_is_refused_exactly_when_torch_refuses(op):
    ours, ref = _twice_in_place(tg, op), _twice_in_place(torch, op)
    if isinstance(ref, str) or isinstance(ours, str):
        assert ours == ref, f"{op}: tinygrad_cnn {ours if isinstance(ours, str) else 'computed'}, torch {ref}"
        return
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12)
    assert (ours[1] is None) == (ref[1] is None)
    if ref[1] is not None:
        np.testing.assert_allclose(ours[1], ref[1], rtol=1e-12)
