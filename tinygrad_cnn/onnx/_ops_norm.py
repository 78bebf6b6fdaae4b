"""Translators of the batch-norm primitives (ops/batch_norm.py): the per-channel affine map (eval-mode
F.batch_norm, group_norm's weight and bias), BatchNorm with batch statistics (TrainingMode.PRESERVE) and with
per-sample statistics (layer_norm, group_norm), as short exact compositions of ONNX nodes."""
from __future__ import annotations

from typing import Any

from ..ops import batch_norm as bn
from ._call import Call, translates


def _per_channel(c: Call, v: Any, ndim: int) -> str:
    """A (C,) vector reshaped to (C, 1, ..., 1), so it broadcasts over dim 1 of an (N, C, *) tensor."""
    return c.b.node("Reshape", [c.name(v, c.x(0)), c.b.ints([-1] + [1] * (ndim - 2), "shape")])


@translates(bn.ChannelAffine)
def channel_affine(c: Call) -> str:
    """x * scale + shift + x2 * scale2 -> Mul / Add on reshaped vectors."""
    x, scale, shift = c.args[:3]
    x2, scale2 = (list(c.args[3:5]) + [None, None])[:2]
    b, nd = c.b, c.x(0).ndim
    out = c.name(x)
    if scale is not None:
        out = b.node("Mul", [out, _per_channel(c, scale, nd)])
    if x2 is not None:
        term = c.name(x2)
        out = b.node("Add", [out, b.node("Mul", [term, _per_channel(c, scale2, nd)]) if scale2 is not None
                             else term])
    if shift is not None:
        out = b.node("Add", [out, _per_channel(c, shift, nd)])
    return out


@translates(bn.BatchNorm)
def batch_norm(c: Call) -> str:
    """Batch statistics: (x - mean) / sqrt(biased var + eps) * weight + bias, reductions over every dim but 1
    (per_sample: over the dims after 1, layer_norm and group_norm's rows)."""
    x, weight, bias = c.args[:3]
    eps = c.args[6]
    per_sample = len(c.args) > 7 and bool(c.args[7])
    b, nd = c.b, x.ndim
    axes = list(range(2, nd)) if per_sample else [0] + list(range(2, nd))
    centred = b.node("Sub", [c.name(x), b.reduce("ReduceMean", c.name(x), axes, True)])
    var = b.reduce("ReduceMean", b.node("Mul", [centred, centred]), axes, True)
    out = b.node("Div", [centred, b.node("Sqrt", [b.node("Add", [var, c.name(float(eps), x)])])])
    if weight is not None:
        out = b.node("Mul", [out, _per_channel(c, weight, nd)])
    if bias is not None:
        out = b.node("Add", [out, _per_channel(c, bias, nd)])
    return out
