"""tg.linalg against torch.linalg (float64): values, gradients, second derivatives (create_graph) and
gradcheck / gradgradcheck for vector_norm, matrix_norm, norm, inv, solve, det, slogdet, qr, svd, svdvals, eigh,
eigvalsh; errors as torch. Eigen/singular vectors are compared through sign-invariant functions (V * V, U * U),
since LAPACK may return either sign."""
import numpy as np
import pytest

import tinygrad_cnn as tg
from gradgrad_torch import check_grad2
from parity import check_parity

torch = pytest.importorskip("torch")
R = np.random.default_rng(5)
INF = float("inf")


def well_conditioned(*batch, n=3):
    return R.standard_normal((*batch, n, n)) + 3 * np.eye(n)


def spd_distinct(n=3):
    q, _ = np.linalg.qr(R.standard_normal((n, n)))
    return q @ np.diag(np.arange(1.0, n + 1) * 1.5) @ q.T


def sym(a):
    return (a + a.mT) * 0.5  # eigh reads one triangle: differentiate a symmetric function of all entries


def t(arr):
    return tg.tensor(arr, dtype=tg.float64, requires_grad=True)


# --- norms ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, INF, -INF, 0])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_vector_norm_matches_torch(ord, dim):
    x = R.standard_normal((2, 3, 4))
    x[0, 1] = 0.0  # a zero row: the gradient there is torch's subgradient
    check_parity(lambda m, a: m.linalg.vector_norm(a, ord, dim), [x])
    check_parity(lambda m, a: m.linalg.vector_norm(a, ord, dim, keepdim=True), [x])


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, INF, -INF])
def test_matrix_norm_matches_torch(ord):
    x = R.standard_normal((2, 3, 4))
    check_parity(lambda m, a: m.linalg.matrix_norm(a, ord), [x])
    check_parity(lambda m, a: m.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True), [x])


@pytest.mark.parametrize("call", [
    lambda m, a: m.linalg.norm(a),
    lambda m, a: m.linalg.norm(a[0]),
    lambda m, a: m.linalg.norm(a[0], "fro"),
    lambda m, a: m.linalg.norm(a, 3, dim=-1),
    lambda m, a: m.linalg.norm(a[0, 0], INF),
    lambda m, a: m.linalg.norm(a, "nuc", dim=(1, 2)),
    lambda m, a: m.norm(a, p="nuc", dim=(1, 2)) + a.norm(p=2, dim=(1, 2)),
    lambda m, a: m.linalg.vector_norm(a, dtype=m.float64),
])
def test_norm_dispatch_matches_torch(call):
    check_parity(call, [R.standard_normal((2, 3, 4))])


def test_norm_second_derivatives_match_torch_and_stay_finite_at_zero():
    x = np.array([[0.0, 0, 0], [1, -2, 2]])
    for f in (lambda m, a: m.linalg.vector_norm(a, dim=1) * a.sum(1), lambda m, a: m.linalg.vector_norm(a, 3, dim=1),
              lambda m, a: a.std(1) * a.sum(1)):
        check_grad2(f, [x[1:]])  # away from 0: torch's numbers
        a = tg.tensor(x, requires_grad=True)
        (g,) = tg.autograd.grad(f(tg, a).sum(), a, create_graph=True)
        (h,) = tg.autograd.grad((g * g).sum(), a)
        assert np.isfinite(h.numpy()).all() and (h.numpy()[0] == 0).all()  # torch: NaN on the zero row


def test_norm_errors_like_torch():
    for op, match in ((lambda m: m.linalg.vector_norm(m.ones(3, dtype=m.int64)), "floating point"),
                      (lambda m: m.linalg.vector_norm(m.ones(0), INF), "empty tensor"),
                      (lambda m: m.linalg.matrix_norm(m.ones(3)), "at least 2 dimensions"),
                      (lambda m: m.linalg.norm(m.ones(2, 2, 2), 2), "1D or 2D")):
        with pytest.raises(RuntimeError):
            op(torch)
        with pytest.raises(RuntimeError, match=match):
            op(tg)


# --- solvers and decompositions ---------------------------------------------------------------------------------
DECOMP = {
    "inv": (lambda m, a: m.linalg.inv(a), [well_conditioned(2)]),
    "solve_matrix": (lambda m, a, b: m.linalg.solve(a, b), [well_conditioned(2), R.standard_normal((2, 3, 2))]),
    "solve_vector": (lambda m, a, b: m.linalg.solve(a, b), [well_conditioned(), R.standard_normal(3)]),
    "solve_broadcast": (lambda m, a, b: m.linalg.solve(a, b), [well_conditioned(), R.standard_normal((4, 3, 2))]),
    "solve_right": (lambda m, a, b: m.linalg.solve(a, b, left=False), [well_conditioned(), R.standard_normal((2, 3))]),
    "det": (lambda m, a: m.linalg.det(a), [well_conditioned(2)]),
    "det_negative": (lambda m, a: m.linalg.det(a), [well_conditioned()[::-1].copy()]),
    "slogdet": (lambda m, a: m.linalg.slogdet(a), [well_conditioned(2)]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [R.standard_normal((2, 4, 3))]),
    "svd_wide": (lambda m, a: (lambda u, s, vh: (u * u, s, vh * vh))(*m.linalg.svd(a, full_matrices=False)),
                 [R.standard_normal((3, 5))]),
    "svd_tall": (lambda m, a: (lambda u, s, vh: (u * u, s, vh * vh))(*m.linalg.svd(a, full_matrices=False)),
                 [R.standard_normal((2, 5, 3))]),
    "svd_full": (lambda m, a: (lambda u, s, vh: (u[..., :3] ** 2, s))(*m.linalg.svd(a)), [R.standard_normal((4, 3))]),
    "qr_tall": (lambda m, a: m.linalg.qr(a), [R.standard_normal((2, 5, 3))]),
    "qr_square": (lambda m, a: m.linalg.qr(a, mode="complete"), [R.standard_normal((3, 3))]),
    "qr_wide": (lambda m, a: m.linalg.qr(a), [R.standard_normal((2, 3, 5))]),
    "qr_wide_complete": (lambda m, a: m.linalg.qr(a, mode="complete"), [R.standard_normal((3, 4))]),
    "eigh": (lambda m, a: (lambda l, v: (l, v * v))(*m.linalg.eigh(sym(a))), [spd_distinct(4)]),
    "eigh_upper": (lambda m, a: m.linalg.eigvalsh(a, UPLO="U"), [spd_distinct(3)]),
}


