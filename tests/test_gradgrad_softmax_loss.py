"""softmax / log_softmax and the losses differentiated twice: gradgradcheck cases for their primitives
(GRADGRAD_CASES, collected by test_gradgradcheck.py) and second derivatives vs torch 2.13 in float64 for every
loss of nn.functional.loss with its options (weights, ignore_index, label_smoothing, reductions)."""
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from gradgrad_torch import check_grad2
from tinygrad_cnn.ops.loss import ClassGather, ClassScatter

gradgradcheck = tg.autograd.gradgradcheck
REDUCTIONS = ["none", "mean", "sum"]


def rand(*shape, seed=0, lo=None, hi=None):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) if lo is None else rng.uniform(lo, hi, shape)


def t64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


_T = np.array([[0, 3], [2, -100], [4, 1]])           # (N=3, d=2) class indices, one ignored
_W = tg.tensor(rand(5, seed=1, lo=0.5, hi=2.0))      # class weights (constants)
_T2 = np.array([3, -100, 0, 4])                      # (N=4,) for (N, C) inputs: their one-fancy-index path

def _grad_of(f):
    """x -> d f(x) / dx, recorded: its gradgradcheck checks third derivatives of f."""
    def grad(x):
        with tg.enable_grad():  # gradgradcheck evaluates outputs under no_grad
            return tg.autograd.grad(f(x), x, create_graph=True)[0]

    return grad


