"""Elementwise primitives against torch (float64): forward values and input gradients, with broadcasting,
size-1 and size-0 dims; scalar operands on both sides; tie handling of maximum/minimum/clamp; comparisons."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from core_helpers import away_from_zero, broadcast_pairs, normal, positive, seeds, shapes, with_ties
from parity import check_parity

torch = pytest.importorskip("torch")

BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "add_fn": lambda m, a, b: m.add(a, b),
    "sub_method": lambda m, a, b: a.sub(b),
    "mul_fn": lambda m, a, b: m.mul(a, b),
    "div_method": lambda m, a, b: a.div(b),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(pair=broadcast_pairs(), seed=seeds)
def test_binary_broadcasting(name, pair, seed):
    sa, sb = pair
    check_parity(BINARY[name], [normal(sa, seed), away_from_zero(sb, seed + 1)])


@given(pair=broadcast_pairs(), seed=seeds)
def test_pow_tensor_tensor(pair, seed):
    sa, sb = pair
    check_parity(lambda m, a, b: a ** b, [positive(sa, seed), normal(sb, seed + 1)])
    check_parity(lambda m, a, b: m.pow(a, b), [positive(sa, seed), normal(sb, seed + 1)])


SCALAR = {
    "x+s": lambda m, x: x + 2.5, "s+x": lambda m, x: 2.5 + x,
    "x-s": lambda m, x: x - 2.5, "s-x": lambda m, x: 2.5 - x,
    "x*s": lambda m, x: x * -1.5, "s*x": lambda m, x: -1.5 * x,
    "x/s": lambda m, x: x / 4.0, "s/x": lambda m, x: 4.0 / x,
    "x**2": lambda m, x: x ** 2, "x**3": lambda m, x: x ** 3, "x**-1.5": lambda m, x: x.abs() ** -1.5,
    "x**0": lambda m, x: x ** 0, "x**0.5": lambda m, x: x.abs() ** 0.5,
    "2**x": lambda m, x: 2 ** x, "0.5**x": lambda m, x: 0.5 ** x,
    "x+int": lambda m, x: x + 3, "int*x": lambda m, x: 3 * x, "x/int": lambda m, x: x / 3, "int/x": lambda m, x: 3 / x,
    "-x": lambda m, x: -x, "neg": lambda m, x: x.neg(), "m.neg": lambda m, x: m.neg(x),
}


@pytest.mark.parametrize("name", list(SCALAR))
@given(shape=shapes(), seed=seeds)
def test_scalar_operand_on_either_side(name, shape, seed):
    check_parity(SCALAR[name], [away_from_zero(shape, seed)])


UNARY = {
    "exp": (lambda m, x: x.exp(), normal),
    "m.exp": (lambda m, x: m.exp(x), normal),
    "log": (lambda m, x: x.log(), positive),
    "m.log": (lambda m, x: m.log(x), positive),
    "sqrt": (lambda m, x: x.sqrt(), positive),
    "m.sqrt": (lambda m, x: m.sqrt(x), positive),
    "abs": (lambda m, x: x.abs(), away_from_zero),
    "m.abs": (lambda m, x: m.abs(x), away_from_zero),
    "relu": (lambda m, x: x.relu(), away_from_zero),
    "m.relu": (lambda m, x: m.relu(x), away_from_zero),
    "sigmoid": (lambda m, x: x.sigmoid(), normal),
    "m.sigmoid": (lambda m, x: m.sigmoid(x), normal),
    "tanh": (lambda m, x: x.tanh(), normal),
    "m.tanh": (lambda m, x: m.tanh(x), normal),
    "sin": (lambda m, x: x.sin(), normal),
    "cos": (lambda m, x: x.cos(), normal),
    "square": (lambda m, x: x.square(), normal),
    "reciprocal": (lambda m, x: x.reciprocal(), away_from_zero),
    "rsqrt": (lambda m, x: x.rsqrt(), positive),
    "log1p": (lambda m, x: x.log1p(), positive),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(shape=shapes(), seed=seeds)
def test_unary(name, shape, seed):
    fn, make = UNARY[name]
    check_parity(fn, [make(shape, seed)])


def test_kinks_use_torch_subgradients():
    # relu'(0) = 0, |x|'(0) = 0: the exact values torch uses at the kink
    x = np.array([-1.0, 0.0, 2.0, -0.0])
    check_parity(lambda m, a: a.relu(), [x])
    check_parity(lambda m, a: a.abs(), [x])
    check_parity(lambda m, a: a ** 2, [x])
    check_parity(lambda m, a: a ** 0, [x])


def test_pow_edge_cases_at_zero():
    a = np.array([0.0, 0.0, 1.5, 2.0])
    b = np.array([0.0, 2.0, 0.0, 3.0])
    check_parity(lambda m, x, y: x ** y, [a, b])


def test_sigmoid_is_stable_for_large_inputs():
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    check_parity(lambda m, a: a.sigmoid(), [x])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        tg.tensor(x, dtype=tg.float32).sigmoid()


@given(shape=shapes(), seed=seeds, lo=st.sampled_from([None, -1.0, 0.0]), hi=st.sampled_from([None, 0.0, 1.0]))
def test_clamp_scalar_bounds_including_values_on_the_bounds(shape, seed, lo, hi):
    if lo is None and hi is None:
        return
    x = np.asarray(with_ties(shape, seed) / 2)
    check_parity(lambda m, a: a.clamp(lo, hi), [x])
    check_parity(lambda m, a: m.clamp(a, min=lo, max=hi), [x])


def test_clamp_min_max_and_clip_aliases():
    x = with_ties((4, 5), 3) / 2
    check_parity(lambda m, a: a.clamp_min(0.0), [x])
    check_parity(lambda m, a: a.clamp_max(0.5), [x])
    check_parity(lambda m, a: a.clip(-0.5, 0.5), [x])


@given(pair=broadcast_pairs(min_side=1), seed=seeds)
def test_clamp_tensor_bounds_ties_go_to_input(pair, seed):
    # torch: the gradient goes to x where min <= x <= max (ties included), to the bound where it is active
    sa, sb = pair
    check_parity(lambda m, x, lo: x.clamp(min=lo), [with_ties(sa, seed), with_ties(sb, seed + 1)])
    check_parity(lambda m, x, hi: x.clamp(max=hi), [with_ties(sa, seed), with_ties(sb, seed + 1)])


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="min.*max"):
        tg.ones(2).clamp()


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@given(pair=broadcast_pairs(), seed=seeds)
def test_maximum_minimum_split_ties_like_torch(op, pair, seed):
    sa, sb = pair
    check_parity(lambda m, a, b: getattr(m, op)(a, b), [with_ties(sa, seed), with_ties(sb, seed + 1)])
    check_parity(lambda m, a, b: getattr(a, op)(b), [with_ties(sa, seed), with_ties(sb, seed + 1)])


@given(shapes3=st.tuples(*[st.sampled_from([(), (1,), (3,), (2, 1), (2, 3), (0,), (2, 0)])] * 3), seed=seeds)
def test_where_broadcasts_condition_and_both_branches(shapes3, seed):
    sc, sa, sb = shapes3
    try:
        np.broadcast_shapes(sc, sa, sb)
    except ValueError:
        return
    cond = np.asarray(np.random.default_rng(seed).random(sc) > 0.5)
    check_parity(lambda m, c, a, b: m.where(c, a, b), [cond, normal(sa, seed), normal(sb, seed + 1)])
    check_parity(lambda m, c, a, b: a.where(c, b), [cond, normal(sa, seed), normal(sb, seed + 1)])


def test_where_with_scalar_branches_keeps_dtype():
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = tg.where(x > 0, x, 0.0)
    assert y.dtype == tg.float32
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    assert tg.where(x > 0, 1.0, x).dtype == tg.float32
    with pytest.raises(RuntimeError, match="boolean"):
        tg.where(tg.tensor([1, 0]), x[:2], x[:2])


def test_masked_fill():
    x = normal((3, 4), 0)
    mask = np.random.default_rng(1).random((4,)) > 0.5
    check_parity(lambda m, a, msk: a.masked_fill(msk, -1.5), [x, mask])


def test_composite_expression_matches_torch():
    rng = np.random.default_rng(0)
    check_parity(lambda m, a, b: ((a * b + a.exp()) / (b * b + 1)).tanh() - a.sigmoid() * 3,
                 [rng.standard_normal((3, 4)), rng.standard_normal((4,))])


def test_same_tensor_used_twice_accumulates():
    check_parity(lambda m, a: a * a + a / (a * a + 1), [normal((5,), 0)])


COMPARE = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
           "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
           "eq_m": lambda a, b: a.eq(b), "ge_m": lambda a, b: a.ge(b)}


@pytest.mark.parametrize("name", list(COMPARE))
@given(pair=broadcast_pairs(), seed=seeds)
def test_comparisons_are_bool_and_carry_no_grad(name, pair, seed):
    sa, sb = pair
    a, b = with_ties(sa, seed), with_ties(sb, seed + 1)
    ours = COMPARE[name](tg.tensor(a, requires_grad=True), tg.tensor(b))
    theirs = COMPARE[name](torch.tensor(a, requires_grad=True), torch.tensor(b))
    assert ours.dtype == tg.bool and not ours.requires_grad and ours.grad_fn is None
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    scalar = COMPARE[name](tg.tensor(a), 0.0)
    np.testing.assert_array_equal(scalar.numpy(), COMPARE[name](torch.tensor(a), 0.0).numpy())


def test_logical_ops_on_bool_tensors():
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    for op in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y, lambda x, y: ~x):
        np.testing.assert_array_equal(op(tg.tensor(a), tg.tensor(b)).numpy(),
                                      op(torch.tensor(a), torch.tensor(b)).numpy())


def test_binary_op_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
