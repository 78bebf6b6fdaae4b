"""tg.autograd.check_graph: node-by-node float64 replay finds a planted wrong backward and names it, passes clean
models, and tells kinks and float32 ops apart from errors."""
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn
from viz_dot import parse_dot


class BadReLUFn(tg.autograd.Function):
    """ReLU whose backward scales the gradient by 1.1: the planted bug."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0) * 1.1


class BadReLU(nn.Module):
    def forward(self, x):
        return BadReLUFn.apply(x)


def lenet5():
    """tg.models' LeNet-5 when present; else the same network from tg.nn layers."""
    if hasattr(tg.models, "annt_lenet5"):
        return tg.models.annt_lenet5()
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 16, 5, connection_table=nn.LENET5_C3_TABLE), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(), nn.Linear(120, 10), nn.LogSoftmax(dim=1))


def _lenet_batch():
    tg.manual_seed(0)
    return lenet5(), tg.randn(2, 1, 32, 32), tg.tensor([3, 7])


def test_clean_lenet5_passes_every_node():
    model, x, y = _lenet_batch()
    report = tg.autograd.check_graph(lambda: F.nll_loss(model(x), y))
    assert report.passed, str(report)
    assert len(report.rows) >= 11 and all(r.verdict == "ok" for r in report.rows)
    conv0 = next(r for r in report.rows if r.module == "0 (Conv2d)" and "Conv" in r.op)
    assert set(conv0.params) == {"0.weight", "0.bias"}
    assert all(r.max_abs_err < 1e-6 for r in report.rows)


def test_planted_wrong_backward_in_lenet5_is_found_and_named():
    model, x, y = _lenet_batch()
    model[4] = BadReLU()  # the ReLU after C3
    with tg.autograd.graph_recording():
        loss = F.nll_loss(model(x), y)
    report = tg.autograd.check_graph(loss)
    assert not report.passed
    (bad,) = report.failures
    assert bad.op == "BadReLUFnBackward" and bad.module == "4 (BadReLU)" and bad.verdict == "error"
    assert bad.where == "BadReLUFnBackward in 4 (BadReLU)"
    assert 0.05 < bad.max_rel_err < 0.2  # the 1.1 factor
    text = str(report)
    assert "ERROR" in text and "first failing node (forward order): #" in text and "4 (BadReLU)" in text
    # nodes before and after it still pass: the error is local, not smeared downstream
    assert sum(r.passed for r in report.rows) == len(report.rows) - 1
    dot = parse_dot(report.draw().source)
    (red,) = [n for n in dot.nodes if dot.nodes[n].get("fillcolor") == "#E03030"]
    assert dot.lines(red)[0] == "BadReLUFnBackward" and dot.lines(red)[-1].startswith("error")
    assert any(dot.lines(n)[-1].startswith("ok") for n in dot.nodes)


def test_full_mode_names_the_element():
    tg.manual_seed(0)
    x = tg.randn(3, 4, requires_grad=True)
    report = tg.autograd.check_graph(lambda: (BadReLUFn.apply(x + 5.0) * 2).sum(), fast_mode=False)
    (bad,) = report.failures
    assert "element (" in bad.detail and "analytic" in bad.detail
    assert bad.max_rel_err == pytest.approx(0.1 / 1.1, rel=1e-6)  # 1.1 v against v, on every element


def test_relu_of_relu_and_maxpool_ties_are_kinks_not_errors():
    tg.manual_seed(0)
    w = tg.randn(2, 3, 6, 6, requires_grad=True)
    report = tg.autograd.check_graph(lambda: F.max_pool2d(w.relu().relu(), 2).sum())
    assert report.passed, str(report)
    verdicts = [r.verdict for r in report.rows]
    assert verdicts.count("non-differentiable point") >= 1  # the second ReLU at exact zeros, the pool's ties
    assert "error" not in verdicts


def test_kink_within_eps_passes_at_a_smaller_eps():
    x = tg.full((8,), 3e-7, dtype=tg.float64, requires_grad=True)  # within eps=1e-6 of ReLU's kink, not on it
    report = tg.autograd.check_graph(lambda: (x.relu() * 3).sum())
    (relu,) = [r for r in report.rows if "elu" in r.op]
    assert relu.verdict == "ok at smaller eps" and relu.passed


def test_graph_without_recording_gives_a_clear_error():
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="graph_recording"):
        tg.autograd.check_graph((x * 2).sum())
    with pytest.raises(RuntimeError, match="no grad_fn"):
        tg.autograd.check_graph(tg.ones(3).sum())


