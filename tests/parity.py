"""Run the same computation in tinygrad_cnn and in real torch (float64) and compare outputs and input gradients.

    check_parity(lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1), [x_np, w_np])

`fn(module, *tensors)` is called once with `module = tinygrad_cnn` and once with `module = torch`; the arrays become
float64 tensors with requires_grad (integer/bool arrays are passed without grad). The outputs must match and so must
every input's gradient after backward of sum(out * g) for a fixed random g.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _to_np(x: Any) -> np.ndarray:
    if isinstance(x, tg.Tensor):
        return x.detach().numpy()
    return x.detach().cpu().numpy()


def make_inputs(arrays: Sequence[np.ndarray], lib: Any, grad: Sequence[bool] | None = None) -> list:
    out = []
    for i, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            out.append(a)
            continue
        want = (grad[i] if grad is not None else True) and a.dtype.kind == "f"
        if lib is tg:
            t = tg.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a, requires_grad=want)
        else:
            t = torch.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a, requires_grad=want)
        out.append(t)
    return out


def check_parity(fn: Callable, arrays: Sequence[np.ndarray], *, grad: Sequence[bool] | None = None,
                 atol: float = 1e-10, rtol: float = 1e-7, seed: int = 0, check_grad: bool = True) -> tuple:
    """Compare fn's outputs and the gradients of every float input between tinygrad_cnn and torch (float64)."""
    ours = make_inputs(arrays, tg, grad)
    theirs = make_inputs(arrays, torch, grad)
    out_t = fn(tg, *ours)
    out_p = fn(torch, *theirs)
    outs_t = list(out_t) if isinstance(out_t, (tuple, list)) else [out_t]
    outs_p = list(out_p) if isinstance(out_p, (tuple, list)) else [out_p]
    assert len(outs_t) == len(outs_p)
    rng = np.random.default_rng(seed)
    loss_t, loss_p = None, None
    for k, (a, b) in enumerate(zip(outs_t, outs_p)):
        na, nb = _to_np(a), _to_np(b)
        assert na.shape == nb.shape, f"output {k}: shape {na.shape} vs torch {nb.shape}"
        np.testing.assert_allclose(na, nb, atol=atol, rtol=rtol, err_msg=f"output {k} differs from torch")
        if check_grad and getattr(b, "requires_grad", False):
            g = rng.standard_normal(nb.shape)
            lt = (a * tg.tensor(g)).sum()
            lp = (b * torch.tensor(g)).sum()
            loss_t = lt if loss_t is None else loss_t + lt
            loss_p = lp if loss_p is None else loss_p + lp
    if check_grad and loss_p is not None:
        loss_p.backward()
        loss_t.backward()
        for i, (x, y) in enumerate(zip(ours, theirs)):
            if not (isinstance(y, torch.Tensor) and y.requires_grad):
                continue
            if y.grad is None:
                assert x.grad is None or np.all(_to_np(x.grad) == 0), f"input {i}: torch has no grad, we do"
                continue
            assert x.grad is not None, f"input {i}: torch has a gradient, tinygrad_cnn has none"
            np.testing.assert_allclose(_to_np(x.grad), _to_np(y.grad), atol=atol, rtol=rtol,
                                       err_msg=f"gradient of input {i} differs from torch")
    return out_t, out_p


def raises_like_torch(fn: Callable, match: str) -> None:
    """fn(tinygrad_cnn) raises the exception type fn(torch) raises, with a message containing `match`."""
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value), match=match):
        fn(tg)

