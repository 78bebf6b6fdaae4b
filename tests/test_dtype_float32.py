"""No float64 anywhere in a float32 training step: every op input, every array saved for backward, every gradient a
backward returns (before the engine's cast back to the input dtype), every .grad and every optimiser state stays
float32. A silent float64 (a numpy float64 scalar, np.sqrt(2), a float64 constant array) would double the memory
traffic of the op and then be cast back, so it hides as slowness rather than as a wrong result.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import engine, recording
from tinygrad_cnn.autograd.function import Context
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.ops._primitive import Primitive

MODELS = [  # name, input (C, H, W), optimiser
    ("annt-lenet5", (1, 32, 32), "Adam"),
    ("annt-cifar", (3, 32, 32), "Adam"),
    ("torch-example-mnist", (1, 28, 28), "Adadelta"),
    ("kajda-mnist", (1, 28, 28), "SGD"),
]


def _bad(where: str, what: object, dtype: np.dtype) -> str | None:
    return f"{where}: {what} is {dtype}" if np.dtype(dtype).kind == "f" and dtype != np.float32 else None


@contextmanager
def float64_watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Collects a line for every non-float32 floating array seen in op inputs and in backward's raw results."""
    found: list[str] = []

    def record_inputs(ctx: Context, args: tuple) -> None:
        for i, a in enumerate(args):
            if isinstance(a, tg.Tensor):
                found.append(_bad(f"{ctx.name()} forward", f"input {i}", a._data.dtype))

    check_grad = engine._check_grad

    def raw_grad(node: Context, i: int, g: np.ndarray) -> np.ndarray:
        found.append(_bad(f"{node.name()}", f"grad for input {i}", g.dtype))  # before the engine casts it back
        return check_grad(node, i, g)

    prev = recording._input_recorder[0]
    recording._input_recorder[0] = record_inputs
    monkeypatch.setattr(engine, "_check_grad", raw_grad)
    try:
        yield found
    finally:
        recording._input_recorder[0] = prev
        found[:] = [f for f in found if f]


def saved_arrays(root: tg.Tensor) -> list[str]:
    """Non-float32 floating arrays saved for backward anywhere in root's graph (explicit stack, no recursion)."""
    found, seen, stack = [], set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Context):
            for k, s in enumerate(node._saved or ()):
                if isinstance(s, np.ndarray):
                    found.append(_bad(node.name(), f"saved array {k} {s.shape}", s.dtype))
        stack.extend(n for n, _ in node._edges)
    return [f for f in found if f]


def _step(name: str, shape: tuple, opt_name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    tg.manual_seed(0)
    model = tg.models.get_model(name)
    opt = getattr(tg.optim, opt_name)(model.parameters(), lr=0.01)
    x = tg.randn(4, *shape)
    y = tg.tensor([1, 0, 3, 9])
    problems = []
    for _ in range(2):  # the second step sees the optimiser state created by the first
        opt.zero_grad()
        with float64_watch(monkeypatch) as found:
            loss = F.nll_loss(model(x), y)
            problems += saved_arrays(loss)
            loss.backward()
        problems += found
        opt.step()
    problems.append(_bad("loss", "the loss", loss._data.dtype))
    for pname, p in model.named_parameters():
        problems += [_bad(pname, "parameter", p._data.dtype), _bad(pname, ".grad", p.grad._data.dtype)]
        for key, value in opt.state[p].items():
            if isinstance(value, tg.Tensor):
                problems.append(_bad(pname, f"optimizer state {key!r}", value._data.dtype))
    return [p for p in problems if p]


@pytest.mark.parametrize("name,shape,opt_name", MODELS)
def test_training_step_stays_float32(name: str, shape: tuple, opt_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _step(name, shape, opt_name, monkeypatch) == []


def test_watch_catches_a_float64_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    class Leaky(Primitive):  # a backward that promotes to float64 (the engine would cast it back silently)
        @staticmethod
        def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
            ctx.save_for_backward(x * np.float64(2.0) ** np.arange(1.0))  # a float64 array saved
            return x * 2

        @staticmethod
        def backward(ctx: Context, g: np.ndarray) -> tuple:
            return (g * np.sqrt(np.float64(4.0)) * np.ones(1),)

    x = tg.randn(3, requires_grad=True)
    with float64_watch(monkeypatch) as found:
        out = Leaky.apply(x).sum()
        saved = saved_arrays(out)
        out.backward()
    assert found == ["LeakyBackward0: grad for input 0 is float64"]
    assert saved == ["LeakyBackward0: saved array 0 (3,) is float64"]
    assert x.grad.dtype == tg.float32  # cast back by the engine: invisible without the watch
