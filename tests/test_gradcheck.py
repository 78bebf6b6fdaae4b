"""gradcheck (central differences in float64 vs backward) over every core primitive; gradcheck itself must catch a
wrong backward, name the input and the worst element, work in fast_mode and warn on float32 inputs."""
import inspect
import re
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import GradcheckError, gradcheck
from tinygrad_cnn.ops import elementwise, index, linalg, matmul, modulo, reduce, selection, shape
from tinygrad_cnn.ops._primitive import Primitive
from tinygrad_cnn.ops.index import IndexAddZeros
from tinygrad_cnn.ops.shape import Pad

R = np.random.default_rng(0)


def t(*shape, lo=None, hi=None, distinct=False):
    """A float64 leaf requiring grad. distinct: well-separated values, so max/min/clamp have no ties or kinks
    within eps of an evaluation point."""
    if distinct:
        n = int(np.prod(shape))
        arr = (R.permutation(n) - n / 2 + 0.25).reshape(shape) * 0.5
    elif lo is not None:
        arr = R.uniform(lo, hi, shape)
    else:
        arr = R.standard_normal(shape)
    return tg.tensor(arr, dtype=tg.float64, requires_grad=True)


# (name, function, inputs): one or more cases per core primitive, broadcasting where the op broadcasts
CASES = [
    ("add", lambda a, b: a + b, [t(2, 3), t(3)]),
    ("add_scalar", lambda a: 2.5 + a, [t(2, 3)]),
    ("sub", lambda a, b: a - b, [t(2, 1), t(1, 3)]),
    ("rsub_scalar", lambda a: 1.0 - a, [t(4)]),
    ("mul", lambda a, b: a * b, [t(2, 3), t(2, 1)]),
    ("div", lambda a, b: a / b, [t(2, 3), t(3, lo=0.5, hi=2.0)]),
    ("rdiv_scalar", lambda a: 3.0 / a, [t(4, lo=0.5, hi=2.0)]),
    ("neg", lambda a: -a, [t(2, 3)]),
    ("pow_tensor", lambda a, b: a ** b, [t(2, 3, lo=0.5, hi=2.0), t(3)]),
    ("pow_scalar_exp", lambda a: a ** 3, [t(2, 3)]),
    ("pow_scalar_base", lambda a: 2.0 ** a, [t(2, 3)]),
    ("exp", lambda a: a.exp(), [t(2, 3)]),
    ("log", lambda a: a.log(), [t(2, 3, lo=0.5, hi=2.0)]),
    ("sqrt", lambda a: a.sqrt(), [t(2, 3, lo=0.5, hi=2.0)]),
    ("abs", lambda a: a.abs(), [t(2, 3, distinct=True)]),
    ("sin", lambda a: a.sin(), [t(5)]),
    ("cos", lambda a: a.cos(), [t(5)]),
    ("clamp_scalar", lambda a: a.clamp(-1.1, 1.3), [t(3, 4, distinct=True)]),
    ("clamp_tensor", lambda a, lo, hi: a.clamp(lo, hi), [t(3, 4, distinct=True), t(4, lo=-2.0, hi=-0.9),
                                                          t(3, 1, lo=0.6, hi=1.7)]),
    ("maximum", lambda a, b: a.maximum(b), [t(2, 3, distinct=True), t(3, distinct=True) + 0.1]),
    ("minimum", lambda a, b: tg.minimum(a, b), [t(2, 3, distinct=True), t(2, 1, distinct=True) + 0.1]),
    ("where", lambda a, b: tg.where(tg.tensor([True, False, True]), a, b), [t(2, 3), t(2, 1)]),
    ("relu", lambda a: a.relu(), [t(2, 3, distinct=True)]),
    ("sigmoid", lambda a: a.sigmoid(), [t(2, 3)]),
    ("tanh", lambda a: a.tanh(), [t(2, 3)]),
    ("cast", lambda a: a.float().double() * a.to(tg.float64), [t(2, 3)], {"eps": 1e-3, "atol": 1e-3}),
    ("clone", lambda a: a.clone() * a.t().contiguous().t(), [t(2, 3)]),
    ("sum", lambda a: a.sum(), [t(2, 3)]),
    ("sum_dims", lambda a: a.sum(dim=(0, 2), keepdim=True), [t(2, 3, 2)]),
    ("mean", lambda a: a.mean(1), [t(2, 3)]),
    ("amax", lambda a: a.amax(dim=(0, 1)), [t(2, 3, 2, distinct=True)]),
    ("amin_keepdim", lambda a: a.amin(1, keepdim=True), [t(2, 3, distinct=True)]),
    ("max_all", lambda a: a.max(), [t(2, 3, distinct=True)]),
    ("max_dim", lambda a: a.max(1).values, [t(3, 4, distinct=True)]),
    ("min_dim_keepdim", lambda a: a.min(0, keepdim=True)[0], [t(3, 4, distinct=True)]),
    ("reshape", lambda a: a.reshape(3, 2) * tg.arange(6.0, dtype=tg.float64).reshape(3, 2), [t(2, 3)]),
    ("view", lambda a: a.view(-1) * tg.arange(6.0, dtype=tg.float64), [t(2, 3)]),
    ("squeeze_unsqueeze_flatten", lambda a: a.unsqueeze(0).squeeze(2).flatten() ** 2, [t(2, 1, 3)]),
    ("permute", lambda a: a.permute(2, 0, 1) ** 2, [t(2, 3, 2)]),
    ("transpose_T", lambda a: a.transpose(0, 1) @ a.T.T, [t(2, 3)]),
    ("expand", lambda a: a.expand(4, 2, 3) * tg.arange(24.0, dtype=tg.float64).reshape(4, 2, 3), [t(2, 1)]),
    ("cat", lambda a, b: tg.cat([a, b, a], dim=1) ** 2, [t(2, 1), t(2, 3)]),
    ("stack", lambda a, b: tg.stack([a, b], dim=-1) ** 2, [t(2, 3), t(2, 3)]),
    ("split_chunk", lambda a: a.split([1, 2], 1)[1] * a.chunk(3, 1)[0], [t(2, 3)]),
    ("pad", lambda a: Pad.apply(a, ((1, 0), (2, -1)), 0.5) ** 2, [t(2, 3)]),
    ("getitem_basic", lambda a: a[1:, ::2, None, -1] ** 2, [t(3, 4, 2)]),
    ("getitem_int_array_duplicates", lambda a: a[tg.tensor([0, 2, 0, 0])] ** 2, [t(3, 2)]),
    ("getitem_mask", lambda a: a[a.detach() > 0] ** 2, [t(3, 4)]),
    ("index_put", lambda a, v: _put(a, v), [t(3, 4), t(4)]),
    ("index_add_zeros", lambda v: IndexAddZeros.apply(v, (np.array([2, 0, 2]), slice(1, 3)), (3, 4)) ** 2,
     [t(3, 2)]),
    ("index_add_zeros_distinct", lambda v: IndexAddZeros.apply(v, (np.array([2, 0]),), (3, 2), True) ** 2,
     [t(2, 2)]),
    ("cumsum", lambda a: a.cumsum(1) ** 2, [t(2, 4)]),
    ("scatter_add_index_add", lambda a, s: a.scatter_add(1, tg.tensor([[0, 0, 2]]), s) ** 2
     + a.index_add(0, tg.tensor([1, 1]), s.expand(2, 3)), [t(2, 3), t(1, 3)]),
    ("matmul_2d", lambda a, b: a @ b, [t(2, 3), t(3, 4)]),
    ("matmul_1d_1d", lambda a, b: a @ b, [t(3), t(3)]),
    ("matmul_batched_broadcast", lambda a, b: a @ b, [t(2, 1, 2, 3), t(3, 3, 2)]),
    ("matmul_vec_batched", lambda a, b: a @ b, [t(3), t(2, 3, 2)]),
    ("var_std", lambda a: a.var(1) + a.std(0, keepdim=True).sum(), [t(3, 4)]),
    ("prod_norm", lambda a: a.prod(1) + a.norm(), [t(2, 3)]),
    ("multi_output", lambda a: (a.exp(), a.max(0).values), [t(2, 3, distinct=True)]),
    ("fmod_remainder", lambda a, b: a.fmod(b) + a.remainder(b), [t(2, 3), t(3, lo=0.5, hi=2.0)]),
    ("atan2", lambda a, b: a.atan2(b), [t(2, 3), t(2, 1, lo=0.5, hi=2.0)]),
    ("linalg_solve_det", lambda a, b: tg.linalg.solve(a, b) * tg.linalg.det(a), [t(3, 3) + 3 * tg.eye(3), t(3, 2)]),
    ("linalg_eigh", lambda a: tg.linalg.eigh(a + a.mT)[0], [t(3, 3)]),
    ("linalg_svd", lambda a: tg.linalg.svd(a, full_matrices=False).S, [t(4, 3)]),
    ("linalg_qr", lambda a: tg.linalg.qr(a).R, [t(4, 3)]),
]


