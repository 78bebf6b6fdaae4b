"""Matrix product against torch (float64): 1-D @ 1-D, 1-D @ 2-D, 2-D @ 1-D, 2-D @ 2-D, batched with broadcast
batch dims, size-0 dims; mm/bmm/dot/matmul spellings; shape errors; float32 stays float32."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from core_helpers import normal, seeds
from parity import check_parity

torch = pytest.importorskip("torch")

side = st.integers(0, 4)


@st.composite
def matmul_shapes(draw):
    """Shapes (A, B) valid for a @ b: any rank 1..4 each, batch dims broadcastable, zero sizes allowed."""
    n, k, m = draw(side), draw(side), draw(side)
    ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a = (k,) if ra == 1 else (n, k)
    b = (k,) if rb == 1 else (k, m)
    batch = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    ba = tuple(batch[len(batch) - max(ra - 2, 0):]) if ra > 2 else ()
    bb = tuple(batch[len(batch) - max(rb - 2, 0):]) if rb > 2 else ()
    ba = tuple(1 if draw(st.booleans()) else s for s in ba)   # size-1 batch dims broadcast
    return ba + a, bb + b


@given(sh=matmul_shapes(), seed=seeds)
def test_matmul_all_ranks(sh, seed):
    sa, sb = sh
    check_parity(lambda m, a, b: a @ b, [normal(sa, seed), normal(sb, seed + 1)])


@given(sh=matmul_shapes(), seed=seeds)
def test_matmul_function_and_method(sh, seed):
    sa, sb = sh
    check_parity(lambda m, a, b: m.matmul(a, b), [normal(sa, seed), normal(sb, seed + 1)])
    check_parity(lambda m, a, b: a.matmul(b).sum() if a.ndim + b.ndim > 2 else a.matmul(b),
                 [normal(sa, seed), normal(sb, seed + 1)])


def test_named_cases():
    r = np.random.default_rng(0)
    cases = [((4,), (4,)), ((4,), (4, 3)), ((2, 4), (4,)), ((2, 4), (4, 3)), ((5, 2, 4), (4, 3)),
             ((4,), (5, 4, 3)), ((5, 2, 4), (4,)), ((1, 2, 4), (5, 4, 3)), ((2, 1, 2, 4), (3, 4, 1)),
             ((0, 4), (4, 3)), ((2, 0), (0, 3)), ((2, 4), (4, 0))]
    for sa, sb in cases:
        check_parity(lambda m, a, b: a @ b, [r.standard_normal(sa), r.standard_normal(sb)])


def test_mm_bmm_dot():
    r = np.random.default_rng(1)
    check_parity(lambda m, a, b: m.mm(a, b), [r.standard_normal((2, 3)), r.standard_normal((3, 4))])
    check_parity(lambda m, a, b: a.mm(b), [r.standard_normal((2, 3)), r.standard_normal((3, 4))])
    check_parity(lambda m, a, b: m.bmm(a, b), [r.standard_normal((5, 2, 3)), r.standard_normal((5, 3, 4))])
    check_parity(lambda m, a, b: m.dot(a, b), [r.standard_normal(3), r.standard_normal(3)])


def test_only_one_side_requires_grad():
    r = np.random.default_rng(2)
    check_parity(lambda m, a, b: a @ b, [r.standard_normal((3, 2, 4)), r.standard_normal((4, 2))],
                 grad=[False, True])
    check_parity(lambda m, a, b: a @ b, [r.standard_normal((3, 2, 4)), r.standard_normal((4, 2))],
                 grad=[True, False])


def test_matmul_shape_errors_name_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 3\) @ \(4, 5\)"):
        tg.ones(2, 3) @ tg.ones(4, 5)
    with pytest.raises(RuntimeError, match="at least 1 dimension"):
        tg.ones(2, 3) @ tg.tensor(2.0)
    with pytest.raises(RuntimeError, match="batch"):
        tg.ones(2, 2, 3) @ tg.ones(3, 3, 4)


def test_matmul_dtypes():
    a = tg.randn(2, 3, requires_grad=True)
    b = tg.randn(3, 4, requires_grad=True)
    out = a @ b
    out.sum().backward()
    assert out.dtype == a.grad.dtype == b.grad.dtype == tg.float32
    assert (a @ b.double()).dtype == tg.float64
    assert (tg.ones(2, 3, dtype=tg.int64) @ tg.ones(3, dtype=tg.int64)).dtype == tg.int64
    assert (np.ones((2, 3), np.float32) @ tg.ones(3, 1)).shape == (2, 1)
