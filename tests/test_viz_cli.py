"""`tinygrad-cnn graph` and `tinygrad-cnn gradcheck` on the zoo's LeNet-5."""
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.cli import main
from viz_dot import have_dot

pytestmark = pytest.mark.skipif(not have_dot(), reason="graphviz `dot` binary not installed")


def test_graph_full_and_collapsed(tmp_path, capsys):
    out = tmp_path / "lenet5.svg"
    assert main(["graph", "--model", "annt-lenet5", "--out", str(out)]) == 0
    svg = out.read_text()
    assert "0.weight" in svg and "3 (Conv2d)" in svg and "Conv2dBackward0" in svg
    assert "wrote" in capsys.readouterr().out
    dot = tmp_path / "lenet5.dot"
    assert main(["graph", "--model", "annt-lenet5", "--out", str(dot), "--depth", "1"]) == 0
    src = dot.read_text()
    assert src.count("box3d") == 11  # one box per layer of the Sequential
    assert "Conv2dBackward0" not in src and "2,416 params" in src  # C3: weight (16, 6, 5, 5) + bias, folded in


def test_graph_with_grads_and_steps(tmp_path):
    png = tmp_path / "grads.png"
    assert main(["graph", "--model", "annt-lenet5", "--out", str(png), "--grads"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    dot = tmp_path / "grads.dot"
    main(["graph", "--model", "annt-lenet5", "--out", str(dot), "--grads"])
    assert "gradient norm (log10 scale)" in dot.read_text() and "not yet backpropagated" not in dot.read_text()
    html = tmp_path / "steps.html"
    assert main(["graph", "--model", "annt-lenet5", "--out", str(html), "--steps"]) == 0
    assert "<svg" in html.read_text()


def test_gradcheck_passes_on_lenet5_and_fails_on_a_planted_bug(capsys, monkeypatch, tmp_path):
    assert main(["gradcheck", "--model", "annt-lenet5"]) == 0
    text = capsys.readouterr().out
    assert "check_graph PASSED" in text and "0.weight, 0.bias" in text

    from test_check_graph import BadReLU

    real = tg.models.get_model

    def planted(name):
        model = real(name)
        model[4] = BadReLU()
        return model

    monkeypatch.setattr(tg.models, "get_model", planted)
    assert main(["gradcheck", "--model", "annt-lenet5", "--out", str(tmp_path / "c.svg")]) == 1
    text = capsys.readouterr().out
    assert "FAILED" in text and "BadReLUFnBackward in 4 (BadReLU)" in text
    assert (tmp_path / "c.svg").exists()