def _put(a, v):
    y = a * 1
    y[1] = v * 2
    y[:, 0] = 0.0
    return y * a


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_every_core_primitive(case):
    name, fn, inputs, *kwargs = case   # kwargs: looser settings where the op itself rounds (float32 cast)
    assert gradcheck(fn, inputs, **(kwargs[0] if kwargs else {}))


@pytest.mark.parametrize("case", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_gradcheck_fast_mode_passes(case):
    name, fn, inputs, *kwargs = case
    assert gradcheck(fn, inputs, fast_mode=True, **(kwargs[0] if kwargs else {}))


def _core_primitives():
    found = set()
    for mod in (elementwise, selection, reduce, shape, index, matmul, modulo, linalg):
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, Primitive) and cls is not Primitive and cls.__module__ == mod.__name__:
                found.add(cls)
    return found


def _classes_in_graph(outputs):
    seen, stack, classes = set(), [o.grad_fn for o in outputs if o.grad_fn is not None], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "_fn"):
            classes.add(node._fn)
        stack.extend(n for n, _ in node.next_functions)
    return classes


def test_the_gradcheck_table_covers_every_core_primitive():
    covered = set()
    for _, fn, inputs, *_ in CASES:
        out = fn(*inputs)
        covered |= _classes_in_graph(out if isinstance(out, tuple) else (out,))
    missing = sorted(c.__name__ for c in _core_primitives() - covered)
    assert not missing, f"primitives without a gradcheck case: {missing}"


