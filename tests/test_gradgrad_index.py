"""Higher-order derivatives through reductions (amax/max/cumsum), indexing (getitem, index_put, scatter/gather,
index_add), matmul and einsum: gradgradcheck cases and second/third derivatives vs torch 2.13 in float64.

The core cases of these primitives are in the gradgradcheck table of test_gradgradcheck.py (the gradcheck table);
this file adds the options (ties, keepdim, negative dims, duplicates, masks, broadcasting) and compares with torch.
Ties (amax splits the gradient between them) are compared with torch only: central differences cannot see them.
Each function is cubed or multiplied by itself, so its second and third derivatives go through the op's backward
and the backward of that backward.
"""
import numpy as np
import pytest

import tinygrad_cnn as tg

from higher_order_torch import check_orders

R = np.random.default_rng(7)


def t(*shape):
    return tg.tensor(R.standard_normal(shape), dtype=tg.float64, requires_grad=True)


GRADGRAD_CASES = [
    ("einsum_batched_matmul", lambda a, b: tg.einsum("bij,bjk->bik", a, b), [t(2, 2, 3), t(2, 3, 2)]),
    ("einsum_diagonal", lambda a: tg.einsum("ii->i", a) ** 2, [t(3, 3)]),
    ("einsum_repeated_and_summed", lambda a, b: tg.einsum("iij,k->ik", a, b) ** 2, [t(2, 2, 3), t(2)]),
    ("einsum_ellipsis_broadcast", lambda a, b: tg.einsum("...ij,jk->...ik", a, b), [t(2, 1, 3), t(3, 2)]),
    ("gather_index_select", lambda a: a.gather(1, tg.tensor([[0, 0], [2, 1]])) ** 2 * a.index_select(0, tg.tensor(
        [1, 1])).sum(), [t(2, 3)]),
    ("masked_select", lambda a: a.masked_select(tg.tensor([True, False, True])) ** 3, [t(2, 3)]),
    ("cumsum_negative_dim", lambda a: a.cumsum(-2) ** 2, [t(3, 2)]),
    ("amax_keepdim_negative_dim", lambda a: (a * a).amax(dim=-1, keepdim=True) ** 2, [t(2, 3)]),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradgradcheck_index_family(case):
    name, fn, inputs, *kwargs = case
    assert tg.autograd.gradgradcheck(fn, inputs, **(kwargs[0] if kwargs else {}))


TIES = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 2.0, 0.0, 2.0]])
X = R.standard_normal((3, 4))


def _put(m, x, v):
    y = x * x
    y[1, ::2] = v * v
    y[m.tensor([0, 2]), m.tensor([3, 1])] = v[0] ** 3
    return y * x


def _setitem_mask(m, x, v):
    y = x * 1
    y[x.detach() > 0] = 2.0
    y[:, -1] = v[1:].exp()
    return y ** 2


def _scatter(m, x, s):
    idx = m.tensor([[0, 0, 3, 3], [1, 2, 1, 1]])  # duplicates: repeated positions add up
    return x.scatter_add(1, idx, s * s) ** 2 + x.index_add(0, m.tensor([2, 2]), s) ** 2


CASES = {
    "amax_ties_negative_dim": (lambda m, x: (x * x).amax(dim=-1) ** 2 + x.amin(dim=(0, 1)) ** 3, [TIES]),
    "amax_keepdim": (lambda m, x: x.amax(dim=0, keepdim=True) ** 3, [X]),
    "max_all_ties": (lambda m, x: (x * x).max() * x.min(), [TIES]),
    "max_dim_values": (lambda m, x: x.max(1).values ** 3 + (x.min(-2, keepdim=True)[0] ** 2).sum(), [X]),
    "cumsum": (lambda m, x: x.cumsum(-1) ** 3 + x.cumsum(0) ** 2, [X]),
    "getitem_basic": (lambda m, x: x[1:, ::2] ** 3 + x[-1, None, 1] ** 2, [X]),
    "getitem_duplicates": (lambda m, x: x[m.tensor([0, 2, 0, 0])] ** 3, [X]),
    "getitem_mixed_advanced": (lambda m, x: x[m.tensor([2, 0, 2]), 1:3] ** 3 + x[:, m.tensor([1, 1])] ** 2, [X]),
    "getitem_mask": (lambda m, x: x[x.detach() > 0] ** 3, [X]),
    "gather_index_select": (lambda m, x: x.gather(0, m.tensor([[2, 0, 0, 1]])) ** 3
                            + (x.index_select(1, m.tensor([3, 3, 0])) ** 2).sum(), [X]),
    "index_put": (_put, [X, R.standard_normal(2)]),
    "setitem_mask_broadcast": (_setitem_mask, [X, R.standard_normal(4)]),
    "scatter_add_index_add_duplicates": (_scatter, [X, R.standard_normal((2, 4))]),
    "matmul_2d": (lambda m, a, b: (a @ b) ** 3, [R.standard_normal((2, 3)), R.standard_normal((3, 4))]),
    "matmul_broadcast_batch": (lambda m, a, b: (a @ b) ** 2 * (a @ b).sum(),
                               [R.standard_normal((2, 1, 2, 3)), R.standard_normal((3, 3, 2))]),
    "matmul_vectors": (lambda m, a, b, c: (a @ b) ** 3 + (a @ c) ** 2 + (c @ a).sum() ** 2,
                       [R.standard_normal(3), R.standard_normal(3), R.standard_normal((2, 3, 3))]),
    "einsum_contract": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b) ** 3,
                        [R.standard_normal((2, 2, 3)), R.standard_normal((2, 3, 2))]),
    "einsum_diagonal_sum": (lambda m, a, b: m.einsum("iij,j->i", a, b) ** 3 + m.einsum("ij->", a[0]) ** 2,
                            [R.standard_normal((3, 3, 2)), R.standard_normal(2)]),
    "einsum_ellipsis": (lambda m, a, b: m.einsum("...ij,...jk", a, b) ** 2,
                        [R.standard_normal((2, 1, 2, 3)), R.standard_normal((3, 3, 2))]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_third_derivatives_match_torch(name):
    fn, arrays = CASES[name]
    check_orders(fn, arrays, order=3)


def test_matmul_hessian_vector_product_matches_torch_for_a_linear_layer():
    """A small MLP loss differentiated twice wrt its weight (the Hessian-vector products of training)."""
    import torch

    x, w, v = R.standard_normal((5, 4)), R.standard_normal((3, 4)), R.standard_normal((3, 4))

    def hvp(m):
        W = m.tensor(w, requires_grad=True)
        loss = ((m.tensor(x) @ W.T).tanh() ** 2).sum()
        (g,) = m.autograd.grad(loss, W, create_graph=True)
        (h,) = m.autograd.grad((g * m.tensor(v)).sum(), W)
        return h.detach().numpy()

    np.testing.assert_allclose(hvp(tg), hvp(torch), rtol=1e-9, atol=1e-12)
