"""Modules exported as one ONNX node each, instead of the primitives their forward records.

Eval-mode BatchNorm records one per-channel affine map (ChannelAffine); ONNX runtimes fuse a BatchNormalization node
into the preceding Conv, so it is emitted as one. Likewise Linear -> Gemm (2-D input), Flatten -> Flatten,
Upsample -> Resize, Embedding -> Gather (its forward indexes with a copy of the
indices, which the trace could not follow). `collapsible(module, x)` decides per call (a BatchNorm in training mode, or a Flatten of
other dims, is left to its primitives, which export correctly anyway). It is decided when the module runs: the
exporter restores the model's train/eval modes before translating.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import nn
from ._call import Call
from ._graph import Value


class ModuleCall(Call):
    """A collapsed module call: args = [input Value]; `module`, the output shape, and `param(tensor)` naming a
    parameter or buffer by its state_dict key."""

    def __init__(self, b: Any, module: Any, x: Value, out_shape: tuple, path: str, names: dict) -> None:
        super().__init__(b, type(module), [x], path)
        self.module, self.out_shape, self._names = module, out_shape, names

    def param(self, t: Any) -> str:
        return self.name(Value(None, tuple(t.shape), t._data.dtype, t._data, self._names.get(id(t), "param")))


def _batch_norm_ok(m: Any, ndim: int) -> bool:
    return not m.training and m.running_mean is not None and m.running_var is not None


def _batch_norm(c: ModuleCall) -> str:
    m, x = c.module, c.x(0)
    ones = np.ones(m.num_features, x.dtype)
    scale = c.param(m.weight) if m.weight is not None else c.b.const(ones, "bn_scale")
    bias = c.param(m.bias) if m.bias is not None else c.b.const(np.zeros_like(ones), "bn_bias")
    return c.b.node("BatchNormalization", [c.name(x), scale, bias, c.param(m.running_mean),
                                           c.param(m.running_var)], epsilon=float(m.eps))


def _linear(c: ModuleCall) -> str:
    """Gemm(x, W, b, transB=1) for (N, in) inputs; MatMul with W^T (+ b) for batched (..., in) inputs."""
    m, x = c.module, c.x(0)
    b = c.b
    if x.ndim == 2:
        inputs = [c.name(x), c.param(m.weight)] + ([c.param(m.bias)] if m.bias is not None else [])
        return b.node("Gemm", inputs, transB=1)
    out = b.node("MatMul", [c.name(x), b.node("Transpose", [c.param(m.weight)], perm=[1, 0])])
    return b.node("Add", [out, c.param(m.bias)]) if m.bias is not None else out


def _flatten_ok(m: Any, ndim: int) -> bool:
    return ndim >= 2 and m.start_dim % ndim == 1 and m.end_dim % ndim == ndim - 1


def _flatten(c: ModuleCall) -> str:
    return c.b.node("Flatten", [c.inp(0)], axis=1)


def _upsample_ok(m: Any, ndim: int) -> bool:
    return ndim == 4 and m.mode in ("nearest", "bilinear")


def _upsample(c: ModuleCall) -> str:
    """Resize with scales out/in per axis: nearest = torch's floor(dst * in / out) (asymmetric, floor); bilinear
    with align_corners or torch's half-pixel centres."""
    m, x = c.module, c.x(0)
    scales = np.asarray([1.0, 1.0] + [o / i for o, i in zip(c.out_shape[2:], x.shape[2:])], np.float32)
    if m.mode == "nearest":
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    else:
        attrs = {"mode": "linear",
                 "coordinate_transformation_mode": "align_corners" if m.align_corners else "pytorch_half_pixel"}
    return c.b.node("Resize", [c.name(x), "", c.b.const(scales, "scales")], **attrs)


def _embedding_ok(m: Any, ndim: int) -> bool:
    return m.max_norm is None  # max_norm renormalises the weight in place during forward


def _embedding(c: ModuleCall) -> str:
    """Rows of the weight picked by the integer input: Gather(weight, indices) on axis 0."""
    return c.b.node("Gather", [c.param(c.module.weight), c.inp(0)], axis=0)


def _always(m: Any, ndim: int) -> bool:
    return True


# module class -> (collapsible(module, input ndim) at call time, translator(ModuleCall) -> output name)
MODULES: dict[type, tuple[Callable, Callable]] = {
    nn.BatchNorm1d: (_batch_norm_ok, _batch_norm),
    nn.BatchNorm2d: (_batch_norm_ok, _batch_norm),
    nn.Linear: (_always, _linear),
    nn.Flatten: (_flatten_ok, _flatten),
    nn.Embedding: (_embedding_ok, _embedding),
    nn.Upsample: (_upsample_ok, _upsample),
    nn.UpsamplingNearest2d: (_upsample_ok, _upsample),
    nn.UpsamplingBilinear2d: (_upsample_ok, _upsample),
}
