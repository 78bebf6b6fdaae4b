"""`tinygrad-cnn export`: a trained run's model as ONNX (run by onnxruntime: same outputs) or safetensors (same
state dict, metadata naming the model); user mistakes are one line and a non-zero exit."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import models
from tinygrad_cnn.cli import main
from tinygrad_cnn.training import load_checkpoint

TINY = ["--dataset", "synthetic", "--synthetic-size", "120", "--epochs", "1", "--batch-size", "20"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: Any) -> Any:
    out = tmp_path_factory.mktemp("lenet5_run")
    assert main(["train", "--model", "annt-lenet5", *TINY, "--seed", "2", "--out", str(out)]) == 0
    return out


def trained_model(run_dir: Any) -> Any:
    state = load_checkpoint(run_dir / "best.npz", required=("config", "model", "epoch"))
    model = models.get_model(state["config"]["model"])
    model.load_state_dict(state["model"])
    return model.eval()


def test_export_onnx_runs_in_onnxruntime(run_dir: Any, tmp_path: Any, capsys: Any) -> None:
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "lenet.onnx"
    assert main(["export", "--checkpoint", str(run_dir / "best.npz"), "--format", "onnx", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(3, 1, 32, 32)).astype(np.float32)
    with tg.no_grad():
        want = trained_model(run_dir)(tg.tensor(x)).numpy()
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], want, rtol=1e-5, atol=1e-5)


def test_export_safetensors_keeps_the_state_dict(run_dir: Any, tmp_path: Any) -> None:
    pytest.importorskip("safetensors")
    out = tmp_path / "lenet.safetensors"
    assert main(["export", "--checkpoint", str(run_dir), "--out", str(out)]) == 0  # format from the suffix
    loaded = tg.load(out)
    for k, v in trained_model(run_dir).state_dict().items():
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy(), err_msg=k)
    meta = tg.safetensors.load_metadata(out)
    assert meta["model"] == "annt-lenet5" and meta["input_size"] == "[1, 32, 32]" and meta["format"] == "pt"


def test_user_mistakes_are_one_line(run_dir: Any, tmp_path: Any, capsys: Any) -> None:
    out = tmp_path / "m.onnx"
    out.write_bytes(b"keep me")
    assert main(["export", "--checkpoint", str(run_dir), "--out", str(out)]) == 1
    assert "exists; pass --force" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(["export", "--checkpoint", str(run_dir), "--format", "safetensors", "--out", str(out)]) == 2
    assert "does not match the suffix" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["export", "--checkpoint", str(run_dir), "--out", str(tmp_path / "m.pt")])
    assert info.value.code == 2 and ".onnx, .safetensors" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(tmp_path / "none.npz"), "--out", str(tmp_path / "x.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.npz" in err
