"""Every zoo model (the paper nets and the four standard CIFAR architectures) exported with tg.onnx.export:
the file passes onnx.checker.check_model(full_check=True) and onnxruntime gives our outputs to 1e-5 (float32) at
two batch sizes through one dynamic batch axis. BatchNorm statistics are randomised first so they matter."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

AXES = {"input": {0: "batch"}, "output": {0: "batch"}}


def randomise_batchnorm(model: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, (tg.nn.BatchNorm1d, tg.nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean._data[:] = rng.normal(0, 0.2, c)
            m.running_var._data[:] = rng.uniform(0.5, 1.5, c)
            if m.affine:
                m.weight._data[:] = rng.uniform(0.8, 1.2, c)
                m.bias._data[:] = rng.normal(0, 0.1, c)


@pytest.fixture(scope="module", params=tg.models.list_models())
def exported(request: Any, tmp_path_factory: Any) -> tuple:
    """(name, model in eval mode, path of its ONNX file exported at batch 1 with a dynamic batch axis)."""
    name = request.param
    tg.manual_seed(0)
    model = tg.models.get_model(name)
    randomise_batchnorm(model, 0)
    shape = tg.models.get_recipe(name).input_size
    path = tmp_path_factory.mktemp("onnx") / f"{name}.onnx"
    tg.onnx.export(model, tg.randn(1, *shape), str(path), dynamic_axes=AXES)
    return name, model.eval(), path, shape


def test_exported_file_passes_the_full_checker(exported: tuple) -> None:
    _, _, path, _ = exported
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_onnxruntime_gives_our_outputs_at_two_batch_sizes(exported: tuple) -> None:
    name, model, path, shape = exported
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    for n in (1, 2):
        x = rng.normal(size=(n, *shape)).astype(np.float32)
        with tg.no_grad():
            want = model(tg.tensor(x)).numpy()
        (got,) = sess.run(None, {"input": x})
        assert got.shape == (n, 10) and got.dtype == np.float32
        assert np.abs(want).max() > 1e-3, "outputs too small for the comparison to mean anything"
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=f"{name} batch {n}")
