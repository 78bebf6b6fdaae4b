"""tg.viz.draw_graph on plain tensor graphs and small hand-made modules: structure, names, clusters, collapse."""
import math
import time

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn
from viz_dot import cluster_chain, have_dot, parse_dot, render_svg


class Lin(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.weight = nn.Parameter(tg.randn(o, i))
        self.bias = nn.Parameter(tg.zeros(o))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = Lin(4, 4)
        self.register_buffer("scale", tg.ones(4))

    def forward(self, x):
        return (self.fc(x) * self.scale).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = Block()
        self.head = Lin(4, 2)

    def forward(self, x):
        return self.head(self.features(x))


def _net_loss(record=True):
    tg.manual_seed(0)
    net = Net()
    x = tg.randn(3, 4)
    if record:
        with tg.autograd.graph_recording():
            return net, x, net(x).sum()
    return net, x, net(x).sum()


def test_small_graph_nodes_edges_and_names():
    x = tg.randn(2, 3, requires_grad=True)
    w = tg.randn(2, 3, requires_grad=True)
    y = (x * w).exp().sum()
    dot = parse_dot(tg.viz.draw_graph(y, params={"w": w}).source)
    # 3 ops + 2 leaves + the output
    assert len(dot.nodes) == 6 and len(dot.edges) == 5
    assert sorted(dot.lines(n)[0] for n in dot.nodes) == sorted(
        ["ExpBackward0", "MulBackward0", "SumBackward0", "w", "input (requires grad)", "output"])
    (wn,) = dot.by_title("w")
    (xn,) = dot.by_title("input (requires grad)")
    assert dot.nodes[wn]["shape"] != dot.nodes[xn]["shape"]  # parameters and inputs look different
    assert dot.nodes[wn]["fillcolor"] != dot.nodes[xn]["fillcolor"]
    (mul,) = dot.by_title("MulBackward0")
    assert dot.lines(mul)[1] == "(2, 3) float32"
    assert {(s, d) for s, d, _ in dot.edges if d == mul} == {(wn, mul), (xn, mul)}
    (sm,) = dot.by_title("SumBackward0")
    assert dot.lines(sm)[1] == "() float32"


def test_edges_carry_shapes_and_a_reused_tensor_is_one_node():
    a = tg.randn(5, requires_grad=True)
    m = tg.randn(4, 5)
    y = (m @ (a * a + a)).sum()
    dot = parse_dot(tg.viz.draw_graph(y).source)
    assert len(dot.by_title("input (requires grad)")) == 1  # a, used three times, is one node
    assert len(dot.by_title("constant")) == 1  # m: no grad, no name
    shapes = sorted(e["label"].strip() for _, _, e in dot.edges)
    assert shapes.count("(4, 5)") == 1 and shapes.count("(4,)") == 1 and shapes.count("()") == 1
    (mm,) = dot.by_title("MatMulBackward0")
    assert dot.lines(mm)[1] == "(4,) float32"


def test_float64_dtype_and_no_shapes_option():
    x = tg.randn(3, dtype=tg.float64, requires_grad=True)
    y = x.tanh().sum()
    dot = parse_dot(tg.viz.draw_graph(y).source)
    (t,) = dot.by_title("TanhBackward0")
    assert dot.lines(t)[1] == "(3,) float64"
    bare = parse_dot(tg.viz.draw_graph(y, show_shapes=False).source)
    assert all(len(bare.lines(n)) == 1 for n in bare.nodes) and all("label" not in e for *_, e in bare.edges)


def test_module_parameters_buffers_and_inputs_are_named():
    net, x, loss = _net_loss()
    dot = parse_dot(tg.viz.draw_graph(loss, params={"x": x}).source)
    titles = {dot.lines(n)[0] for n in dot.nodes}
    assert {"features.fc.weight", "features.fc.bias", "head.weight", "head.bias", "features.scale", "x"} <= titles
    (buf,) = dot.by_title("features.scale")
    (w,) = dot.by_title("head.weight")
    (inp,) = dot.by_title("x")
    assert len({dot.nodes[n]["shape"] for n in (buf, w, inp)}) == 3
    assert dot.lines(inp)[1] == "(3, 4) float32"
    unnamed = parse_dot(tg.viz.draw_graph(loss).source)
    (const,) = unnamed.by_title("constant")  # without a name, a tensor without grad is drawn as a constant
    assert unnamed.nodes[const]["shape"] not in {dot.nodes[n]["shape"] for n in (buf, w, inp)}


def test_params_dict_names_leaves_like_torchviz():
    net, x, loss = _net_loss(record=False)
    named = {"W_head": net.head.weight}
    dot = parse_dot(tg.viz.draw_graph(loss, params=named).source)
    assert dot.by_title("W_head") and dot.by_title("features.fc.weight")


def test_module_clusters_are_nested_and_hold_their_parameters():
    net, x, loss = _net_loss()
    dot = parse_dot(tg.viz.draw_graph(loss).source)
    labels = {c.label for c in dot.clusters.values()}
    assert labels == {"Net", "features (Block)", "features.fc (Lin)", "head (Lin)"}
    fc = dot.cluster_by_label("features.fc (Lin)")
    assert dot.clusters[fc.parent].label == "features (Block)"
    (w,) = dot.by_title("features.fc.weight")
    assert cluster_chain(dot, w) == ["Net", "features (Block)", "features.fc (Lin)"]
    (buf,) = dot.by_title("features.scale")
    assert cluster_chain(dot, buf) == ["Net", "features (Block)"]
    (relu,) = [n for n in dot.nodes if dot.lines(n)[0].lower().startswith("relu")]
    assert cluster_chain(dot, relu) == ["Net", "features (Block)"]
    (sm,) = dot.by_title("SumBackward0")  # the loss was computed outside the model
    assert cluster_chain(dot, sm) == []
    flat = parse_dot(tg.viz.draw_graph(loss, group_modules=False).source)
    assert not flat.clusters and len(flat.nodes) == len(dot.nodes)


def test_max_depth_collapses_modules_into_boxes():
    net, x, loss = _net_loss()
    full = parse_dot(tg.viz.draw_graph(loss).source)
    d1 = parse_dot(tg.viz.draw_graph(loss, max_depth=1).source)
    boxes = {d1.lines(n)[0]: d1.lines(n) for n in d1.nodes if d1.nodes[n]["shape"] == "box3d"}
    assert set(boxes) == {"features (Block)", "head (Lin)"}
    assert boxes["head (Lin)"][1:] == ["in (3, 4)", "out (3, 2)", "10 params"]
    assert boxes["features (Block)"][1:] == ["in (3, 4)", "out (3, 4)", "20 params"]
    assert not any(d1.lines(n)[0].endswith("weight") for n in d1.nodes)  # parameters folded into their box
    # input -> features -> head -> Sum -> output
    assert len(d1.nodes) == 5 and len(d1.edges) == 4
    assert {c.label for c in d1.clusters.values()} == {"Net"}
    d0 = parse_dot(tg.viz.draw_graph(loss, max_depth=0).source)
    (box,) = [n for n in d0.nodes if d0.nodes[n]["shape"] == "box3d"]
    assert d0.lines(box) == ["Net", "in (3, 4)", "out (3, 2)", "30 params"]
    assert len(d0.nodes) == 4 and not d0.clusters
    d2 = parse_dot(tg.viz.draw_graph(loss, max_depth=2).source)
    assert [d2.lines(n)[0] for n in d2.nodes if d2.nodes[n]["shape"] == "box3d"] == ["features.fc (Lin)"]
    assert len(d2.nodes) < len(full.nodes)
    with pytest.raises(ValueError, match="max_depth"):
        tg.viz.draw_graph(loss, max_depth=-1)


def test_show_grads_before_backward_marks_nodes_pending():
    x = tg.randn(3, requires_grad=True)
    y = (x * 2).sum()
    dot = parse_dot(tg.viz.draw_graph(y, show_grads=True).source)
    for n in dot.graph_nodes():
        if dot.lines(n)[0].endswith("Backward0"):
            assert "not yet backpropagated" in dot.lines(n) and "dashed" in dot.nodes[n]["style"]
    assert "legend_pending" in dot.nodes


def test_show_grads_colours_by_norm_with_a_log_legend():
    tg.manual_seed(1)
    x = tg.randn(4, requires_grad=True)
    w = tg.randn(4, requires_grad=True)
    y = (x * w * 1000.0).sum() + (x * 0.001).sum()
    with tg.viz.record_gradients():
        y.backward()
    dot = parse_dot(tg.viz.draw_graph(y, params={"w": w}, show_grads=True).source)
    (wn,) = dot.by_title("w")
    expected = np.linalg.norm(x._data.astype(np.float64) * 1000.0)
    assert dot.lines(wn)[-1].startswith("|grad| ")
    assert math.isclose(float(dot.lines(wn)[-1].split()[1]), expected, rel_tol=1e-2)
    fills = {n: dot.nodes[n]["fillcolor"] for n in dot.graph_nodes() if "|grad|" in dot.label(n)}
    norms = {n: float(dot.lines(n)[-1].split()[1]) for n in fills}
    big = max(norms, key=norms.get)
    small = min(norms, key=norms.get)
    assert fills[big] != fills[small]
    legend = [n for n in dot.nodes if n.startswith("legend_") and dot.label(n).startswith("1e")]
    exps = [int(dot.label(n)[2:]) for n in legend]
    assert exps == sorted(exps) and exps[0] <= math.floor(math.log10(norms[small])) and \
        exps[-1] >= math.floor(math.log10(norms[big]))


def test_nonfinite_gradients_are_red_and_the_first_producer_is_marked():
    x = tg.tensor([0.0, 1.0, 4.0], requires_grad=True)
    inner = x.sqrt()                 # backward at 0 receives inf (from outer) -> not first
    outer = (inner * 2.0).sqrt()     # d sqrt(u)/du at u=0 is inf: produces the first non-finite gradient
    y = outer.sum()
    with tg.viz.record_gradients() as rec, np.errstate(divide="ignore", invalid="ignore"):
        y.backward()
    dot = parse_dot(tg.viz.draw_graph(y, show_grads=True).source)
    sqrts = dot.by_title("SqrtBackward0")
    (sm,) = dot.by_title("SumBackward0")
    (first,) = [n for n in sqrts if (n, sm) in {(s, d) for s, d, _ in dot.edges}]
    (second,) = [n for n in sqrts if n != first]
    assert dot.nodes[first]["shape"] == "doubleoctagon" and "FIRST NON-FINITE GRAD" in dot.lines(first)
    assert dot.nodes[second]["shape"] != "doubleoctagon" and dot.nodes[second]["fillcolor"] == "#E03030"
    (leaf,) = dot.by_title("input (requires grad)")
    assert dot.nodes[leaf]["fillcolor"] == "#E03030"
    assert dot.nodes[sm]["fillcolor"] != "#E03030"
    assert rec.first_nonfinite() is outer.grad_fn
    assert "legend_first" in dot.nodes and "legend_nan" in dot.nodes


def test_twenty_thousand_node_chain_draws_iteratively_in_seconds():
    x = tg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    t = time.perf_counter()
    src = tg.viz.draw_graph(y).source
    elapsed = time.perf_counter() - t
    assert elapsed < 15, elapsed
    assert src.count("MulBackward0") == 2 * 20_000  # label and tooltip of each op
    assert src.count(" -> ") == 20_001


def test_output_without_graph_and_multiple_outputs():
    dot = parse_dot(tg.viz.draw_graph(tg.ones(2)).source)
    assert list(dot.nodes) == ["o0"] and not dot.edges
    x = tg.randn(3, requires_grad=True)
    a, b = x.exp(), (x * 2).sum()
    dot = parse_dot(tg.viz.draw_graph([a, b]).source)
    assert {"o0", "o1"} <= set(dot.nodes)
    assert len(dot.by_title("input (requires grad)")) == 1
    with pytest.raises(TypeError, match="expected a Tensor"):
        tg.viz.draw_graph(3.0)


@pytest.mark.skipif(not have_dot(), reason="graphviz `dot` binary not installed")
def test_renders_with_dot_and_svg_tooltips_show_stats(tmp_path):
    net, x, loss = _net_loss()
    with tg.viz.record_gradients():
        loss.backward()
    g = tg.viz.draw_graph(loss, show_grads=True, show_values=True)
    svg = render_svg(g.source)
    assert svg.count('class="cluster"') == 5  # 4 module clusters and the legend
    assert "shape (4, 4) float32" in svg and "value: min" in svg and "grad: |grad|" in svg
    plain = render_svg(tg.viz.draw_graph(loss).source)  # tooltips show known gradients without show_grads too
    assert "grad: |grad|" in plain and "gradient norm" not in plain
    assert g._repr_svg_().lstrip().startswith("<?xml") or "<svg" in g._repr_svg_()
    for fmt, magic in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")):
        path = g.export(str(tmp_path / f"graph.{fmt}"))
        assert open(path, "rb").read(5).startswith(magic[:4])
    out = g.render(str(tmp_path / "rendered"), format="svg", cleanup=True)
    assert out.endswith(".svg") and open(out).read().count("<svg") == 1
    p = tg.viz.save(loss, str(tmp_path / "direct.svg"), max_depth=1)
    assert "features (Block)" in open(p).read()


@pytest.mark.skipif(not have_dot(), reason="graphviz `dot` binary not installed")
def test_visualisation_doc_examples_run(tmp_path, monkeypatch):
    import pathlib
    import re

    page = pathlib.Path(__file__).resolve().parents[1] / "docs" / "visualisation.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "__docs__"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"docs/visualisation.md block {i}", "exec"), scope)
    written = {p.name for p in tmp_path.iterdir()}
    assert {"lenet5.svg", "lenet5.png", "lenet5.pdf", "grads.svg", "steps.html"} <= written
