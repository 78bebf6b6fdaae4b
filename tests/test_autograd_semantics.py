"""Autograd semantics as torch: backward(gradient, retain_graph), accumulation, freed graphs, iterative traversal,
release of saved arrays, grad modes, retain_grad, hooks, custom Functions (incl. multi-output), autograd.grad."""
import gc
import sys
import weakref

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def both(fn):
    """fn(m) for m = tinygrad_cnn and torch, results as numpy (None stays None)."""
    out = []
    for m in (tg, torch):
        res = fn(m)
        res = res if isinstance(res, (tuple, list)) else (res,)
        out.append([None if r is None else np.asarray(r.detach().numpy() if hasattr(r, "detach") else r)
                    for r in res])
    for a, b in zip(*out):
        if a is None or b is None:
            assert a is None and b is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    return out[0]


X = [[1.0, -2.0, 3.0], [0.5, 0.25, -1.5]]


# --- backward ------------------------------------------------------------------------------------------------
def test_non_scalar_backward_needs_gradient():
    for m in (tg, torch):
        y = m.tensor(X, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            y.backward()


def test_backward_with_gradient_argument():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        (x.exp() * x).backward(gradient=m.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]]))
        return x.grad
    both(run)


def test_backward_gradient_of_wrong_shape_raises():
    y = tg.tensor(X, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\(3,\).*\(2, 3\)"):
        y.backward(tg.ones(3))


def test_one_element_non_scalar_backward_is_allowed():
    both(lambda m: (lambda x: ((x * 3).backward(), x.grad)[1])(m.tensor([2.0], requires_grad=True)))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.ones(2).sum().backward()


def test_leaf_grads_accumulate_across_backward_calls():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        (x * x).sum().backward()
        (x.exp()).sum().backward()
        g2 = x.grad.clone()
        x.grad = None
        (x * 3).sum().backward()
        return g2, x.grad
    both(run)


def test_grad_accumulates_in_place_into_the_existing_grad_tensor():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        (x * x).sum().backward()
        kept = x.grad  # torch adds later gradients into this same tensor
        (x * 3).sum().backward()
        assert x.grad is kept
        x.grad = m.zeros(2, 3)  # a user-assigned grad is accumulated into as well
        assigned = x.grad
        x.sum().backward()
        assert x.grad is assigned
        return kept, assigned
    both(run)


def test_grad_accumulates_within_one_backward_over_shared_uses():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        a = x * 2
        b = a.exp() + a * a + a.sin()      # a feeds three branches: a diamond
        (b * x).sum().backward()
        return x.grad
    both(run)


def test_second_backward_through_freed_graph_raises_mentioning_retain_graph():
    x = tg.tensor(X, requires_grad=True)
    y = (x * x).exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        tg.autograd.grad(y, x)


def test_retain_graph_allows_a_second_backward():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = (x * x).exp().sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    both(run)


def test_graphs_with_nothing_saved_can_be_replayed_like_torch():
    both(lambda m: (lambda x: ((x + 1).sum().backward(), (x + 1).sum().backward(), x.grad)[2])(
        m.tensor(X, requires_grad=True)))


def test_backward_of_100000_op_chain_is_iterative():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # far below the chain length: any recursion over the graph would fail
    try:
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y * 1.0
        y.sum().backward()
        assert x.grad.tolist() == [1.0, 1.0]
        g, = tg.autograd.grad((x * 2).sum(), x)
        assert g.tolist() == [2.0, 2.0]
    finally:
        sys.setrecursionlimit(limit)
    del y
    gc.collect()  # freeing the long chain must not recurse either


def _saved_array_of_exp(retain: bool):
    x = tg.randn(1000, requires_grad=True)
    y = x.exp().sum()                  # Exp saves its output; nothing else holds that array
    exp_node = y.grad_fn.next_functions[0][0]
    ref = weakref.ref(exp_node._saved[0])
    y.backward(retain_graph=retain)
    gc.collect()
    return ref, y


def test_saved_arrays_are_released_after_backward():
    ref, y = _saved_array_of_exp(retain=False)
    assert ref() is None and y.grad_fn is not None  # the graph is still there, its saved arrays are not


def test_saved_arrays_are_kept_with_retain_graph():
    ref, y = _saved_array_of_exp(retain=True)
    assert ref() is not None
    y.backward()
    gc.collect()
    assert ref() is None


def test_memory_of_saved_arrays_goes_back_after_backward():
    import tracemalloc

    x = tg.randn(256, 256, requires_grad=True)
    tracemalloc.start()
    y = x.exp().tanh().sigmoid().sum()    # three saved 256x256 outputs (256 KiB each in float32)
    held = tracemalloc.get_traced_memory()[0]
    y.backward()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert held - after > 2 * 256 * 256 * 4


# --- grad modes ----------------------------------------------------------------------------------------------
def test_no_grad_context_manager_and_decorator():
    x = tg.tensor(X, requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            z = x * 2
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and z.grad_fn is not None

    @tg.no_grad()
    def f(a):
        return a * 3, tg.is_grad_enabled()

    w, enabled = f(x)
    assert w.grad_fn is None and not enabled and tg.is_grad_enabled()

    @tg.enable_grad()
    def g(a):
        return a * 3

    with tg.no_grad():
        assert g(x).grad_fn is not None


def test_bare_no_grad_decorator():
    @tg.no_grad
    def f(a):
        return a * 3

    assert f(tg.ones(2, requires_grad=True)).grad_fn is None and f.__name__ == "f"


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ValueError):
        with tg.no_grad():
            raise ValueError
    assert tg.is_grad_enabled()


def test_set_grad_enabled_and_inference_mode():
    x = tg.tensor(X, requires_grad=True)
    with tg.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled() and (x * 2).grad_fn is None
    finally:
        tg.set_grad_enabled(True)
    with tg.inference_mode():
        assert (x * 2).grad_fn is None
    with tg.autograd.no_grad():
        assert not tg.autograd.is_grad_enabled()


def test_nothing_is_recorded_under_no_grad_for_any_op():
    x = tg.tensor(X, requires_grad=True)
    with tg.no_grad():
        outs = [x + 1, x @ x.T, x.sum(1), x[0], x.reshape(6), x.exp(), x.max(1).values, tg.cat([x, x]),
                x.relu(), x.clamp(0, 1), tg.where(x > 0, x, x * 2)]
    assert all(o.grad_fn is None and not o.requires_grad for o in outs)


def test_detach_stops_gradients():
    both(lambda m: (lambda x: ((x * x.detach()).sum().backward(), x.grad)[1])(m.tensor(X, requires_grad=True)))


# --- retain_grad, hooks --------------------------------------------------------------------------------------
def test_retain_grad_on_non_leaves():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = y.exp()
        (z * z).sum().backward()
        assert y.retains_grad and not x.retains_grad
        return y.grad, x.grad
    both(run)


def test_non_leaf_grad_is_none_without_retain_grad():
    x = tg.tensor(X, requires_grad=True)
    y = x * 2
    (y * y).sum().backward()
    assert y.grad is None


def test_register_hook_on_non_leaf_changes_downstream_gradient():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))        # observes
        y.register_hook(lambda g: g * 10)                          # replaces
        (y * y).sum().backward()
        return seen[0], x.grad
    both(run)


