"""tg.onnx.export op by op: each case is a small module exported with a dynamic batch axis, checked with
onnx.checker (full_check) and run by onnxruntime at two batch sizes; outputs must equal ours to 1e-5 (float32).
Plus the errors: an op with no translation names the op and the module path; a missing extra is named."""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn
from tinygrad_cnn.nn import functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class Fn(nn.Module):
    """A module running fn(x) (functional cases), optionally owning submodules in `mods`."""

    def __init__(self, fn: Callable, *mods: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleList(mods)

    def forward(self, x: Any) -> Any:
        return self.fn(x, *self.mods)


def check(model: nn.Module, shape: tuple, batches: tuple = (2, 3), opset: int | None = None) -> Any:
    """Export with batch batches[0], run onnxruntime at every batch size; returns the ONNX model."""
    rng = np.random.default_rng(0)

    def sample(n: int) -> np.ndarray:
        return rng.normal(size=(n, *shape)).astype(np.float32)

    model.eval()
    proto = tg.onnx.export(model, tg.tensor(sample(batches[0])), None, opset_version=opset,
                           dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for n in batches:
        x = sample(n)
        with tg.no_grad():
            want = model(tg.tensor(x)).numpy()
        (got,) = sess.run(None, {"input": x})
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


def op_types(proto: Any) -> set:
    return {n.op_type for n in proto.graph.node}


def seeded(make: Callable) -> Callable:
    def build() -> nn.Module:
        tg.manual_seed(0)
        return make()
    return build


CONV = {
    "conv_stride_pad": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (3, 9, 9)),
    "conv_groups_dilation": (lambda: nn.Conv2d(4, 8, 3, dilation=2, groups=2, bias=False), (4, 9, 9)),
    "conv_depthwise": (lambda: nn.Conv2d(4, 4, 3, padding=1, groups=4), (4, 6, 6)),
    "conv_same": (lambda: nn.Conv2d(3, 4, (3, 4), padding="same"), (3, 7, 8)),
    "conv_asym_pad": (lambda: nn.Conv2d(3, 2, (3, 1), padding=(2, 0), stride=(1, 2)), (3, 6, 7)),
    "conv_reflect": (lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (3, 6, 6)),
    "conv_circular": (lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="circular"), (3, 6, 6)),
    "conv_replicate": (lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="replicate"), (3, 6, 6)),
    "conv_transpose": (lambda: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), (4, 5, 5)),
    "conv_transpose_groups": (lambda: nn.ConvTranspose2d(4, 6, 2, stride=2, groups=2, dilation=1), (4, 3, 4)),
    "conv_transpose_dilation": (lambda: nn.ConvTranspose2d(2, 3, 3, dilation=2, bias=False), (2, 4, 4)),
    "lenet5_table": (lambda: nn.Conv2d(6, 16, 5, connection_table=nn.LENET5_C3_TABLE), (6, 10, 10)),
}
POOL = {
    "maxpool_pad_dilation": (lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=2), (3, 9, 9)),
    "maxpool_ceil": (lambda: nn.MaxPool2d(2, ceil_mode=True), (3, 7, 7)),
    "avgpool_pad": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (3, 8, 8)),
    "avgpool_exclude_pad": (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (3, 8, 8)),
    "avgpool_global": (lambda: nn.AvgPool2d(5), (3, 5, 5)),
    "lppool": (lambda: nn.LPPool2d(2, 2), (3, 6, 6)),
    "adaptive_avg_1": (lambda: nn.AdaptiveAvgPool2d(1), (3, 5, 7)),
    "adaptive_avg_div": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (3, 4, 9)),
    "adaptive_avg_uneven": (lambda: nn.AdaptiveAvgPool2d(3), (3, 7, 5)),
    "adaptive_max_1": (lambda: nn.AdaptiveMaxPool2d(1), (3, 5, 7)),
    "adaptive_max_div": (lambda: nn.AdaptiveMaxPool2d(2), (3, 6, 4)),
}
NORM_ACT = {
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (3, 4, 4)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), (5,)),
    "batchnorm_no_affine": (lambda: nn.BatchNorm2d(3, affine=False), (3, 4, 4)),
    "layernorm": (lambda: nn.LayerNorm([4, 5]), (3, 4, 5)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), (4, 3, 3)),
    "relu_leaky": (lambda: nn.Sequential(nn.ReLU(), nn.Linear(6, 6), nn.LeakyReLU(0.2)), (6,)),
    "sigmoid_tanh": (lambda: nn.Sequential(nn.Sigmoid(), nn.Tanh()), (5,)),
    "softplus": (lambda: nn.Softplus(), (5,)),
    "softplus_beta": (lambda: nn.Softplus(beta=2.0, threshold=3.0), (5,)),
    "gelu": (lambda: nn.GELU(), (5,)),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), (5,)),
    "elu": (lambda: nn.ELU(0.5), (5,)),
    "silu_mish": (lambda: nn.Sequential(nn.SiLU(), nn.Mish()), (5,)),
    "hardtanh_relu6": (lambda: nn.Sequential(nn.Hardtanh(-0.5, 0.5), nn.ReLU6()), (5,)),
    "logsigmoid": (lambda: nn.LogSigmoid(), (5,)),
    "softmax": (lambda: nn.Softmax(dim=1), (4, 3)),
    "log_softmax_last": (lambda: nn.LogSoftmax(dim=-1), (4, 3)),
    "softmin": (lambda: nn.Softmin(dim=1), (4,)),
    "dropout_eval": (lambda: nn.Sequential(nn.Dropout(0.5), nn.Dropout2d(0.3)), (3, 2, 2)),
    "linear_3d": (lambda: nn.Linear(4, 3), (5, 4)),
    "linear_no_bias": (lambda: nn.Linear(4, 3, bias=False), (4,)),
    "upsample_nearest": (lambda: nn.Upsample(scale_factor=2), (2, 3, 4)),
    "upsample_bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4)),
    "upsample_bilinear_ac": (lambda: nn.UpsamplingBilinear2d(scale_factor=2), (2, 3, 4)),
}
FUNCTIONAL = {
    "arith_scalars": (lambda x: (2 - x) * 3 / (x.abs() + 1) + x ** 2 - (-x), (5,)),
    "exp_log_sqrt": (lambda x: x.exp().log() + (x.abs() + 1).sqrt() + x.sin() + x.cos(), (5,)),
    "clamp": (lambda x: x.clamp(-0.5, 0.5) + x.clamp(min=0) + x.clamp(max=0.1), (5,)),
    "where_compare": (lambda x: tg.where(x > 0, x, 0.1 * x) + tg.where(x <= 0.3, 1.0, -1.0), (5,)),
    "where_constant_mask": (lambda x: tg.where(tg.tensor([True, False, True, False, True]), x, -x), (5,)),
    "maximum": (lambda x: tg.maximum(x, x * 0.5 + 0.1) + tg.minimum(x, -x), (5,)),
    "reductions": (lambda x: x.sum(1) + x.mean(1) + x.amax(1) + x.max(dim=1)[0] - x.min(dim=1)[0], (4, 3)),
    "reductions_keepdim": (lambda x: x - x.mean((1, 2), keepdim=True) + x.sum(-1, keepdim=True), (3, 4)),
    "max_indices": (lambda x: x.max(dim=1)[1].float() + x.min(1, keepdim=True).indices.float(), (4,)),
    "reshape_flatten": (lambda x: x.reshape(x.shape[0], -1, 2).flatten(1) + tg.flatten(x, 1), (3, 4)),
    "view_permute": (lambda x: x.permute(0, 2, 1).transpose(1, 2).view(x.shape[0], 12), (3, 4)),
    "cat_stack": (lambda x: tg.cat([x, x * 2], 1).flatten(1) + tg.stack([x, x], 1).flatten(1), (3, 4)),
    "slice_getitem": (lambda x: x[:, 1:3, ::2] + x[:, -2:, 0::2] + x[:, 0:1, None, 0:5:2][:, :, 0], (4, 5)),
    "gather_index": (lambda x: x[:, [2, 0, 1]] * x.index_select(1, tg.tensor([0, 0, 1])), (3, 2)),
    "int_index": (lambda x: x[:, 0] + x[..., -1] + x[:, 1:, 1].sum(-1, keepdim=True), (4, 4)),
    "sign_round": (lambda x: x.sign() + (x * 3).floor() - (x * 2).ceil() + (x * 4).round(), (5,)),
    "argmax_argmin": (lambda x: x.argmax(1).float() + x.argmin(dim=1, keepdim=True).float() + x.argmax(), (4,)),
    "pad_constant": (lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (3, 4)),
    "pad_crop": (lambda x: F.pad(x, (-1, 1)), (3, 4)),
    "matmul": (lambda x: x @ x.transpose(1, 2) + tg.matmul(x, tg.ones(4, 2)).sum(-1, keepdim=True), (3, 4)),
    "expand": (lambda x: x.unsqueeze(1).expand(-1, 3, -1) * 2, (4,)),
    "softmax_fn": (lambda x: F.softmax(x, dim=-1) + F.log_softmax(x, 1), (3, 4)),
    "cumsum": (lambda x: x.cumsum(1), (4,)),
    "interpolate_nearest": (lambda x: F.interpolate(x, size=(5, 7)), (2, 3, 4)),
    "interpolate_bilinear": (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), (2, 3, 4)),
    "cast_clone": (lambda x: x.double().float() + x.clone(), (4,)),
    "erf": (lambda x: tg.erf(x), (4,)),
    "selu_celu": (lambda x: F.selu(x) + F.celu(x, 0.7), (5,)),
}


