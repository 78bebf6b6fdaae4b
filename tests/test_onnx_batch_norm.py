"""tg.onnx export of the batch-norm primitives: eval-mode F.batch_norm called directly (the per-channel affine
map) and BatchNorm layers in training mode with TrainingMode.PRESERVE (batch statistics), run by onnxruntime."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
nn = tg.nn


def run(proto, x: np.ndarray) -> np.ndarray:
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


class FunctionalBN(nn.Module):
    def __init__(self, C: int, affine: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(tg.randn(C)) if affine else None
        self.bias = nn.Parameter(tg.randn(C)) if affine else None
        self.register_buffer("rm", tg.randn(C))
        self.register_buffer("rv", tg.rand(C) + 0.5)

    def forward(self, x):
        return tg.nn.functional.batch_norm(x.tanh(), self.rm, self.rv, self.weight, self.bias) * 2


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3, 3)])
@pytest.mark.parametrize("affine", [False, True])
def test_functional_eval_batch_norm_exports(shape, affine):
    tg.manual_seed(1)
    model = FunctionalBN(shape[1], affine).eval()
    x = tg.randn(*shape)
    proto = tg.onnx.export(model, x, None)
    with tg.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(run(proto, x.numpy()), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer, shape", [(lambda: nn.BatchNorm2d(4), (3, 4, 5, 5)),
                                          (lambda: nn.BatchNorm1d(4, affine=False), (6, 4))])
def test_training_mode_batch_norm_exports_with_batch_statistics(layer, shape):
    tg.manual_seed(2)
    bn = layer()
    if bn.weight is not None:
        with tg.no_grad():
            bn.weight.copy_(tg.randn(4))
            bn.bias.copy_(tg.randn(4))
    model = nn.Sequential(bn, nn.ReLU()).train()
    x = tg.randn(*shape) * 3 + 1
    proto = tg.onnx.export(model, x, None, training=tg.onnx.TrainingMode.PRESERVE)
    other = tg.randn(*shape) * 2 - 1  # batch statistics of this input, not of the traced one
    with tg.no_grad():
        want = model(other).numpy()
    np.testing.assert_allclose(run(proto, other.numpy()), want, rtol=1e-4, atol=1e-4)