GRADGRAD_CASES = [
    ("softmax dim 1", lambda x: F.softmax(x, 1), (t64(rand(3, 4, 2)),)),
    ("log_softmax dim -1", lambda x: F.log_softmax(x, -1), (t64(rand(3, 4, 2)),)),
    ("softmax 0-d", lambda x: F.softmax(x, 0), (t64(rand()),)),
    ("cross_entropy weighted ignore smoothed",
     lambda x: F.cross_entropy(x, tg.tensor(_T), _W, ignore_index=-100, label_smoothing=0.2), (t64(rand(3, 5, 2)),)),
    ("cross_entropy none", lambda x: F.cross_entropy(x, tg.tensor(_T), reduction="none"), (t64(rand(3, 5, 2)),)),
    ("cross_entropy probabilities", lambda x: F.cross_entropy(x, F.softmax(tg.tensor(rand(3, 5, seed=2)), 1),
                                                              _W, label_smoothing=0.1), (t64(rand(3, 5)),)),
    ("nll_loss weighted", lambda x: F.nll_loss(F.log_softmax(x, 1), tg.tensor(_T), _W), (t64(rand(3, 5, 2)),)),
    ("binary_cross_entropy weighted", lambda x, t: F.binary_cross_entropy(x, t, tg.tensor(rand(4, 3, seed=3))),
     (t64(rand(4, 3, lo=0.1, hi=0.9)), t64(rand(4, 3, seed=1, lo=0, hi=1)))),
    ("cross_entropy 3rd order", _grad_of(lambda x: F.cross_entropy(x, tg.tensor(_T), _W, label_smoothing=0.2)),
     (t64(rand(3, 5, 2)),)),
    ("log_softmax 3rd order", _grad_of(lambda x: (F.log_softmax(x, 1) ** 2).sum()), (t64(rand(3, 4)),)),
    ("softmax 3rd order", _grad_of(lambda x: (F.softmax(x, 0) ** 2).sum()), (t64(rand(3, 4)),)),
    ("ClassScatter", lambda v: ClassScatter.apply(v, _T.clip(0), (3, 5, 2)), (t64(rand(3, 2)),)),
    ("ClassGather", lambda x: ClassGather.apply(x, _T.clip(0)), (t64(rand(3, 5, 2)),)),
    ("cross_entropy 2-D weighted ignore smoothed",
     lambda x: F.cross_entropy(x, tg.tensor(_T2), _W, label_smoothing=0.2), (t64(rand(4, 5)),)),
    ("nll_loss 2-D", lambda x: F.nll_loss(F.log_softmax(x, 1), tg.tensor(_T2)), (t64(rand(4, 5)),)),
    ("ClassScatter 2-D", lambda v: ClassScatter.apply(v, _T2.clip(0), (4, 5)), (t64(rand(4)),)),
    ("ClassGather 2-D", lambda x: ClassGather.apply(x, _T2.clip(0)), (t64(rand(4, 5)),)),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_softmax_loss_gradgradcheck(case):
    name, fn, inputs, *kwargs = case
    assert gradgradcheck(fn, inputs, **(kwargs[0] if kwargs else {}))


@pytest.mark.parametrize("shape, dim", [((4, 5), 1), ((3, 4, 2), 0), ((3, 4, 2), -1), ((2, 3, 2, 2), 1), ((5,), 0)])
def test_softmax_and_log_softmax_second_derivatives_match_torch(shape, dim):
    x = rand(*shape, seed=5) * 3
    check_grad2(lambda m, x: m.nn.functional.softmax(x, dim), [x])
    check_grad2(lambda m, x: m.nn.functional.log_softmax(x, dim), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_class_indices_second_derivatives_match_torch(reduction, weighted, label_smoothing):
    x, w = rand(3, 5, 2, seed=6) * 2, rand(5, seed=7, lo=0.5, hi=2.0)
    extra = [w] if weighted else []
    for ignore in (-100, 3):  # the default (one position holds it) and a real class
        check_grad2(lambda m, x, t, *w: m.nn.functional.cross_entropy(
            x, t, *w, ignore_index=ignore, reduction=reduction, label_smoothing=label_smoothing),
            [x, np.where(_T < 0, ignore, _T)] + extra, const=(2,))
    check_grad2(lambda m, x, t: m.nn.functional.cross_entropy(x, t, reduction=reduction,
                                                             label_smoothing=label_smoothing),
                [rand(5, seed=8), np.array(2)])  # unbatched (C) input


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets_second_derivatives_match_torch(reduction, label_smoothing):
    x, w = rand(3, 5, 2, seed=9), rand(5, seed=10, lo=0.5, hi=2.0)
    q = np.exp(rand(3, 5, 2, seed=11))
    q /= q.sum(1, keepdims=True)
    check_grad2(lambda m, x, q, w: m.nn.functional.cross_entropy(
        x, q, w, reduction=reduction, label_smoothing=label_smoothing), [x, q, w], const=(2,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_second_derivatives_match_torch(reduction):
    x, w = rand(3, 5, 2, seed=12), rand(5, seed=13, lo=0.5, hi=2.0)
    check_grad2(lambda m, x, t, w: m.nn.functional.nll_loss(x, t, w, ignore_index=3, reduction=reduction),
                [x, _T.clip(0), w], const=(2,))
    check_grad2(lambda m, x, t: m.nn.functional.nll_loss(m.nn.functional.log_softmax(x, 1), t, reduction=reduction),
                [x, _T])


def test_all_ignored_mean_has_zero_derivatives_as_torch():
    t = np.full((3, 2), -100)
    x = t64(rand(3, 5, 2, seed=14))
    (g,) = tg.autograd.grad(F.cross_entropy(x, tg.tensor(t)), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), 0)
    assert g.requires_grad  # still differentiable (to zero)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # kl_div's torch warning
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_losses_second_derivatives_match_torch(reduction):
    x, t = rand(4, 3, seed=15), rand(4, 3, seed=16)
    w = rand(4, 3, seed=17, lo=0.5, hi=2.0)
    p, q = rand(4, 3, seed=18, lo=0.05, hi=0.95), rand(4, 3, seed=19, lo=0.0, hi=1.0)
    logq = np.log(q + 0.1)
    f = lambda m: m.nn.functional  # noqa: E731
    cases = [
        (lambda m, x, t, w: f(m).mse_loss(x, t, reduction=reduction, weight=w), [x, t, w]),
        (lambda m, x, t, w: f(m).l1_loss(x, t, reduction=reduction, weight=w), [x, t, w]),
        (lambda m, x, t: f(m).smooth_l1_loss(x, t, reduction=reduction, beta=0.7), [x, t]),
        (lambda m, x, t: f(m).smooth_l1_loss(x, t, reduction=reduction, beta=0.0), [x, t]),
        (lambda m, x, t, w: f(m).huber_loss(x, t, reduction=reduction, delta=0.6, weight=w), [x, t, w]),
        (lambda m, p, q, w: f(m).binary_cross_entropy(p, q, w, reduction=reduction), [p, q, w]),
        (lambda m, x, q, w, pw: f(m).binary_cross_entropy_with_logits(x, q, w, reduction=reduction, pos_weight=pw),
         [x, q, w, rand(3, seed=20, lo=0.5, hi=2.0)]),
        (lambda m, x, q: f(m).kl_div(x, q, reduction=reduction), [x, q]),
        (lambda m, x, lq: f(m).kl_div(x, lq, reduction=reduction, log_target=True), [x, logq]),
    ]
    for fn, arrays in cases:
        weights = tuple(range(2, len(arrays))) if "binary" in repr(fn.__code__.co_names) else ()
        check_grad2(fn, arrays, const=weights)


def test_kl_div_batchmean_second_derivatives_match_torch():
    q = rand(4, 3, seed=21, lo=0.0, hi=1.0)
    q[0, 0] = 0.0  # 0 log 0 = 0
    # the target is a constant here: torch's d/dtarget at target = 0 is nan (log 0), a first-order matter
    check_grad2(lambda m, x, q: m.nn.functional.kl_div(x, q, reduction="batchmean"), [rand(4, 3, seed=22), q],
                const=(1,))


def test_first_order_loss_gradients_stay_numpy_and_float32():
    x = tg.randn(8, 10, requires_grad=True)
    t = tg.tensor(np.arange(8) % 10)
    for y in (F.cross_entropy(x, t, label_smoothing=0.1), F.nll_loss(F.log_softmax(x, 1), t),
              F.binary_cross_entropy(F.softmax(x, 1), F.softmax(x.detach() * 2, 1))):
        (g,) = tg.autograd.grad(y, x)
        assert g.dtype == tg.float32 and not g.requires_grad


def test_cross_entropy_allows_changing_the_logits_in_place_after_the_loss_as_torch():
    """The loss keeps its softmax output, not the logits (as torch keeps log_softmax's output): an in-place change
    of the logits afterwards leaves backward, and create_graph second derivatives, intact."""
    torch = pytest.importorskip("torch")
    w = rand(4, 5, seed=23)
    t = np.array([0, 1, 4, 3])
    res = []
    for m in (tg, torch):
        wt = m.tensor(w, requires_grad=True)
        logits = wt * 2
        loss = m.nn.functional.cross_entropy(logits, m.tensor(t), label_smoothing=0.1)
        logits.mul_(3)
        (g,) = m.autograd.grad(loss, wt, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), wt)
        res.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-10, atol=1e-14)