@pytest.mark.parametrize("name", list(CONV) + list(POOL))
def test_conv_and_pool(name: str) -> None:
    make, shape = {**CONV, **POOL}[name]
    check(seeded(make)(), shape)


@pytest.mark.parametrize("name", list(NORM_ACT))
def test_norm_activation_linear_resize(name: str) -> None:
    make, shape = NORM_ACT[name]
    model = seeded(make)()
    for m in model.modules():  # statistics away from 0/1 so the normalisation matters
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean._data[:] = np.linspace(-0.5, 0.5, m.num_features)
            m.running_var._data[:] = np.linspace(0.5, 2.0, m.num_features)
    check(model, shape)


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_ops(name: str) -> None:
    fn, shape = FUNCTIONAL[name]
    check(Fn(lambda x: fn(x)), shape)


def test_collapsed_modules_are_single_onnx_nodes() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 16, 2))
    ops = op_types(check(model, (3, 6, 6)))
    assert ops == {"Conv", "BatchNormalization", "Relu", "Flatten", "Gemm", "Identity"}, ops
    ops = op_types(check(nn.Sequential(nn.Upsample(scale_factor=2), nn.Softmax(1)), (2, 3, 3)))
    assert "Resize" in ops and "Gather" not in ops


def test_initializers_keep_state_dict_names_and_the_masked_table_weight() -> None:
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(6, 16, 5, connection_table=nn.LENET5_C3_TABLE), nn.BatchNorm2d(16))
    proto = check(model, (6, 8, 8))
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    assert {"1.weight", "1.bias", "1.running_mean", "1.running_var", "0.bias"} <= set(inits)
    (conv,) = [n for n in proto.graph.node if n.op_type == "Conv"]
    w = inits[conv.input[1]]
    table = np.asarray(nn.LENET5_C3_TABLE, dtype=bool)
    assert np.all(w[~table] == 0) and np.all(w[table] != 0)


