"""draw_graph on LeNet-5 (tg.models.annt_lenet5): layer clusters, parameter names, collapse, gradient flow."""
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn
from test_check_graph import lenet5
from viz_dot import cluster_chain, parse_dot

LAYERS = ["0 (Conv2d)", "1 (ReLU)", "2 (AvgPool2d)", "3 (Conv2d)", "4 (ReLU)", "5 (AvgPool2d)", "6 (Conv2d)",
          "7 (ReLU)", "8 (Flatten)", "9 (Linear)", "10 (LogSoftmax)"]
PARAMS = ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias", "9.weight", "9.bias"]


def _lenet_loss(model=None):
    tg.manual_seed(0)
    model = model or lenet5()
    x = tg.randn(1, 1, 32, 32)
    with tg.autograd.graph_recording():
        loss = F.nll_loss(model(x), tg.tensor([7]))
    return model, x, loss


def test_every_layer_is_a_cluster_holding_its_parameters():
    model, x, loss = _lenet_loss()
    dot = parse_dot(tg.viz.draw_graph(loss, params={"image": x}).source)
    root = dot.cluster_by_label("Sequential")
    layer_clusters = [c for c in dot.clusters.values() if c.parent == root.name]
    assert sorted(c.label for c in layer_clusters) == sorted(LAYERS)
    named = dict(model.named_parameters())
    for name in PARAMS:
        (node,) = dot.by_title(name)
        layer = int(name.split(".")[0])
        assert cluster_chain(dot, node) == ["Sequential", f"{layer} ({type(model[layer]).__name__})"]
        shape = tuple(named[name].shape)
        assert dot.lines(node)[1] == f"({', '.join(map(str, shape))}{',' if len(shape) == 1 else ''}) float32"
    (img,) = dot.by_title("image")
    assert dot.lines(img)[1] == "(1, 1, 32, 32) float32" and cluster_chain(dot, img) == []
    (nll,) = dot.by_title("NLLLossBackward0")
    assert cluster_chain(dot, nll) == []  # the loss ran outside the model
    (conv0,) = [n for n in dot.nodes if cluster_chain(dot, n)[-1:] == ["0 (Conv2d)"] and "Backward" in dot.label(n)]
    assert dot.lines(conv0)[1] == "(1, 6, 28, 28) float32"


def test_depth_one_draws_one_box_per_layer_with_shapes():
    model, x, loss = _lenet_loss()
    dot = parse_dot(tg.viz.draw_graph(loss, params={"image": x}, max_depth=1).source)
    boxes = {dot.lines(n)[0]: dot.lines(n) for n in dot.nodes if dot.nodes[n]["shape"] == "box3d"}
    assert sorted(boxes) == sorted(LAYERS)
    assert boxes["0 (Conv2d)"][1:] == ["in (1, 1, 32, 32)", "out (1, 6, 28, 28)", "156 params"]
    assert boxes["5 (AvgPool2d)"][1:] == ["in (1, 16, 10, 10)", "out (1, 16, 5, 5)", "0 params"]
    assert boxes["9 (Linear)"][-1] == "1,210 params"
    assert not any(t in dot.label(n) for n in dot.nodes for t in PARAMS)
    # image -> 11 layers in a chain -> NLL loss -> output (plus the C3 connection mask, a constant)
    chain = [(s, d) for s, d, _ in dot.edges]
    assert len(chain) == len(dot.nodes) - 1


def test_gradient_flow_after_backward():
    model, x, loss = _lenet_loss()
    with tg.viz.record_gradients():
        loss.backward()
    dot = parse_dot(tg.viz.draw_graph(loss, show_grads=True).source)
    ops = [n for n in dot.graph_nodes() if dot.lines(n)[0].endswith("Backward0")]
    assert len(ops) >= 15 and all(dot.lines(n)[-1].startswith("|grad|") for n in ops)
    (w,) = dot.by_title("6.weight")
    assert float(dot.lines(w)[-1].split()[1]) == pytest.approx(float(np.linalg.norm(model[6].weight.grad.numpy())),
                                                              rel=2e-3)


class NaNGradFn(tg.autograd.Function):
    """Identity whose backward writes NaN into one element: a backward that produces a non-finite gradient."""

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        g = g.clone()
        g[0, 0, 0, 0] = float("nan")
        return g


class NaNGrad(nn.Module):
    def forward(self, x):
        return NaNGradFn.apply(x)


def test_first_nonfinite_gradient_is_marked_inside_lenet5():
    model = lenet5()
    model[4] = NaNGrad()  # replaces the ReLU after C3
    model, x, loss = _lenet_loss(model)
    with tg.viz.record_gradients() as rec:
        loss.backward()
    dot = parse_dot(tg.viz.draw_graph(loss, show_grads=True).source)
    (first,) = [n for n in dot.nodes if dot.nodes[n].get("shape") == "doubleoctagon" and not n.startswith("legend")]
    assert dot.lines(first)[0] == "NaNGradFnBackward" and cluster_chain(dot, first)[-1] == "4 (NaNGrad)"
    red = {n for n in dot.graph_nodes() if dot.nodes[n].get("fillcolor") == "#E03030"}
    titles = {dot.lines(n)[0] for n in red}
    assert {"3.weight", "0.weight", "Conv2dBackward0"} <= titles  # everything upstream of the bad node
    for n in ("9.weight", "6.weight"):  # downstream (backpropagated before it): finite
        (node,) = dot.by_title(n)
        assert node not in red
    assert rec.first_nonfinite().name() == "NaNGradFnBackward"
    collapsed = parse_dot(tg.viz.draw_graph(loss, show_grads=True, max_depth=1).source)
    (box,) = [n for n in collapsed.nodes if collapsed.nodes[n].get("shape") == "doubleoctagon"
              and not n.startswith("legend")]
    assert collapsed.lines(box)[0] == "4 (NaNGrad)"
