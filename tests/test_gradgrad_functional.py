"""Composites of nn.functional differentiated twice vs torch 2.13 (float64): batch/layer/group norm in train and eval,
dropout and dropout2d (the same mask on both sides), pad modes, interpolate modes, embedding. They have no backward
of their own: these tests prove that every step stays on the tape (no numpy on a tensor's data, no detach in a
differentiable path). Linear composites are squared so their first derivative depends on the input."""
import numpy as np
import pytest

import tinygrad_cnn as tg
from gradgrad_torch import check_grad2


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _f(m):
    return m.nn.functional


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_second_derivatives_match_torch(training, affine):
    x = rand(4, 3, 2, 2, seed=1)
    mean, var = rand(3, seed=2), np.abs(rand(3, seed=3)) + 0.5

    def fn(m, x, *wb):
        rm, rv = m.tensor(mean), m.tensor(var)  # fresh buffers: training updates them in place
        return _f(m).batch_norm(x, rm, rv, *wb, training=training, momentum=0.2, eps=1e-3) ** 2

    check_grad2(fn, [x] + ([rand(3, seed=4), rand(3, seed=5)] if affine else []), atol=1e-8)
    if training:  # no running statistics at all (BatchNorm with track_running_stats=False)
        check_grad2(lambda m, x: _f(m).batch_norm(x, None, None, training=True) ** 2, [rand(5, 3, seed=6)],
                    atol=1e-8)


def test_layer_and_group_norm_second_derivatives_match_torch():
    x = rand(2, 4, 3, seed=7)
    check_grad2(lambda m, x, w, b: _f(m).layer_norm(x, (4, 3), w, b, eps=1e-4) ** 2,
                [x, rand(4, 3, seed=8), rand(4, 3, seed=9)], atol=1e-8)
    check_grad2(lambda m, x: _f(m).layer_norm(x, (3,)) ** 2, [x], atol=1e-8)
    check_grad2(lambda m, x, w, b: _f(m).group_norm(x, 2, w, b) ** 2,
                [rand(2, 4, 3, 2, seed=10), rand(4, seed=11), rand(4, seed=12)], atol=1e-8)


@pytest.mark.parametrize("name, shape", [("dropout", (4, 5)), ("dropout2d", (2, 4, 3, 3)), ("dropout1d", (2, 4, 5))])
def test_dropout_second_derivatives_with_the_same_mask_match_torch(name, shape):
    p = 0.4
    tg.manual_seed(21)
    probe = getattr(tg.nn.functional, name)(tg.ones(*shape), p)   # the mask the seed draws, scaled
    keep = probe.numpy()

    def fn(m, x):
        if m is tg:
            tg.manual_seed(21)
            return getattr(_f(m), name)(x, p) ** 2
        return (x * m.tensor(keep)) ** 2  # torch's dropout with that mask: x * mask / (1 - p)

    assert 0 < (keep == 0).sum() < keep.size  # the check compares both kept and dropped elements
    check_grad2(fn, [rand(*shape, seed=13)])


def test_inplace_dropout_differentiates_twice():
    tg.manual_seed(5)
    keep = tg.nn.functional.dropout(tg.ones(4, 5), 0.5).numpy()

    def fn(m, x):
        if m is tg:
            tg.manual_seed(5)
            return _f(m).dropout(x * 1.0, 0.5, inplace=True) ** 2
        return (x * m.tensor(keep)) ** 2

    check_grad2(fn, [rand(4, 5, seed=14)])


@pytest.mark.parametrize("mode, pad, shape", [
    ("reflect", (2, 1), (2, 3, 5)), ("reflect", (1, 2, 2, 1), (1, 2, 4, 5)),
    ("replicate", (3, 1, 0, 2), (1, 2, 4, 3)), ("replicate", (1, 1, 2, 0, 1, 1), (1, 1, 3, 2, 3)),
    ("circular", (2, 1, 1, 3), (1, 2, 4, 5)), ("circular", (-1, 2), (2, 2, 4)),
    ("constant", (1, -1, 2, 0), (1, 2, 3, 4)),
])
def test_pad_modes_second_derivatives_match_torch(mode, pad, shape):
    check_grad2(lambda m, x: _f(m).pad(x, pad, mode=mode) ** 2, [rand(*shape, seed=15)])


@pytest.mark.parametrize("mode, shape, kw", [
    ("nearest", (1, 2, 3, 4), dict(scale_factor=2)),
    ("nearest", (1, 2, 5), dict(size=7)),
    ("nearest-exact", (1, 2, 3, 4), dict(size=(5, 7))),
    ("linear", (1, 2, 5), dict(size=8, align_corners=True)),
    ("bilinear", (1, 2, 3, 4), dict(scale_factor=1.7)),
    ("bilinear", (1, 2, 3, 4), dict(size=(5, 2), align_corners=True)),
    ("trilinear", (1, 1, 2, 3, 2), dict(scale_factor=2)),
    ("area", (1, 2, 6, 5), dict(size=(3, 2))),
    ("area", (1, 2, 6, 4), dict(size=(3, 2))),
])
def test_interpolate_modes_second_derivatives_match_torch(mode, shape, kw):
    check_grad2(lambda m, x: _f(m).interpolate(x, mode=mode, **kw) ** 2, [rand(*shape, seed=16)])


@pytest.mark.parametrize("kw", [dict(), dict(padding_idx=1), dict(padding_idx=-2), dict(scale_grad_by_freq=True),
                                dict(padding_idx=3, scale_grad_by_freq=True)])
def test_embedding_second_derivatives_match_torch(kw):
    idx = np.array([[0, 1, 3], [3, 4, 1]])  # rows 1 and 3 repeat: scale_grad_by_freq halves their gradients
    check_grad2(lambda m, i, w: _f(m).embedding(i, w, **kw) ** 2, [idx, rand(5, 3, seed=17)])


_IDX = tg.tensor(np.array([[0, 1, 3], [3, 4, 1]]))
_U = tg.tensor(rand(2, 3, 3, seed=19))  # a constant upstream gradient: gradgradcheck then checks d2/dweight2 only

# scale_grad_by_freq: the weights' Hessian is exact (finite differences agree); the derivative with respect to the
# upstream gradient is torch's unscaled one (see ops/grad_scale.py), so the upstream gradient is a constant here
GRADGRAD_CASES = [
    ("embedding scale_grad_by_freq", lambda w: tg.nn.functional.embedding(_IDX, w, scale_grad_by_freq=True) ** 2,
     (tg.tensor(rand(5, 3, seed=17), requires_grad=True),), {"grad_outputs": (_U,)}),
]


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_functional_gradgradcheck(case):
    name, fn, inputs, *kwargs = case
    assert tg.autograd.gradgradcheck(fn, inputs, **(kwargs[0] if kwargs else {}))


def test_embedding_max_norm_second_derivatives_match_torch():
    idx = np.array([0, 2, 2, 4])
    w = rand(5, 3, seed=18) * 2

    def fn(m, i, w):
        table = w * 1.0  # renormalised in place (no grad, as torch): on a copy, so the leaf stays intact
        return _f(m).embedding(i, table, max_norm=1.5) ** 2

    check_grad2(fn, [idx, w])