def test_dynamic_axes_and_names_in_the_graph(tmp_path: Any) -> None:
    path = tmp_path / "m.onnx"
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    tg.onnx.export(model, (tg.randn(4, 3),), str(path), input_names=["x"], output_names=["y"],
                   dynamic_axes={"x": {0: "n"}, "y": [0]})
    proto = onnx.load(str(path))
    x, y = proto.graph.input[0], proto.graph.output[0]
    assert (x.name, y.name) == ("x", "y")
    assert x.type.tensor_type.shape.dim[0].dim_param == "n" and x.type.tensor_type.shape.dim[1].dim_value == 3
    assert y.type.tensor_type.shape.dim[0].dim_param == "y_dynamic_axes_1"
    assert proto.opset_import[0].version == tg.onnx.DEFAULT_OPSET
    fixed = tg.onnx.export(model, tg.randn(4, 3), None)
    assert fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4


@pytest.mark.parametrize("opset", [13, 18, 20])
def test_other_opsets(opset: int) -> None:
    model = Fn(lambda x: F.gelu(x).mean(1) + x.amax(1) + x[:, 0])
    check(model, (4,), opset=opset)


def test_eval_mode_export_restores_training_mode() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout(0.5))
    model.train()
    proto = tg.onnx.export(model, tg.randn(4, 3), None)
    assert all(m.training for m in model.modules())
    assert "BatchNormalization" in op_types(proto)
    assert int(model[1].num_batches_tracked.item()) == 0  # eval run: the statistics were not updated