def test_register_hook_on_leaf_and_handle_remove():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        h = x.register_hook(lambda g: g + 1)
        (x * 2).sum().backward()
        first = x.grad.clone()
        h.remove()
        (x * 2).sum().backward()
        return first, x.grad
    both(run)


def test_hook_changing_the_shape_raises():
    x = tg.ones(2, requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (x * 2).sum().backward()


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.ones(2).register_hook(lambda g: g)


# --- custom Functions ----------------------------------------------------------------------------------------
def _cube_fn(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.scale, None
    return Cube


def test_custom_function_like_torch():
    def run(m):
        Cube = _cube_fn(m)
        x = m.tensor(X, requires_grad=True)
        y = Cube.apply(x, 0.5)
        assert y.grad_fn.name() == "CubeBackward"
        assert [type(n).__name__ if m is torch else n.name() for n, _ in y.grad_fn.next_functions] == \
            ["AccumulateGrad"]
        (y * y.exp()).sum().backward()
        return y, x.grad
    both(run)


def test_custom_function_needs_input_grad_and_non_tensor_args():
    seen = {}
    for m in (tg, torch):
        class Mul(m.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, k):
                seen[m.__name__] = ctx.needs_input_grad
                ctx.save_for_backward(a, b)
                return a * b * k

            @staticmethod
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                return g * b, g * a, None

        Mul.apply(m.ones(2, requires_grad=True), m.ones(2), 2.0)
    assert seen["tinygrad_cnn"] == seen["torch"] == (True, False, False)


def test_custom_function_with_setup_context_like_torch():
    def run(m):
        class Scale(m.autograd.Function):
            @staticmethod
            def forward(x, k):  # torch >= 2.0 style: no ctx in forward
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.k = k
                ctx.save_for_backward(output)

            @staticmethod
            def backward(ctx, g):
                (out,) = ctx.saved_tensors
                return g * ctx.k + 0 * out, None

        x = m.tensor(X, requires_grad=True)
        y = Scale.apply(x, 2.5)
        assert y.grad_fn.name() == "ScaleBackward"
        (y * y).sum().backward()
        return y, x.grad
    both(run)


def test_multi_output_custom_function():
    def run(m):
        class SinCos(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.sin(), x.cos()

            @staticmethod
            def backward(ctx, gs, gc):
                (x,) = ctx.saved_tensors
                return gs * x.cos() - gc * x.sin()

        x = m.tensor(X, requires_grad=True)
        s, c = SinCos.apply(x)
        assert s.grad_fn is c.grad_fn
        (s * 2 + c * c).sum().backward()
        g_both = x.grad.clone()
        x.grad = None
        s, c = SinCos.apply(x)
        c.sum().backward()                  # the unused output's gradient arrives as zeros
        return s, c, g_both, x.grad
    both(run)


def test_multi_output_function_mark_non_differentiable_and_materialize():
    def run(m):
        class SortLike(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = x.argmax(1)
                ctx.mark_non_differentiable(idx)
                ctx.set_materialize_grads(False)
                ctx.save_for_backward(x)
                return x * 2, idx

            @staticmethod
            def backward(ctx, g, g_idx):
                assert g_idx is None
                return g * 2

        x = m.tensor(X, requires_grad=True)
        y, idx = SortLike.apply(x)
        assert not idx.requires_grad and y.requires_grad
        y.sum().backward()
        return idx, x.grad
    both(run)


def test_custom_function_errors():
    class WrongCount(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    x = tg.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        WrongCount.apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward.*input 0.*shape \(\).*\(2, 3\)"):
        WrongShape.apply(x).sum().backward()


def test_custom_function_under_no_grad_records_nothing():
    Cube = _cube_fn(tg)
    with tg.no_grad():
        y = Cube.apply(tg.tensor(X, requires_grad=True), 1.0)
    assert y.grad_fn is None and not y.requires_grad


# --- autograd.grad -------------------------------------------------------------------------------------------
def test_autograd_grad_returns_grads_without_touching_dot_grad():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        w = m.tensor([1.0, 2.0, -1.0], requires_grad=True)
        y = ((x * w).exp() * x).sum()
        gx, gw = m.autograd.grad(y, [x, w])
        assert x.grad is None and w.grad is None
        return gx, gw
    both(run)


def test_autograd_grad_with_grad_outputs_and_non_leaf_inputs():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        h = x * 3
        y = h.sin()
        return m.autograd.grad(y, (h, x), grad_outputs=m.ones(2, 3) * 2)
    both(run)


def test_autograd_grad_multiple_outputs():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        return m.autograd.grad([(x * x).sum(), x.exp().sum()], x)
    both(run)


def test_autograd_grad_allow_unused():
    for m in (tg, torch):
        x = m.tensor(X, requires_grad=True)
        u = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="allow_unused=True"):
            m.autograd.grad((x * 2).sum(), [x, u])
    gx, gu = tg.autograd.grad((tg.tensor(X, requires_grad=True) * 2).sum(),
                              [tg.tensor(X, requires_grad=True), tg.ones(3, requires_grad=True)], allow_unused=True)
    assert gx is None and gu is None  # neither of those fresh leaves was used
    x = tg.tensor(X, requires_grad=True)
    u = tg.ones(3, requires_grad=True)
    gx, gu = tg.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)
    assert gx.tolist() == [[2.0] * 3] * 2 and gu is None


def test_autograd_grad_retain_graph():
    x = tg.tensor(X, requires_grad=True)
    y = x.exp().sum()
    a, = tg.autograd.grad(y, x, retain_graph=True)
    b, = tg.autograd.grad(y, x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="retain_graph"):
        tg.autograd.grad(y, x)


def test_create_graph_gives_differentiable_gradients():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        (g,) = m.autograd.grad((x * x * x).sum(), x, create_graph=True)  # 3 x^2, with a graph
        (h,) = m.autograd.grad(g.sum(), x)                                # 6 x
        y = m.tensor(X, requires_grad=True)
        (y * y * y).sum().backward(create_graph=True)
        (y.grad * y.grad).sum().backward()                                # accumulates 36 y^3 on top of 3 y^2
        return g.detach(), h, y.grad.detach()
    both(run)


def test_backward_inputs_argument_limits_accumulation():
    def run(m):
        x = m.tensor(X, requires_grad=True)
        w = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * w).sum().backward(inputs=[w])
        return x.grad, w.grad
    both(run)


def test_grads_keep_dtypes_and_only_float_leaves_require_grad():
    x = tg.tensor(X, requires_grad=True)
    d = tg.tensor(X, dtype=tg.float64, requires_grad=True)
    (x.double() * d).sum().backward()
    assert x.grad.dtype == tg.float32 and d.grad.dtype == tg.float64
    with pytest.raises(RuntimeError, match="floating point"):
        tg.ones(2, dtype=tg.int64).requires_grad_()


def test_graph_structure_next_functions_walk():
    x = tg.tensor(X, requires_grad=True)
    y = ((x * 2).exp() + x).sum()
    names, stack, seen = [], [y.grad_fn], set()
    while stack:  # an explicit-stack walk over next_functions, as a visualiser would do
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name())
        stack.extend(n for n, _ in node.next_functions)
    assert sorted(names) == sorted(["SumBackward0", "AddBackward0", "ExpBackward0", "MulBackward0",
                                    "AccumulateGrad"])
