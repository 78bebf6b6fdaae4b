"""torch's gradient layout contract: a leaf's first `.grad` has the leaf's memory order, even when the backward
produced a transposed view (a Linear weight's gradient does). Optimisers then update C-ordered state with a
C-ordered gradient (mixed orders made Adadelta's step on a 9216x128 weight ~4x slower)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(3, 5), (128, 600)])  # small copy, and the blocked copy (>= 65 536 elements)
def test_linear_weight_grad_is_contiguous_and_exact(shape: tuple) -> None:
    out_f, in_f = shape
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((7, in_f)), rng.standard_normal((out_f, in_f))
    tw, pw = tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    (tg.tensor(x) @ tw.t()).sin().sum().backward()
    (torch.tensor(x) @ pw.t()).sin().sum().backward()
    assert pw.grad.is_contiguous()
    assert tw.grad._data.flags.c_contiguous
    np.testing.assert_allclose(tw.grad.numpy(), pw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_fortran_ordered_leaf_keeps_its_order() -> None:
    a = np.asfortranarray(np.random.default_rng(1).standard_normal((300, 400)))
    t = tg.from_numpy(a).requires_grad_()
    p = torch.from_numpy(a).requires_grad_()
    (t * 2).sum().backward()
    (p * 2).sum().backward()
    assert p.grad.stride() == p.stride()  # torch: the grad takes the leaf's strides
    assert t.grad._data.flags.f_contiguous == t._data.flags.f_contiguous
    np.testing.assert_array_equal(t.grad.numpy(), p.grad.numpy())
