"""Anomaly mode: the flag API (as torch.autograd), creation sites, and NaN/Inf errors that let a user find the op."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import recording

nn = tg.nn


def _line() -> int:
    """The caller's line number (so a test can say where it created an op)."""
    return inspect.currentframe().f_back.f_lineno


@pytest.fixture(autouse=True)
def _quiet_and_restored():
    """Silence numpy's and the anomaly-mode warnings; make sure no test leaves anomaly mode on."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield
    assert not tg.autograd.is_anomaly_enabled(), "a test left anomaly mode on"
    recording._anomaly[:] = [False, True]


class LogLayer(nn.Module):
    """A layer whose forward makes NaN for negative inputs (a typical user bug)."""

    def forward(self, x):
        self.line = _line(); return x.log()  # noqa: E702 - the op and its line on one line


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 3), LogLayer())

    def forward(self, x):
        return self.head(self.features(x))


# --- the flag ------------------------------------------------------------------------------------------------
def test_flag_api_like_torch():
    assert not tg.autograd.is_anomaly_enabled()
    with tg.autograd.detect_anomaly():
        assert tg.autograd.is_anomaly_enabled() and tg.autograd.is_anomaly_check_nan_enabled()
        with tg.autograd.detect_anomaly(check_nan=False):
            assert not tg.autograd.is_anomaly_check_nan_enabled()
        assert tg.autograd.is_anomaly_check_nan_enabled()
    assert not tg.autograd.is_anomaly_enabled()
    tg.autograd.set_detect_anomaly(True)  # sets at once, like torch
    assert tg.autograd.is_anomaly_enabled()
    tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled()
    with tg.autograd.set_detect_anomaly(True):
        assert tg.autograd.is_anomaly_enabled()
    assert not tg.autograd.is_anomaly_enabled()


def test_detect_anomaly_warns_as_torch():
    torch = pytest.importorskip("torch")
    msgs = []
    for m in (tg, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with m.autograd.detect_anomaly():
                pass
        msgs.append([str(x.message) for x in w if issubclass(x.category, UserWarning)])
    assert msgs[0] == msgs[1] and msgs[0]


def test_flag_restored_after_an_error():
    with pytest.raises(ValueError):
        with tg.autograd.detect_anomaly():
            raise ValueError("boom")
    assert not tg.autograd.is_anomaly_enabled()


def test_decorator_form():
    @tg.autograd.detect_anomaly()
    def f(x):
        assert tg.autograd.is_anomaly_enabled()
        return x.log()

    with pytest.raises(RuntimeError, match="Log"):
        f(tg.tensor([-1.0]))
    assert not tg.autograd.is_anomaly_enabled()


# --- creation sites ------------------------------------------------------------------------------------------
def test_off_records_nothing_and_raises_nothing():
    x = tg.tensor([-1.0, 1.0], requires_grad=True)
    y = x.log()
    assert "site" not in y.grad_fn.metadata and "traceback_" not in y.grad_fn.metadata
    y.sum().backward()  # NaN flows silently, as in torch
    assert np.isnan(y.detach().numpy()[0])


def test_site_is_the_user_line_not_library_code():
    x = tg.randn(2, 1, 6, 6, requires_grad=True)
    conv = nn.Conv2d(1, 2, 3)
    with tg.autograd.detect_anomaly():
        y = conv(x); line = _line()  # noqa: E702
        z = tg.nn.functional.cross_entropy(y.flatten(1), tg.tensor([0, 1])); line2 = _line()  # noqa: E702
    site = y.grad_fn.metadata["site"]
    assert site.startswith(f"{__file__}:{line} in ") and "y = conv(x)" in site
    assert "tinygrad_cnn/" not in site.splitlines()[0]
    assert z.grad_fn.metadata["site"].startswith(f"{__file__}:{line2} ")
    tb = y.grad_fn.metadata["traceback_"]
    assert tb and f'line {line}' in tb[-1] and all("tinygrad_cnn/" not in t for t in tb)


def test_check_nan_false_records_sites_but_does_not_check():
    x = tg.tensor([-1.0], requires_grad=True)
    with tg.autograd.detect_anomaly(check_nan=False):
        y = x.log(); line = _line()  # noqa: E702
        y.sum().backward()
    assert y.grad_fn.metadata["site"].startswith(f"{__file__}:{line} ")


# --- NaN / Inf in forward -------------------------------------------------------------------------------------
def test_forward_nan_names_op_module_site_and_says_the_op_made_it():
    tg.manual_seed(0)
    net = Net()
    x = tg.randn(2, 1, 6, 6)
    with tg.no_grad():
        logits = net.head[1](net.head[0](net.features(x)))
    assert (logits.numpy() < 0).any(), "the test needs a negative logit for log() to make NaN"
    with tg.autograd.detect_anomaly(), pytest.raises(RuntimeError) as e:
        net(x)
    msg = str(e.value)
    assert "forward of Log produced nan" in msg
    assert "in module Net.head.2 (LogLayer)" in msg
    assert f"created at {__file__}:{net.head[2].line} in forward" in msg
    assert "every input was finite: this op produced the non-finite value itself" in msg
    bad = tuple(int(i) for i in np.argwhere(logits.numpy() < 0)[0])
    assert f"at index {bad}" in msg and "shape (2, 3)" in msg


def test_nan_in_the_input_is_traced_to_the_input_and_its_position():
    tg.manual_seed(0)
    net = Net()
    x = tg.randn(2, 1, 6, 6)
    x[1, 0, 2, 3] = float("nan")
    with tg.autograd.detect_anomaly(), pytest.raises(RuntimeError) as e:
        net(x)
    msg = str(e.value)
    assert "forward of Conv2d produced nan" in msg and "in module Net.features.0 (Conv2d)" in msg
    assert "input 0 (shape (2, 1, 6, 6)) already held nan at index (1, 0, 2, 3)" in msg
    # the innermost user frame: Net.forward's line (Net is user code; Sequential and Conv2d are not)
    assert f"created at {__file__}:" in msg and "in forward\n    return self.head(self.features(x))" in msg


def test_inf_input_outside_modules():
    x = tg.tensor([[1.0, float("inf")], [0.0, 2.0]], requires_grad=True)
    w = tg.ones(2, 2, requires_grad=True)
    with tg.autograd.detect_anomaly(), pytest.raises(RuntimeError) as e:
        line = _line(); x @ w  # noqa: E702
    msg = str(e.value)
    assert "forward of MatMul produced inf" in msg and "input 0 (shape (2, 2)) already held inf at index (0, 1)" in msg
    assert f"created at {__file__}:{line} " in msg and "in module" not in msg


def test_user_function_forward_checked():
    class Recip(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return tg.from_numpy(1.0 / x.numpy())  # numpy directly: no primitive sees the inf

        @staticmethod
        def backward(ctx, g):
            return g

    with tg.autograd.detect_anomaly(), pytest.raises(RuntimeError, match=r"forward of Recip produced inf in its "
                                                                          r"output \(shape \(2,\)\) at index 0"):
        Recip.apply(tg.tensor([0.0, 1.0], requires_grad=True))


def test_no_grad_forward_is_checked_too():
    with tg.autograd.detect_anomaly(), tg.no_grad(), pytest.raises(RuntimeError, match="forward of Log"):
        tg.tensor([-1.0]).log()


# --- NaN / Inf in backward ------------------------------------------------------------------------------------
def test_backward_nan_message_matches_torch_and_adds_site():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as te, torch.autograd.detect_anomaly():
        tx = torch.zeros(3, requires_grad=True, dtype=torch.float64)
        (tx.sqrt() * 0).sum().backward()
    x = tg.zeros(3, requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = x.sqrt(); line = _line()  # noqa: E702
        with pytest.raises(RuntimeError) as e:
            (y * 0).sum().backward()
    torch_core = str(te.value).rstrip(".")
    assert torch_core == "Function 'SqrtBackward0' returned nan values in its 0th output"
    msg = str(e.value)
    assert torch_core in msg
    assert f"created at {__file__}:{line} " in msg and "y = x.sqrt()" in msg
    assert "every incoming gradient was finite: this op produced the non-finite value itself" in msg
    assert x.grad is None  # stopped before anything reached the leaf


def test_backward_inf_inside_a_module_names_the_module():
    class Root(nn.Module):
        def forward(self, x):
            return x.sqrt()

    net = nn.Sequential(nn.Identity(), Root())
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.autograd.detect_anomaly(), pytest.raises(RuntimeError) as e:
        net(x).sum().backward()
    msg = str(e.value)
    assert "Function 'SqrtBackward0' returned inf values in its 0th output" in msg
    assert "(the gradient for input 0, shape (2,)) at index 0" in msg and "in module Sequential.1 (Root)" in msg


def test_error_inside_backward_gets_the_creation_site():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        z = (a * 1).sigmoid(); line = _line()  # noqa: E702
        z.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
            z.sum().backward()
    notes = "\n".join(getattr(e.value, "__notes__", []))
    if hasattr(e.value, "add_note"):
        assert "SigmoidBackward0" in notes and f"{__file__}:{line} " in notes


def test_training_step_unchanged_by_anomaly_mode():
    """Anomaly mode only observes: a finite training step gives bit-identical gradients."""
    grads = []
    for on in (False, True):
        tg.manual_seed(3)
        net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
        x, t = tg.randn(4, 1, 6, 6), tg.tensor([0, 1, 2, 1])
        with tg.autograd.set_detect_anomaly(on):
            tg.nn.functional.cross_entropy(net(x), t).backward()
        grads.append([p.grad.numpy().copy() for p in net.parameters()])
    for g0, g1 in zip(*grads):
        np.testing.assert_array_equal(g0, g1)