class Unsupported(nn.Module):
    def forward(self, x: Any) -> Any:
        return tg.einsum("ij,jk->ik", x, x.t())


def test_unsupported_op_names_the_op_and_the_module_path() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.ReLU(), Unsupported()))
    with pytest.raises(tg.onnx.ExportError, match=r"Einsum.*module 1\.1 \(Unsupported\)"):
        tg.onnx.export(model, tg.randn(3, 3), None)
    with pytest.raises(tg.onnx.ExportError, match=r"return_indices"):
        tg.onnx.export(Fn(lambda x: F.max_pool2d(x, 2, return_indices=True)[0]), tg.randn(1, 1, 4, 4), None)


def test_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"'onnx' extra.*pip install"):
        tg.onnx.export(nn.Linear(2, 2), tg.randn(1, 2), None)


def test_constants_that_depend_on_the_input_are_refused() -> None:
    """Values computed outside the traced ops would be frozen to the example's: the second run catches them."""
    leak = Fn(lambda x: x + tg.tensor(x.detach().numpy() * 2))  # through numpy: not an op of the graph
    with pytest.raises(tg.onnx.ExportError, match=r"argument 1 of Add .*depends on the input"):
        tg.onnx.export(leak, tg.randn(2, 3), None)
    batch_sized = Fn(lambda x: x + tg.zeros(x.shape[0], 3))
    tg.onnx.export(batch_sized, tg.randn(2, 3), None)  # a fixed batch: fine
    with pytest.raises(tg.onnx.ExportError, match="dynamic axis"):
        tg.onnx.export(batch_sized, tg.randn(2, 3), None, dynamic_axes={"input": [0]})


class Double(tg.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g * 2


def test_user_functions_are_named() -> None:
    with pytest.raises(tg.onnx.ExportError, match=r"Double \(an autograd.Function defined outside"):
        tg.onnx.export(nn.Sequential(Fn(lambda x: Double.apply(x))), tg.randn(2, 3), None)


def test_bad_arguments() -> None:
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="opset_version must be in"):
        tg.onnx.export(model, tg.randn(1, 2), None, opset_version=7)
    with pytest.raises(ValueError, match="dynamic_axes names 'x'"):
        tg.onnx.export(model, tg.randn(1, 2), None, dynamic_axes={"x": [0]})
    with pytest.raises(ValueError, match="2 input_names for 1 input"):
        tg.onnx.export(model, tg.randn(1, 2), None, input_names=["a", "b"])
    with pytest.raises(TypeError, match="must return a Tensor"):
        tg.onnx.export(Fn(lambda x: {"y": x}), tg.randn(1, 2), None)


