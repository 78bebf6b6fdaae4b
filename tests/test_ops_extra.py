"""The less common tensor functions against torch (float64) and gradcheck: einsum (1-3 operands, diagonals,
ellipses, broadcasting, implicit output), meshgrid, diag, cumprod (with zeros), repeat_interleave, diff, erf,
std_mean/var_mean and the in-place unary methods exp_/abs_/sqrt_/neg_/sigmoid_/tanh_/log_."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from core_helpers import normal, positive, seeds, shapes
from parity import check_parity

torch = pytest.importorskip("torch")


def _f64(*shape, seed=0, requires_grad=True):
    return tg.tensor(normal(shape, seed), dtype=tg.float64, requires_grad=requires_grad)


# --- einsum -----------------------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(3, 3)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ji", [(3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...,i...->...", [(2, 1), (2, 4, 3)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("ij,ij->ij", [(2, 1), (2, 4)]),
    ("ab,cd->", [(2, 3), (4, 1)]),
    ("a b , b c -> a c", [(2, 3), (3, 2)]),
    ("Ab,bC->AC", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq, shps", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_parity(eq, shps):
    arrays = [normal(s, seed=i) for i, s in enumerate(shps)]
    check_parity(lambda m, *xs: m.einsum(eq, *xs), arrays)


@st.composite
def einsum_problems(draw):
    """A random equation over labels a-d (repeats within an operand allowed), 1-3 operands, explicit or implicit
    output, and operand shapes that match or broadcast (size 1)."""
    sizes = dict(zip("abcd", draw(st.lists(st.integers(1, 3), min_size=4, max_size=4))))
    terms = draw(st.lists(st.text("abcd", min_size=0, max_size=3), min_size=1, max_size=3))
    seen = sorted(set("".join(terms)))
    if draw(st.booleans()):
        out = "".join(draw(st.permutations(seen))[:draw(st.integers(0, len(seen)))])
        eq = ",".join(terms) + "->" + out
    else:
        eq = ",".join(terms)
    # a label seen once in an operand may have size 1 there: it broadcasts against the other operands' size
    ones = draw(st.lists(st.booleans(), min_size=len(terms) * 3, max_size=len(terms) * 3))
    shps = [tuple(1 if ones[3 * i + j] and t.count(c) == 1 else sizes[c] for j, c in enumerate(t))
            for i, t in enumerate(terms)]
    return eq, shps


@given(problem=einsum_problems(), seed=seeds)
def test_einsum_random_equations(problem, seed):
    eq, shps = problem
    check_parity(lambda m, *xs: m.einsum(eq, *xs), [np.asarray(normal(s, seed + i)) for i, s in enumerate(shps)])


@pytest.mark.parametrize("eq, shps", [("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("iij,j->i", [(2, 2, 3), (3,)]),
                                       ("...i,i->...", [(2, 3), (3,)])])
def test_einsum_gradcheck(eq, shps):
    xs = [_f64(*s, seed=i) for i, s in enumerate(shps)]
    assert tg.autograd.gradcheck(lambda *a: tg.einsum(eq, *a), xs)


def test_einsum_list_form_and_float32():
    a, b = normal((2, 3), 0).astype(np.float32), normal((3, 4), 1).astype(np.float32)
    out = tg.einsum("ij,jk->ik", [tg.tensor(a), tg.tensor(b)])
    assert out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), torch.einsum("ij,jk->ik", [torch.tensor(a), torch.tensor(b)]).numpy(),
                               rtol=1e-5)


def test_einsum_only_needed_grads():
    a, b = _f64(2, 3), _f64(3, 4, seed=1, requires_grad=False)
    tg.einsum("ij,jk->ik", a, b).sum().backward()
    assert a.grad is not None and b.grad is None


@pytest.mark.parametrize("eq, shps, msg", [
    ("ij,jk->ik", [(2, 3)], "operand"),
    ("ij->i", [(2, 3, 4)], "number of subscripts"),
    ("ij,jk->ik", [(2, 3), (4, 2)], "do not broadcast"),
    ("ij->ii", [(2, 2)], "more than once"),
    ("ij->k", [(2, 2)], "does not appear"),
    ("i.j->ij", [(2, 2)], "ellipsis"),
    ("ij->i->j", [(2, 2)], "arrow"),
    ("ii->i", [(2, 3)], "sizes don't match"),
    ("ii->i", [(1, 3)], "sizes don't match"),
])
def test_einsum_errors(eq, shps, msg):
    with pytest.raises(RuntimeError, match=msg):
        tg.einsum(eq, *[tg.zeros(*s) for s in shps])
    with pytest.raises(RuntimeError):
        torch.einsum(eq, *[torch.zeros(*s) for s in shps])


def test_einsum_mixed_dtypes_refused():
    with pytest.raises(RuntimeError, match="same dtype"):
        tg.einsum("i,i->", tg.zeros(2), tg.zeros(2, dtype=tg.float64))


# --- meshgrid, diag ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (2, 3), (2, 3, 4)])
def test_meshgrid(indexing, sizes):
    arrays = [normal((n,), i) for i, n in enumerate(sizes)]
    check_parity(lambda m, *xs: m.meshgrid(*xs, indexing=indexing), arrays)


def test_meshgrid_default_is_ij_and_errors():
    a, b = tg.arange(2), tg.arange(3)
    assert tuple(tg.meshgrid(a, b)[0].shape) == (2, 3)
    with pytest.raises(RuntimeError, match="indexing"):
        tg.meshgrid(a, b, indexing="ji")
    with pytest.raises(RuntimeError, match="0D or 1D"):
        tg.meshgrid(tg.zeros(2, 2), b)


@pytest.mark.parametrize("shape", [(4,), (3, 3), (2, 5), (5, 2)])
@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3, 6])
def test_diag(shape, k):
    check_parity(lambda m, x: m.diag(x, k), [normal(shape, 0)])
    check_parity(lambda m, x: x.diag(diagonal=k), [normal(shape, 1)])


def test_diag_gradcheck_and_error():
    assert tg.autograd.gradcheck(lambda x: tg.diag(x, 1), [_f64(3)])
    assert tg.autograd.gradcheck(lambda x: tg.diag(x, -1), [_f64(3, 4)])
    with pytest.raises(RuntimeError, match="1D or 2D"):
        tg.diag(tg.zeros(2, 2, 2))


# --- cumprod, diff, repeat_interleave ---------------------------------------------------------------------------

@given(shape=shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, data=st.data())
def test_cumprod(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = normal(shape, seed)
    x[np.random.default_rng(seed).random(shape) < 0.2] = 0.0  # zeros: the gradient must not divide by x
    check_parity(lambda m, t: m.cumprod(t, dim), [x])


def test_cumprod_gradcheck_ints_and_0d():
    x = tg.tensor([[2.0, 0.0, 3.0], [1.5, -1.0, 0.0]], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.cumprod(1), [x])
    assert tg.cumprod(tg.tensor([1, 2, 3]), 0).dtype == tg.int64
    assert tg.tensor([True, True]).cumprod(0).tolist() == torch.tensor([True, True]).cumprod(0).tolist()
    check_parity(lambda m, t: t.cumprod(0), [np.array(2.5)])
    check_parity(lambda m, t: t.cumprod(0, dtype=m.float64), [normal((3,), 0)])


@pytest.mark.parametrize("kw", [{}, {"n": 2}, {"dim": 0}, {"n": 3, "dim": 1}, {"n": 9}])
def test_diff(kw):
    check_parity(lambda m, x: m.diff(x, **kw), [normal((4, 5), 0)])


def test_diff_prepend_append():
    check_parity(lambda m, x, p, a: m.diff(x, n=2, dim=1, prepend=p, append=a),
                 [normal((3, 4), 0), normal((3, 2), 1), normal((3, 1), 2)])
    check_parity(lambda m, x, p: x.diff(dim=0, prepend=p), [normal((3, 4), 0), normal((1, 4), 1)])
    assert tg.autograd.gradcheck(lambda x: x.diff(n=2), [_f64(2, 5)])
    with pytest.raises(RuntimeError, match="one-dimensional"):
        tg.diff(tg.tensor(1.0))
    b = np.array([True, False, False, True])
    assert tg.diff(tg.tensor(b)).tolist() == torch.diff(torch.tensor(b)).tolist()


@pytest.mark.parametrize("repeats, dim", [(2, None), (3, 0), (2, 1), (np.array([1, 0, 2]), 0), (np.array(2), -1),
                                          (np.array([2]), 1), (np.array([0, 3, 1, 1]), 1)])
def test_repeat_interleave(repeats, dim):
    def fn(m, x):
        r = m.tensor(repeats) if isinstance(repeats, np.ndarray) else repeats
        return x.repeat_interleave(r, dim=dim)
    check_parity(fn, [normal((3, 4), 0)])


def test_repeat_interleave_function_forms_and_errors():
    for m in (tg, torch):
        assert m.repeat_interleave(m.tensor([2, 0, 1])).tolist() == [0, 0, 2]
    check_parity(lambda m, x: m.repeat_interleave(x, 2, dim=0, output_size=6), [normal((3,), 0)])
    assert tg.autograd.gradcheck(lambda x: x.repeat_interleave(tg.tensor([1, 3]), dim=0), [_f64(2, 3)])
    with pytest.raises(RuntimeError, match="same size"):
        tg.zeros(3).repeat_interleave(tg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="negative"):
        tg.zeros(2).repeat_interleave(tg.tensor([1, -1]))


# --- erf, std_mean / var_mean ----------------------------------------------------------------------------------

@given(shape=shapes(max_dims=3), seed=seeds)
def test_erf(shape, seed):
    x = np.asarray(normal(shape, seed) * 2)
    check_parity(lambda m, t: m.erf(t), [x])
    check_parity(lambda m, t: t.erf(), [x])


def test_erf_gradcheck_dtype():
    assert tg.autograd.gradcheck(tg.erf, [_f64(3, 2)])
    assert tg.erf(tg.zeros(2)).dtype == tg.float32
    assert tg.erf(tg.tensor([1, 2])).dtype == tg.float32  # integers become the default float, as torch


@pytest.mark.parametrize("fn", ["std_mean", "var_mean"])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True}, {"dim": 0, "unbiased": False},
                                {"dim": [1, 2], "correction": 0}, {"dim": -1, "correction": 2}])
def test_std_var_mean(fn, kw):
    check_parity(lambda m, x: getattr(m, fn)(x, **kw), [normal((3, 4, 5), 0)])


def test_var_mean_gradcheck():
    assert tg.autograd.gradcheck(lambda x: tg.var_mean(x, 1), [_f64(3, 4)])


# --- in-place unary methods ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["exp_", "abs_", "sqrt_", "neg_", "sigmoid_", "tanh_", "log_"])
def test_inplace_unary(name):
    def fn(m, x):
        y = x * 1.5  # a non-leaf: in place is allowed, its history is rewritten
        out = getattr(y, name)()
        assert out is y
        return y * 2
    data = positive((3, 4), 0) if name in ("sqrt_", "log_") else normal((3, 4), 0)
    check_parity(fn, [data])


@pytest.mark.parametrize("name", ["exp_", "sqrt_", "tanh_", "abs_"])
def test_inplace_unary_through_view(name):
    def fn(m, x):
        y = x * 1.5
        getattr(y[1:, ::2], name)()  # the change reaches y's history through the view
        return y
    check_parity(fn, [positive((3, 4), 1)])


def test_inplace_unary_leaf_and_int_refused():
    x = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.exp_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        tg.tensor([1, 2]).sqrt_()
    y = tg.tensor([-1, 2])
    assert y.abs_().tolist() == [1, 2] and y.neg_().tolist() == [-1, -2]
    z = tg.tensor([0.0, 1.0])
    v = z.exp_()
    assert v is z and z._version_box[0] == 1
    np.testing.assert_allclose(z.numpy(), np.exp([0.0, 1.0]).astype(np.float32))