def test_callable_with_inputs_and_inplace_change_after_the_op():
    w = tg.randn(4, requires_grad=True)
    report = tg.autograd.check_graph(lambda a, b: (a * w + b).tanh().sum(), tg.randn(4), tg.randn(4))
    assert report.passed and len(report.rows) == 4
    with tg.autograd.graph_recording():
        a = w * 2
        b = a.exp()
        a.add_(1.0)  # a's array changes after Exp recorded it
        loss = b.sum()
    rows = {r.op: r for r in tg.autograd.check_graph(loss).rows}
    assert rows["ExpBackward0"].verdict == "skipped" and "in place" in rows["ExpBackward0"].detail


class HalfPrecisionTriple(tg.autograd.Function):
    """3x computed in float32 whatever the input dtype (a float32-only kernel)."""

    @staticmethod
    def forward(ctx, x):
        return x.float() * 3

    @staticmethod
    def backward(ctx, g):
        return g * 3


class Noisy(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x + tg.randn(*x.shape, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return g


def test_float32_ops_get_loose_tolerance_and_random_ops_are_skipped():
    x = tg.randn(5, requires_grad=True)
    report = tg.autograd.check_graph(lambda: (HalfPrecisionTriple.apply(x) ** 2).sum())
    (row,) = [r for r in report.rows if r.op.startswith("HalfPrecision")]
    assert row.verdict == "float32 tolerance" and report.passed
    tg.manual_seed(5)
    with tg.autograd.graph_recording():
        loss = Noisy.apply(x).sum()
    expected_next = tg.randn(3).numpy()
    tg.manual_seed(5)
    with tg.autograd.graph_recording():
        loss = Noisy.apply(x).sum()
    report = tg.autograd.check_graph(loss)
    (row,) = [r for r in report.rows if r.op.startswith("Noisy")]
    assert row.verdict == "skipped" and "deterministic" in row.detail
    np.testing.assert_array_equal(tg.randn(3).numpy(), expected_next)  # check_graph left the RNG alone


def test_error_only_on_some_elements_is_caught_in_fast_mode():
    class WrongAboveOne(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x * np.where(x.numpy() > 1.0, 1.01, 1.0)

    x = tg.tensor([0.1, -0.3, 0.5, 2.0, -0.7], requires_grad=True)
    report = tg.autograd.check_graph(lambda: WrongAboveOne.apply(x).sum())
    assert [r.op for r in report.failures] == ["WrongAboveOneBackward"]


# --- property tests: random programs of smooth ops -------------------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

UNARY = {"tanh": lambda a: a.tanh(), "sin": lambda a: a.sin(), "sigmoid": lambda a: a.sigmoid()}
BINARY = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b}
PROGRAMS = st.tuples(st.integers(1, 3), st.lists(st.tuples(st.sampled_from(sorted(UNARY) + sorted(BINARY)),
                                                           st.integers(0, 50), st.integers(0, 50)),
                                                 min_size=1, max_size=8))


def _run(program, leaves):
    """Apply the program to the leaves; returns the output and, per pool entry, the entries it read."""
    _, steps = program
    pool, reads = list(leaves), [()] * len(leaves)
    for name, i, j in steps:
        a, b = i % len(pool), j % len(pool)
        if name in UNARY:
            pool.append(UNARY[name](pool[a]))
            reads.append((a,))
        else:
            pool.append(BINARY[name](pool[a], pool[b]))
            reads.append((a, b))
    return pool[-1].sum(), reads


@given(PROGRAMS)
def test_random_programs_draw_one_node_per_reachable_op(program):
    leaves = [tg.randn(3, requires_grad=True) for _ in range(program[0])]
    out, reads = _run(program, leaves)
    reached, stack = set(), [len(reads) - 1]
    while stack:
        k = stack.pop()
        if k not in reached:
            reached.add(k)
            stack.extend(reads[k])
    ops = [k for k in reached if reads[k]]
    used_leaves = [k for k in reached if not reads[k]]
    pairs = {(src, k) for k in ops for src in reads[k]}
    dot = parse_dot(tg.viz.draw_graph(out).source)
    assert len(dot.nodes) == len(ops) + 1 + len(used_leaves) + 1  # ops, the final sum, leaves, the output
    assert len(dot.edges) == len(pairs) + 1 + 1  # one edge per distinct (input, op), last op -> sum -> output


@given(PROGRAMS)
def test_check_graph_never_flags_correct_smooth_ops(program):
    leaves = [tg.randn(4, dtype=tg.float64, requires_grad=True) for _ in range(program[0])]
    report = tg.autograd.check_graph(lambda: _run(program, leaves)[0])
    assert report.passed and all(r.verdict == "ok" for r in report.rows), str(report)
