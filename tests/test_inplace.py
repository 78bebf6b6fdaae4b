"""In-place ops follow torch's rules: refused on leaves that require grad (outside no_grad), version counters catch
saved tensors modified afterwards (naming the op and the shape), and gradients through in-place changes of
non-leaves - including changes made through views - equal torch's."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from core_helpers import basic_index, seeds, shapes
from parity import check_parity

torch = pytest.importorskip("torch")

X = np.array([[1.0, -2.0, 3.0], [-0.5, 0.25, 2.0]])


# --- leaves --------------------------------------------------------------------------------------------------
INPLACE_OPS = {
    "add_": lambda t: t.add_(1.0), "sub_": lambda t: t.sub_(1.0), "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0), "zero_": lambda t: t.zero_(), "fill_": lambda t: t.fill_(3.0),
    "clamp_": lambda t: t.clamp_(0.0, 1.0), "relu_": lambda t: t.relu_(), "pow_": lambda t: t.pow_(2),
    "normal_": lambda t: t.normal_(), "uniform_": lambda t: t.uniform_(),
    "setitem": lambda t: t.__setitem__(0, 5.0), "iadd": lambda t: t.__iadd__(1.0),
    "imul": lambda t: t.__imul__(2.0), "copy_": lambda t: t.copy_(tg.ones(3) if isinstance(t, tg.Tensor)
                                                                   else torch.ones(3)),
}


@pytest.mark.parametrize("name", list(INPLACE_OPS))
def test_inplace_on_leaf_requiring_grad_raises_like_torch(name):
    op = INPLACE_OPS[name]
    ours, theirs = tg.ones(2, 3, requires_grad=True), torch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        op(theirs)
    with pytest.raises(RuntimeError, match=r"a leaf Variable that requires grad \(shape \(2, 3\)\)"):
        op(ours)


@pytest.mark.parametrize("name", list(INPLACE_OPS))
def test_inplace_on_leaf_allowed_under_no_grad_and_matches_torch(name):
    op = INPLACE_OPS[name]
    ours, theirs = tg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    with tg.no_grad():
        assert op(ours) is (None if name == "setitem" else ours)
    with torch.no_grad():
        op(theirs)
    if name not in ("normal_", "uniform_"):  # random values differ between the libraries
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
    assert ours.is_leaf and ours.requires_grad and ours.grad_fn is None and ours._version == theirs._version


def test_inplace_on_leaf_not_requiring_grad_is_fine():
    t = tg.zeros(3)
    t.add_(2.0)
    t += 1
    t[1] = 7.0
    assert t.tolist() == [3.0, 7.0, 3.0] and t._version == 3 and t.grad_fn is None


def test_view_of_a_leaf_refuses_in_place_changes():
    x = tg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.reshape(6)[0] = 3.0
    with tg.no_grad():
        x[0].mul_(2)  # allowed, as in torch (initialisation code does this)
    assert x.tolist() == [[2.0] * 3, [1.0] * 3]


def test_view_made_in_no_grad_then_modified_with_grad_raises():
    y = tg.ones(2, 3, requires_grad=True) * 2
    with tg.no_grad():
        v = y[0]
    with pytest.raises(RuntimeError, match="no_grad mode"):
        v.mul_(2)


def test_expanded_tensor_refuses_writes():
    e = tg.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.add_(1)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(RuntimeError, match="read-only"):
        tg.from_numpy(frozen).mul_(2)


# --- saved tensors modified in place -------------------------------------------------------------------------
def test_modified_saved_output_raises_naming_op_and_shape():
    x = tg.ones(2, 3, requires_grad=True)
    y = (x * 1).exp()            # Exp saves its output y
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*ExpBackward0 \(shape \(2, 3\).*"
                                           r"version 1; expected version 0"):
        y.sum().backward()


def test_modified_saved_input_raises():
    x = tg.ones(4, requires_grad=True)
    h = x * 1
    z = h * h                    # Mul saves h
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"MulBackward0 \(shape \(4,\)"):
        z.sum().backward()
    th = torch.ones(4, requires_grad=True) * 1
    tz = th * th
    th.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tz.sum().backward()


def test_modified_through_a_view_or_detach_is_caught():
    x = tg.ones(2, 3, requires_grad=True)
    y = (x * 1).sigmoid()        # saves its output
    y[0].zero_()                 # a view shares the version counter
    with pytest.raises(RuntimeError, match="SigmoidBackward0"):
        y.sum().backward()
    y = (x * 1).tanh()
    with tg.no_grad():
        y.detach().add_(1)
    with pytest.raises(RuntimeError, match="TanhBackward0"):
        y.sum().backward()


def test_in_place_after_use_by_an_op_that_saves_nothing_is_fine():
    check_parity(lambda m, a: _add_then_mul(a), [X])


def _add_then_mul(a):
    h = a * 1
    out = h + 1                  # Add saves nothing: changing h later cannot corrupt its gradient
    h.mul_(3)
    return out * 2 + h


def test_custom_function_saved_tensor_modified():
    class Square(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    h = tg.ones(3, requires_grad=True) * 1
    out = Square.apply(h)
    h.mul_(2)
    with pytest.raises(RuntimeError, match=r"SquareBackward \(shape \(3,\)"):
        out.sum().backward()


# --- gradients through in-place changes of non-leaves --------------------------------------------------------
def _chain(m, a):
    y = a * 2
    y.add_(1)
    y.mul_(a)
    y.sub_(0.5, alpha=2)
    y.div_(3)
    y += a
    y *= 2
    y /= 1.5
    y -= a
    y.clamp_(-2.0, 2.0)          # ops that save their input or output come last (torch refuses otherwise)
    y.relu_()
    return y


CASES = {
    "chain": _chain,
    "zero_then_add": lambda m, a: (lambda y: (y.zero_(), y.add_(a * 3), y)[-1])(a * 2),
    "fill_": lambda m, a: (lambda y: (y.fill_(2.0), y * a)[-1])(a * 2),
    "copy_": lambda m, a: (lambda y: (y.copy_(a.exp()), y * a)[-1])(a * 2),
    "copy_broadcast": lambda m, a: (lambda y: (y.copy_(a[0].sin()), y * a)[-1])(a * 2),
    "setitem_scalar": lambda m, a: _setitem(a, (0, 1), 5.0),
    "setitem_tensor": lambda m, a: _setitem(a, (slice(None), 0), a[:, 2] * 3),
    "setitem_row_broadcast": lambda m, a: _setitem(a, 1, a[0].exp()),
    "setitem_mask": lambda m, a: _setitem(a, a > 0, 0.0),
    "setitem_int_array": lambda m, a: _setitem(a, (m.tensor([1, 0]), m.tensor([2, 1])), a[0, :2] * 10),
    "iadd_with_itself": lambda m, a: (lambda y: (y.__iadd__(y * 2), y)[-1])(a * 1),
    "view_mul_": lambda m, a: (lambda y: (y[1:].mul_(3), y * y)[-1])(a * 1),
    "view_of_view": lambda m, a: (lambda y: (y[:, 1:][0].mul_(a[1, :2]), y.exp())[-1])(a * 1),
    "reshape_view_add_": lambda m, a: (lambda y: (y.view(6)[::2].add_(a.reshape(6)[1::2]), y * 2)[-1])(a * 1),
    "transposed_view": lambda m, a: (lambda y: (y.t()[0].mul_(4), y.sum(0))[-1])(a * 1),
    "view_setitem": lambda m, a: (lambda y: (y[0].__setitem__(slice(1, None), a[1, 1:] ** 2), y)[-1])(a * 1),
    "sibling_view_sees_change": lambda m, a: (lambda y, v, w: (v.mul_(2), w * 1)[-1])(*_two_views(a)),
    "base_change_seen_by_view": lambda m, a: (lambda y, v, w: (y.mul_(a), v.sum() + w.sum())[-1])(*_two_views(a)),
    "pow_": lambda m, a: (lambda y: (y.pow_(2), y)[-1])(a * 1),
    "view_change_then_base_used": lambda m, a: (lambda y, v, w: (v.relu_(), y.tanh())[-1])(*_two_views(a)),
    "buffer_filled_from_grad_tensor": lambda m, a: _buffer(m, a),
    "normal_then_use": lambda m, a: (lambda y: (y.normal_(), y * 0 + a * 2)[-1])(a * 3),
    "rows_modified": lambda m, a: (lambda y: ([y[i].mul_(i + 2) for i in range(2)], y)[-1])(a * 1),
}


def _setitem(a, idx, value):
    y = a * 1
    y[idx] = value
    return y * a


def _two_views(a):
    y = a * 1
    return y, y[0], y[:, 1]


def _buffer(m, a):
    buf = m.zeros(2, 3, dtype=m.float64)
    buf[0].copy_(a[1] * 2)
    buf[1] = a[0].exp()
    return buf * 3


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_through_in_place_changes_match_torch(name):
    check_parity(CASES[name], [X])


def test_result_of_in_place_is_the_same_tensor_with_new_grad_fn():
    x = tg.tensor(X, requires_grad=True)
    y = x * 2
    before = y.grad_fn
    assert y.add_(1) is y and y.grad_fn is not before and y._version == 1
    assert y.grad_fn.name() == "AddBackward0"


def test_hooks_before_an_in_place_change_see_the_old_value_like_torch():
    seen = {}

    def record(key):
        def hook(g):
            seen[key] = g.numpy().copy()
        return hook

    for m in (tg, torch):
        x = m.tensor(X, requires_grad=True)
        y = x * 2
        y.register_hook(record((m.__name__, "before")))
        y.mul_(3)
        y.register_hook(record((m.__name__, "after")))
        (y * y).sum().backward()
    for when in ("before", "after"):
        np.testing.assert_allclose(seen[("tinygrad_cnn", when)], seen[("torch", when)])


def test_retain_grad_follows_the_tensor_through_in_place_changes():
    for m in (tg, torch):
        x = m.tensor(X, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        if m is tg:
            ours = y.grad.numpy()
        else:
            np.testing.assert_allclose(ours, y.grad.numpy())


def test_optimizer_style_update_under_no_grad():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with tg.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
    assert np.allclose(w.detach().numpy(), [0.8, 1.6]) and w.is_leaf and w.grad.tolist() == [0.0, 0.0]


@given(shape=shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_in_place_change_through_any_basic_view_matches_torch(shape, seed, data):
    transpose = data.draw(st.booleans()) and len(shape) > 1
    view_shape = (shape[-1], *shape[1:-1], shape[0]) if transpose else shape
    idx = data.draw(basic_index(view_shape))
    other = data.draw(basic_index(view_shape))
    x = np.random.default_rng(seed).standard_normal(shape)

    def fn(m, a):
        y = a * 1
        base = y.transpose(0, -1) if transpose else y
        keep = base[other]                 # a sibling view that must see the change
        v = base[idx]
        v.mul_(a.sum() * 0.5)              # scalar-broadcast update that depends on a
        v += 1.0
        return y.exp() + keep.sum()

    check_parity(fn, [x])