# --- gradcheck must fail on a wrong backward -----------------------------------------------------------------
class ScaledProduct(tg.autograd.Function):
    """out = a * b**2 with a deliberately wrong gradient for b: 3 b instead of 2 b (input 1)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b * b, g * a * 3 * b


def test_gradcheck_fails_on_a_wrong_backward_naming_input_and_worst_element():
    a = tg.tensor([[1.0, 2.0, -1.0], [0.5, 1.5, 3.0]], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([[0.5, -1.0, 2.0], [1.0, 0.25, 4.0]], dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as err:
        gradcheck(ScaledProduct.apply, (a, b))
    msg = str(err.value)
    # the wrong entry is d out_j / d b_j = 3 a b instead of 2 a b: off by |a b|, largest at element (1, 2)
    assert "with respect to input 1" in msg
    assert re.search(r"output element \(1, 2\).*input element \(1, 2\)", msg), msg
    assert "numerical=24" in msg and "analytical=36" in msg
    assert gradcheck(ScaledProduct.apply, (a, b.detach()))  # input 0's gradient alone is right


def test_gradcheck_fast_mode_also_fails():
    a = tg.randn(3, dtype=tg.float64, requires_grad=True)
    b = tg.randn(3, dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1.*fast mode"):
        gradcheck(ScaledProduct.apply, (a, b), fast_mode=True)


def test_gradcheck_raise_exception_false_returns_false():
    a = tg.randn(2, dtype=tg.float64, requires_grad=True)
    b = tg.randn(2, dtype=tg.float64, requires_grad=True)
    assert gradcheck(ScaledProduct.apply, (a, b), raise_exception=False) is False


def test_gradcheck_catches_a_missing_broadcast_reduction_and_wrong_sign():
    class WrongSign(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            return None if g is None else -g  # derivative of sin is cos, not -1

    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(WrongSign.apply, (tg.randn(4, dtype=tg.float64, requires_grad=True),))


def test_gradcheck_float32_inputs_warn():
    x = tg.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        assert gradcheck(lambda a: a * a, (x,))


def test_gradcheck_skips_inputs_without_grad_and_non_tensors():
    x = tg.randn(2, 3, dtype=tg.float64, requires_grad=True)
    w = tg.randn(3, dtype=tg.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda a, b, k: (a * b) ** k, (x, w, 2))


def test_gradgradcheck_catches_a_backward_that_leaves_the_tape():
    from planted_cubes import LeakyCube as Cube  # right first derivative, computed off the tape

    x = tg.randn(2, 3, dtype=tg.float64, requires_grad=True)
    assert gradcheck(Cube.apply, (x,))
    with pytest.raises(GradcheckError, match=r"second derivatives.*output 0 with respect to input 0.*element"):
        tg.autograd.gradgradcheck(Cube.apply, (x,))
    assert tg.autograd.gradgradcheck(Cube.apply, (x,), raise_exception=False) is False
