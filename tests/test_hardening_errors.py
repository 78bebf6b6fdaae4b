"""Issue 12 (hardening), refusals and errors: `.grad` assignment, in-place casts, integer division by zero, the
raw numpy errors that named no op (now torch's errors), and inputs torch refuses. Each against torch 2.13."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

from parity import raises_like_torch as _raises_like_torch  # noqa: E402


def _same(fn):
    ours, theirs = fn(tg), fn(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# --- 14. assigning .grad --------------------------------------------------------------------------------------
def _assign(m, value):
    x = m.zeros(3, requires_grad=True)
    x.grad = value(m)


@pytest.mark.parametrize("value,match", [
    (lambda m: m.zeros(2), r"attempting to assign a gradient of size '\[2\]' to a tensor of size '\[3\]'"),
    (lambda m: m.zeros(1, 3), r"of size '\[1, 3\]' to a tensor of size '\[3\]'"),
    (lambda m: m.zeros(3, dtype=m.float64), "attempting to assign a gradient with dtype"),
    (lambda m: [0.0, 0.0, 0.0], "assigned grad expected to be a Tensor or None"),
])
def test_wrong_grad_assignment_is_refused(value, match):
    _raises_like_torch(lambda m: _assign(m, value), match)


def test_right_grad_assignment_and_none_are_accepted():
    x = tg.zeros(3, requires_grad=True)
    x.grad = tg.ones(3)
    tg.optim.SGD([x], lr=0.5).step()
    np.testing.assert_array_equal(x.detach().numpy(), [-0.5] * 3)
    x.grad = None
    assert x.grad is None


# --- 15. in-place results that do not fit; integer division by zero --------------------------------------------
@pytest.mark.parametrize("op,match", [
    (lambda m: m.tensor([1, 2]).add_(1.5), "result type Float can't be cast to the desired output type Long"),
    (lambda m: m.tensor([1, 2]).mul_(m.tensor([0.5, 1.0])), "result type Float can't be cast"),
    (lambda m: m.tensor([True]).add_(1), "result type Long can't be cast to the desired output type Bool"),
    (lambda m: m.tensor([1, 2]).__iadd__(0.5), "can't be cast to the desired output type Long"),
    (lambda m: m.tensor([1, 2]) // 0, "ZeroDivisionError"),
    (lambda m: m.tensor([1, 2]) // m.tensor([0, 1]), "ZeroDivisionError"),
    (lambda m: m.tensor([1, 2]) % 0, "ZeroDivisionError"),
    (lambda m: m.tensor([1, 2]).fmod(m.tensor([1, 0])), "ZeroDivisionError"),
    (lambda m: m.tensor([1, 2]).div(0, rounding_mode="trunc"), "ZeroDivisionError"),
])
def test_inplace_casts_and_integer_division_by_zero_raise(op, match):
    _raises_like_torch(op, match)


@pytest.mark.parametrize("op", [
    lambda m: m.tensor([1, 2]).masked_fill_(m.tensor([True, False]), 7.9),   # masked_fill casts its scalar
    lambda m: m.tensor([1, 2]).add_(m.tensor([3, 4], dtype=m.int32)),
    lambda m: m.tensor([1.0, 2.0]).add_(m.tensor([1, 2])),
    lambda m: m.tensor([1.0, -2.0]) // 0,                                     # floats: inf, as torch
    lambda m: m.tensor([1], dtype=m.uint8) + 300,                             # Python ints wrap into the dtype
    lambda m: m.tensor([1], dtype=m.uint8) - 2,
    lambda m: m.tensor([1], dtype=m.int8) * 1000,
    lambda m: m.tensor([1], dtype=m.int32) + 2 ** 40,
])
def test_accepted_cases_match_torch(op):
    _same(op)


# --- 16. numpy errors that named nothing ------------------------------------------------------------------------
@pytest.mark.parametrize("op,match", [
    (lambda m: m.nn.functional.conv2d(m.ones(1, 1, 3, 3), m.ones(0, 1, 2, 2)),
     r"conv2d: Given groups=1, expected weight to be at least 1 at dimension 0"),
    (lambda m: m.ones(0, 3).argmax(0), r"argmax\(\): Expected reduction dim 0 to have non-zero size"),
    (lambda m: m.ones(0, 3).max(0), r"max\(\): Expected reduction dim 0 to have non-zero size"),
    (lambda m: ~m.ones(2), r"~ \(operator.invert\) is only implemented on integer and Boolean-type tensors"),
    (lambda m: m.sum(1.0), r"sum\(\): argument 'input' \(position 1\) must be Tensor, not float"),
    (lambda m: m.nn.Linear(-1, 3), r"Trying to create tensor with negative dimension -1: \[3, -1\]"),
    (lambda m: m.nn.Conv2d(1, -2, 3), r"negative dimension -2: \[-2, 1, 3, 3\]"),
    (lambda m: m.nn.Embedding(-1, 3), r"negative dimension -1"),
])
def test_errors_name_the_op_like_torch(op, match):
    _raises_like_torch(op, match)


@pytest.mark.parametrize("op,match", [
    (lambda m: m.ones(3)[m.tensor([True, False])], r"The shape of the mask \[2\] at index 0 does not match"),
    (lambda m: m.ones(3, 2)[m.tensor([[True, False]])], r"mask \[1, 2\] at index 0 does not match .* \[3, 2\]"),
    (lambda m: m.arange(10, 0, 1), "upper bound and lower bound inconsistent with step sign"),
    (lambda m: m.linspace(0, 1, -1), "number of steps must be non-negative"),
    (lambda m: m.eye(-1), "n must be greater or equal to 0, got -1"),
    (lambda m: m.full((2,), "a"), r"full\(\): argument 'fill_value' \(position 2\) must be Number, not str"),
    (lambda m: m.randperm(-1), r"negative dimension -1: \[-1\]"),
    (lambda m: m.arange(6.0).unfold(0, 7, 1), "maximum size for tensor at dimension 0 is 6 but size is 7"),
    (lambda m: m.arange(6.0).unfold(0, 2, 0), "step is 0 but must be > 0"),
])
def test_more_numpy_errors_are_torchs(op, match):
    _raises_like_torch(op, match)


def test_empty_list_index_gives_an_empty_tensor():
    assert tuple(tg.ones(3, 2)[[]].shape) == tuple(torch.ones(3, 2)[[]].shape) == (0, 2)


# --- 17. accepted where torch refuses ---------------------------------------------------------------------------
@pytest.mark.parametrize("op,match", [
    (lambda m: m.nn.functional.interpolate(m.ones(1, 1, 4), size=0),
     r"Input and output sizes should be greater than 0, but got input \(W: 4\) and output \(W: 0\)"),
    (lambda m: m.nn.functional.interpolate(m.ones(1, 1, 4, 4), scale_factor=0.1), "greater than 0"),
    (lambda m: m.nn.functional.binary_cross_entropy(m.full((2,), 0.5), m.tensor([2.0, 0.0])),
     "all elements of target should be between 0 and 1"),
    (lambda m: m.nn.BCELoss()(m.full((2,), 0.5), m.tensor([-0.5, 0.0])), "target should be between 0 and 1"),
    (lambda m: m.tensor(np.array([object(), 1], dtype=object)), "can't convert np.ndarray of type numpy.object_"),
])
def test_refused_like_torch(op, match):
    _raises_like_torch(op, match)


# --- docs/errors.md: the tensor section is what the code raises ------------------------------------------------
def test_docs_errors_tensor_section():
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    page = open(os.path.join(root, "docs", "errors.md"), encoding="utf-8").read()
    section = page.split("## Tensors: values that do not fit", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```pycon\n>>> (.*?)\n(.*?)\n```", section)
    assert len(examples) >= 15
    for code, expected in examples:
        with pytest.raises(Exception) as e:
            exec(code, {"tg": tg, "np": np})
        assert f"{type(e.value).__name__}: {e.value}" == expected, f"docs/errors.md: {code}"
