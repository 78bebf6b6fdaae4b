"""tinygrad_cnn.testing: assert_gradients_match, check_module_gradients and the pytest11 fixtures."""
import subprocess
import sys
import textwrap

import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn
from tinygrad_cnn.testing import assert_gradients_match, check_module_gradients


class BadSquare(tg.autograd.Function):
    """x**2 with the factor 2 forgotten in backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class Scale(nn.Module):
    def __init__(self, bad=False):
        super().__init__()
        self.weight = nn.Parameter(tg.randn(4))
        self.bad = bad

    def forward(self, x):
        h = x * self.weight
        return BadSquare.apply(h) if self.bad else h * h


def test_assert_gradients_match_passes_on_correct_ops():
    a = tg.randn(3, 2, requires_grad=True)
    b = tg.randn(2, requires_grad=True)
    assert_gradients_match(lambda a, b: (a * b).exp() / (1 + b * b), a, b)
    assert_gradients_match(lambda a: a.tanh().sum(), a)


def test_failure_names_input_element_and_both_values():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(lambda c, x: c * BadSquare.apply(x).sum(), tg.tensor(1.0), x)
    msg = str(info.value)
    assert "3 elements off" in msg and "d output / d input" in msg
    rows = [line.split() for line in msg.splitlines()[2:]]
    worst = rows[0]  # sorted by |diff|: input 1, element 2, analytic 3 (g*x) against numeric 6 (2x)
    assert worst[:3] == ["1", "(3,)", "(2,)"]
    assert float(worst[3]) == pytest.approx(3.0) and float(worst[4]) == pytest.approx(6.0, rel=1e-6)
    assert [r[2] for r in rows] == ["(2,)", "(1,)", "(0,)"]


def test_no_differentiable_input_is_an_error():
    with pytest.raises(ValueError, match="requires_grad"):
        assert_gradients_match(lambda a: a * 2, tg.randn(3))


def test_check_module_gradients_passes_and_reports_bad_nodes():
    tg.manual_seed(0)
    report = check_module_gradients(Scale(), tg.randn(2, 4))
    assert report.passed and {r.op for r in report.rows} >= {"MulBackward0"}
    with pytest.raises(AssertionError) as info:
        check_module_gradients(Scale(bad=True), tg.randn(2, 4))
    assert "BadSquareBackward" in str(info.value) and "ERROR" in str(info.value)
    assert "Scale" in str(info.value)


def test_check_module_gradients_restores_parameters():
    tg.manual_seed(0)
    m = Scale()
    before = m.weight._data
    check_module_gradients(m, tg.randn(2, 4), loss_fn=lambda out: out.sum())
    assert m.weight._data is before and m.weight.dtype == tg.float32


def _plugin_installed():
    from importlib.metadata import entry_points

    return any(ep.value == "tinygrad_cnn.testing" for ep in entry_points(group="pytest11"))


@pytest.mark.skipif(not _plugin_installed(), reason="package not installed (pip install -e .): no pytest11 entry point")
def test_pytest_plugin_fixtures(tmp_path):
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(textwrap.dedent("""
        import tinygrad_cnn as tg

        def test_fixtures(assert_gradients, check_module, graph_check, tg_seed):
            assert tg_seed == 0
            x = tg.randn(3, requires_grad=True)
            assert_gradients(lambda x: (x * x).sum(), x)
            assert graph_check(lambda: (x.exp() * 2).sum()).passed
            class Scale(tg.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.weight = tg.nn.Parameter(tg.randn(2))
                def forward(self, x):
                    return (x * self.weight).tanh()
            assert check_module(Scale(), tg.randn(3, 2)).passed

        def test_reads_like_a_diff(assert_gradients):
            class Bad(tg.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    return x * 3
                @staticmethod
                def backward(ctx, g):
                    return g * 2
            assert_gradients(lambda x: Bad.apply(x).sum(), tg.randn(2, requires_grad=True))
    """))
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    out = res.stdout + res.stderr
    assert "1 failed, 1 passed" in out, out
    assert "analytic" in out and "numeric" in out and "fixture 'assert_gradients' not found" not in out