def test_several_inputs_and_outputs_and_file_objects() -> None:
    import io

    class Two(nn.Module):
        def forward(self, a: Any, b: Any) -> Any:
            return a + b, a * b

    buf = io.BytesIO()
    tg.onnx.export(Two(), (tg.randn(2, 3), tg.randn(2, 3)), buf, input_names=["a", "b"])
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    a, b = np.ones((2, 3), np.float32), np.full((2, 3), 2, np.float32)
    s, p = sess.run(["output", "output_1"], {"a": a, "b": b})
    assert np.all(s == 3) and np.all(p == 2)


def test_keyword_tensors_are_inputs_too() -> None:
    class Scaled(nn.Module):
        def forward(self, x: Any, scale: Any = None) -> Any:
            return x * scale

    proto = tg.onnx.export(Scaled(), (tg.randn(2, 3), {"scale": tg.randn(2, 3)}), None, input_names=["x", "s"])
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x, s = np.full((2, 3), 2, np.float32), np.full((2, 3), 3, np.float32)
    assert np.all(sess.run(None, {"x": x, "s": s})[0] == 6)


def test_dynamic_axes_the_model_cannot_take_are_refused() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))  # H, W fixed by Linear
    tg.onnx.export(model, tg.randn(1, 1, 6, 6), None, dynamic_axes={"input": {0: "n"}})
    with pytest.raises(tg.onnx.ExportError, match=r"fails on an input one longer along its dynamic axes"):
        tg.onnx.export(model, tg.randn(1, 1, 6, 6), None, dynamic_axes={"input": {0: "n", 2: "h"}})


def test_integer_inputs_embedding_and_tensor_indices() -> None:
    tg.manual_seed(0)
    emb = nn.Embedding(10, 4)
    model = Fn(lambda i, e: e(i).sum(1) + e.weight[i[:, 0]] + e.weight.index_select(0, i[:, 1]), emb)
    proto = tg.onnx.export(model, tg.tensor([[1, 2, 3], [4, 5, 9]]), None, dynamic_axes={"input": {0: "n"}})
    onnx.checker.check_model(proto, full_check=True)
    assert "Gather" in op_types(proto)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for i in ([[0, 1, 2]], [[9, 8, 7], [3, 3, 3], [1, 0, 5]]):
        x = np.asarray(i, np.int64)
        with tg.no_grad():
            want = model(tg.tensor(x)).numpy()
        np.testing.assert_allclose(sess.run(None, {"input": x})[0], want, rtol=1e-6, atol=1e-6)
    frozen = Fn(lambda i, e: e.weight[tg.tensor(i.numpy())], emb)  # indices through numpy: caught
    with pytest.raises(tg.onnx.ExportError, match="depends on the input"):
        tg.onnx.export(frozen, tg.tensor([1, 2, 3]), None)


def test_torch_options_without_an_equivalent_are_refused() -> None:
    model = nn.Linear(2, 2)
    for option in ({"export_params": False}, {"keep_initializers_as_inputs": True},
                   {"training": tg.onnx.TrainingMode.TRAINING}):
        with pytest.raises(NotImplementedError, match=next(iter(option))):
            tg.onnx.export(model, tg.randn(1, 2), None, **option)
    tg.onnx.export(model, (tg.randn(1, 2),), None, dynamo=True)  # accepted, same exporter


def test_fully_convolutional_net_with_dynamic_height_and_width() -> None:
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(4, 2)).eval()
    axes = {"input": {0: "n", 2: "h", 3: "w"}, "output": {0: "n"}}
    proto = tg.onnx.export(model, tg.randn(1, 3, 8, 8), None, dynamic_axes=axes)
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for shape in ((2, 3, 8, 8), (1, 3, 12, 10)):
        x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
        with tg.no_grad():
            want = model(tg.tensor(x)).numpy()
        np.testing.assert_allclose(sess.run(None, {"input": x})[0], want, rtol=1e-5, atol=1e-5)


def test_the_core_import_does_not_import_the_extras() -> None:
    import subprocess

    code = ("import sys, tinygrad_cnn as tg; tg.onnx.export; tg.safetensors.save_file; "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'safetensors') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