@pytest.mark.parametrize("name", list(DECOMP))
def test_decompositions_match_torch(name):
    fn, arrays = DECOMP[name]
    check_parity(fn, arrays, atol=1e-9)


@pytest.mark.parametrize("name", ["inv", "solve_matrix", "solve_broadcast", "det", "slogdet", "svd_tall", "qr_tall",
                                  "qr_wide", "eigh", "svdvals"])
def test_second_derivatives_match_torch(name):
    fn, arrays = DECOMP[name]
    single = lambda m, *xs: (lambda out: out if not isinstance(out, tuple) else  # noqa: E731
                             sum((o * (k + 1.0)).sum() for k, o in enumerate(out) if o.dtype == m.float64))(fn(m, *xs))
    check_grad2(single, arrays, atol=1e-8, rtol=1e-6)


def test_qr_mode_r_and_the_tall_complete_gradient():
    a = R.standard_normal((3, 5))
    assert np.allclose(np.abs(tg.linalg.qr(tg.tensor(a), mode="r").R.numpy()),
                       np.abs(torch.linalg.qr(torch.tensor(a), mode="r").R.numpy()))
    for m in (tg, torch):  # no derivative of a tall 'complete' QR, in torch either
        q, r = m.linalg.qr(m.tensor(a.T.copy(), requires_grad=True), mode="complete")
        with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
            (q.sum() + r.sum()).backward()


@pytest.mark.parametrize("op,match", [
    (lambda m: m.linalg.inv(m.zeros(3, 3, dtype=m.float64)), "singular"),
    (lambda m: m.linalg.inv(m.ones(2, 3, dtype=m.float64)), "square"),
    (lambda m: m.linalg.solve(m.eye(3, dtype=m.float64), m.ones(4, 2, dtype=m.float64)), "Incompatible shapes"),
    (lambda m: m.linalg.det(m.ones(3, dtype=m.float64)), "at least 2 dimensions"),
    (lambda m: m.linalg.eigh(m.eye(2, dtype=m.float64), UPLO="X"), "UPLO"),
    (lambda m: m.linalg.qr(m.eye(2, dtype=m.float64), mode="full"), "mode"),
    (lambda m: m.linalg.svd(m.ones(3, 3, dtype=m.int64)), "floating"),
])
def test_decomposition_errors_like_torch(op, match):
    with pytest.raises(Exception) as theirs:
        op(torch)
    kind = type(theirs.value)
    kind = tg.linalg.LinAlgError if kind is torch.linalg.LinAlgError else kind  # both RuntimeErrors
    with pytest.raises(kind, match=match):
        op(tg)


# --- gradcheck / gradgradcheck (the tables the coverage tests read) ------------------------------------------------
GRADGRAD_CASES = [
    ("linalg_solve", lambda a, b: tg.linalg.solve(a, b), [t(well_conditioned(2)), t(R.standard_normal((2, 3, 2)))]),
    ("linalg_inv_det", lambda a: tg.linalg.inv(a) * tg.linalg.det(a)[..., None, None], [t(well_conditioned())]),
    ("linalg_slogdet", lambda a: tg.linalg.slogdet(a).logabsdet, [t(well_conditioned(2))]),
    ("linalg_eigh", lambda a: (lambda l, v: (l, v * v))(*tg.linalg.eigh(sym(a))), [t(spd_distinct(3))]),
    ("linalg_svd", lambda a: (lambda u, s, vh: (u * u, s, vh * vh))(*tg.linalg.svd(a, full_matrices=False)),
     [t(R.standard_normal((4, 3)))]),
    ("linalg_svd_wide", lambda a: (lambda u, s, vh: (u * u, s, vh * vh))(*tg.linalg.svd(a, full_matrices=False)),
     [t(R.standard_normal((2, 4)))]),
    ("linalg_qr", lambda a: tg.linalg.qr(a), [t(R.standard_normal((4, 3)))]),
    ("linalg_qr_wide", lambda a: tg.linalg.qr(a), [t(R.standard_normal((2, 4)))]),
    ("linalg_norms", lambda a: tg.linalg.vector_norm(a, 3, dim=1) + tg.linalg.matrix_norm(a, "nuc"),
     [t(R.standard_normal((3, 3)))]),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradcheck_and_gradgradcheck(case):
    name, fn, inputs = case
    assert tg.autograd.gradcheck(fn, inputs)
    assert tg.autograd.gradgradcheck(fn, inputs)
