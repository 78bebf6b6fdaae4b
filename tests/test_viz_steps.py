"""tg.viz.backward_steps: the page's data (steps in engine order, gradients in full when small), without a browser."""
import json
import re

import numpy as np
import pytest

import tinygrad_cnn as tg
from viz_dot import have_dot

pytestmark = pytest.mark.skipif(not have_dot(), reason="graphviz `dot` binary not installed")


def _page_data(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return text, json.loads(m.group(1).replace("<\\/", "</"))


def _mlp():
    tg.manual_seed(0)
    x = tg.randn(2, 3)
    w = tg.randn(3, 4, requires_grad=True)
    b = tg.zeros(4, requires_grad=True)
    return x, w, b, ((x @ w + b).tanh() ** 2).mean()


def test_page_is_self_contained_with_inline_svg(tmp_path):
    x, w, b, loss = _mlp()
    path = tg.viz.backward_steps(loss, str(tmp_path / "steps.html"), params={"w": w, "b": b}, title="MLP")
    text, data = _page_data(path)
    assert text.count("<svg") == 1 and "<?xml" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing loaded from elsewhere
    assert "<title>MLP</title>" in text
    keys = set(re.findall(r"<title>(\w+)</title>", text))
    assert all(st["key"] in keys for st in data["steps"])


def test_steps_follow_backward_and_carry_the_gradients(tmp_path):
    x, w, b, loss = _mlp()
    _, data = _page_data(tg.viz.backward_steps(loss, str(tmp_path / "s.html"), params={"w": w, "b": b}))
    steps = data["steps"]
    titles = [s["title"] for s in steps]
    assert titles[0] == "MeanBackward0"  # the loss's own node runs first
    assert sorted(titles) == sorted(["MeanBackward0", "PowBackward0", "TanhBackward0", "AddBackward0",
                                     "MatMulBackward0", "w", "b"])
    seen = set()
    for s in steps:  # a node runs only after every consumer sent it its gradient
        for inp in s["inputs"]:
            assert inp["to"] not in seen
        seen.add(s["key"])
    (wstep,) = [s for s in steps if s["title"] == "w"]
    assert wstep["leaf"] and wstep["out"][0]["shape"] == "(3, 4)" and "[[" in wstep["out"][0]["array"]
    np.testing.assert_allclose(np.array(wstep["out"][0]["values"]), w.grad.numpy(), rtol=1e-6)
    (mean,) = [s for s in steps if s["title"] == "MeanBackward0"]
    assert mean["out"][0]["shape"] == "()" and mean["inputs"][0]["grad"]["shape"] == "(2, 4)"
    assert float(mean["inputs"][0]["grad"]["mean"]) == pytest.approx(1 / 8)


def test_large_gradients_are_summarised_not_dumped(tmp_path):
    x = tg.randn(20, 20, requires_grad=True)
    _, data = _page_data(tg.viz.backward_steps((x * 3).sum(), str(tmp_path / "s.html"), max_elements=16))
    (leaf,) = [s for s in data["steps"] if s["leaf"]]
    assert "array" not in leaf["out"][0] and leaf["out"][0]["norm"] == f"{60.0:.3g}"
    assert data["first_nonfinite"] is None
