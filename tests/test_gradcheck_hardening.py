"""gradcheck must not pass a check that checked nothing: no input requiring grad (torch's ValueError and text),
int inputs, or a func returning a float / ndarray / None instead of tensors."""
import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import gradcheck

NO_GRAD_INPUT = {
    "no input requires grad": lambda lib: ((lib.tensor([1.0, 2.0], dtype=lib.float64),), lambda a: a * 2),
    "int inputs": lambda lib: ((lib.tensor([1, 2]),), lambda a: a * 2),
    "no inputs at all": lambda lib: ((), lambda: lib.ones(1)),
}


@pytest.mark.parametrize("case", list(NO_GRAD_INPUT))
@pytest.mark.parametrize("raise_exception", [True, False])
def test_no_input_requiring_grad_raises_torchs_value_error(case, raise_exception):
    inputs, fn = NO_GRAD_INPUT[case](tg)
    with pytest.raises(ValueError) as ours:
        gradcheck(fn, inputs, raise_exception=raise_exception)
    torch = pytest.importorskip("torch")
    inputs, fn = NO_GRAD_INPUT[case](torch)
    with pytest.raises(ValueError) as theirs:
        torch.autograd.gradcheck(fn, inputs, raise_exception=raise_exception)
    assert str(ours.value) == str(theirs.value)


NOT_TENSORS = {"a float": lambda a: 1.0, "an ndarray": lambda a: np.ones(2), "None": lambda a: None,
               "a float next to a tensor": lambda a: (a * 2, 3.0)}


@pytest.mark.parametrize("case", list(NOT_TENSORS))
def test_func_returning_non_tensors_is_an_error_not_a_pass(case):
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with pytest.raises(TypeError, match=r"gradcheck: func must return a Tensor or a tuple of Tensors, but output \d "
                                        r"is (float|ndarray|NoneType)"):
        gradcheck(NOT_TENSORS[case], (x,), raise_exception=False)
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception):  # torch fails too (an AttributeError of its internals)
        torch.autograd.gradcheck(NOT_TENSORS[case], (torch.tensor([1.0, 2.0], dtype=torch.float64,
                                                                  requires_grad=True),))


def test_ordinary_checks_still_pass_and_fail():
    x = tg.tensor([0.5, -1.5], dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda a: (a * a, a.long()), (x,))           # a non-differentiable int output is skipped
    assert gradcheck(lambda a: [a.sin()], (x,))
    assert gradcheck(lambda a: a.detach() * 2, (x,), raise_exception=False) is False
