"""Translators of the elementwise primitives and activations (one ONNX node each, or a short exact composition)."""
from __future__ import annotations

import math

import numpy as np

from ..ops import activation as act
from ..ops import elementwise as ew
from ..ops import selection as sel
from . import _trace
from ._call import Call, translates
from ._graph import Value

_SAME_NAME = {ew.Exp: "Exp", ew.Log: "Log", ew.Sqrt: "Sqrt", ew.Abs: "Abs", ew.Sin: "Sin", ew.Cos: "Cos",
              ew.Neg: "Neg", ew.ReLU: "Relu", ew.Sigmoid: "Sigmoid", ew.Tanh: "Tanh", act.Erf: "Erf",
              ew.Clone: "Identity"}
_BINARY = {ew.Add: "Add", ew.Sub: "Sub", ew.Mul: "Mul", ew.Div: "Div", ew.Pow: "Pow", sel.Maximum: "Max",
           sel.Minimum: "Min"}


@translates(*_SAME_NAME)
def unary(c: Call) -> str:
    return c.b.node(_SAME_NAME[c.fn], [c.inp(0)])


@translates(*_BINARY)
def binary(c: Call) -> str:
    """Python numbers take the dtype of the tensor operand (numpy's rule for scalars, and ours)."""
    like = c._first_tensor()
    return c.b.node(_BINARY[c.fn], [c.name(c.args[0], like), c.name(c.args[1], like)])


@translates(sel.Where)
def where(c: Call) -> str:
    like = next((a for a in c.args[1:] if isinstance(a, Value)), None) or Value(None, (), c.outs[0][1])
    cond = c.args[0]
    cond_name = c.name(cond) if hasattr(cond, "shape") else c.b.const(np.asarray(cond, dtype=bool), "cond")
    return c.b.node("Where", [cond_name, c.name(c.args[1], like), c.name(c.args[2], like)])


@translates(sel.Clamp)
def clamp(c: Call) -> str:
    x, lo, hi = c.args
    b = c.b
    if all(v is None or np.ndim(getattr(v, "const", v)) == 0 and not _is_dynamic(v) for v in (lo, hi)):
        return b.node("Clip", [c.name(x), c.name(lo, x), c.name(hi, x)])
    out = c.name(x)  # tensor bounds broadcast: max then min, torch's clamp order
    if lo is not None:
        out = b.node("Max", [out, c.name(lo, x)])
    if hi is not None:
        out = b.node("Min", [out, c.name(hi, x)])
    return out


def _is_dynamic(v: object) -> bool:
    return hasattr(v, "shape") and getattr(v, "const", None) is None


@translates(ew.Cast)
def cast(c: Call) -> str:
    to = c.b.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(getattr(c.args[1], "np", c.args[1])))
    return c.b.node("Cast", [c.inp(0)], to=int(to))


@translates(act.LeakyReLU)
def leaky_relu(c: Call) -> str:
    return c.b.node("LeakyRelu", [c.inp(0)], alpha=float(c.args[1]))


@translates(act.Hardtanh)
def hardtanh(c: Call) -> str:
    x = c.x(0)
    return c.b.node("Clip", [c.name(x), c.name(c.args[1], x), c.name(c.args[2], x)])


@translates(act.ELU)
def elu(c: Call) -> str:
    """scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)): Elu (scale = input_scale = 1), Selu
    (input_scale = 1), else a Where of the two sides (CELU: input_scale = 1 / alpha)."""
    x, alpha, scale, input_scale = c.args
    b = c.b
    if input_scale == 1 and scale == 1:
        return b.node("Elu", [c.name(x)], alpha=float(alpha))
    if input_scale == 1:
        return b.node("Selu", [c.name(x)], alpha=float(alpha), gamma=float(scale))
    xn = c.name(x)
    negative = b.node("Elu", [b.node("Mul", [xn, c.name(input_scale, x)])], alpha=float(alpha))
    return b.node("Where", [b.node("Greater", [xn, c.name(0, x)]), b.node("Mul", [xn, c.name(scale, x)]),
                            b.node("Mul", [negative, c.name(scale, x)])])


@translates(act.GELU)
def gelu(c: Call) -> str:
    """Gelu from opset 20; before, the exact formula: erf (0.5 x (1 + erf(x / sqrt 2))) or tanh's."""
    x, approximate = c.args
    b = c.b
    if b.opset >= 20:
        return b.node("Gelu", [c.name(x)], approximate=approximate)
    xn = c.name(x)
    if approximate == "tanh":
        cube = b.node("Mul", [b.node("Mul", [xn, xn]), xn])
        inner = b.node("Add", [xn, b.node("Mul", [cube, c.name(0.044715, x)])])
        t = b.node("Tanh", [b.node("Mul", [inner, c.name(math.sqrt(2 / math.pi), x)])])
    else:
        t = b.node("Erf", [b.node("Div", [xn, c.name(math.sqrt(2.0), x)])])
    half_x = b.node("Mul", [xn, c.name(0.5, x)])
    return b.node("Mul", [half_x, b.node("Add", [t, c.name(1.0, x)])])


@translates(act.Softplus)
def softplus(c: Call) -> str:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch's linear region)."""
    x, beta, threshold = c.args
    b = c.b
    xn = c.name(x)
    scaled = xn if beta == 1 else b.node("Mul", [xn, c.name(beta, x)])
    soft = b.node("Softplus", [scaled])
    if beta != 1:
        soft = b.node("Div", [soft, c.name(beta, x)])
    linear = b.node("Greater", [scaled, c.name(threshold, x)])
    return b.node("Where", [linear, xn, soft])


@translates(act.LogSigmoid)
def log_sigmoid(c: Call) -> str:
    b = c.b
    return b.node("Neg", [b.node("Softplus", [b.node("Neg", [c.inp(0)])])])


@translates(act.SiLU)
def silu(c: Call) -> str:
    xn = c.inp(0)
    return c.b.node("Mul", [xn, c.b.node("Sigmoid", [xn])])


_METHODS = {_trace.Sign: "Sign", _trace.Floor: "Floor", _trace.Ceil: "Ceil", _trace.Round: "Round"}


@translates(*_METHODS)
def rounding(c: Call) -> str:
    """x.sign(), floor(), ceil(), round() (ONNX Round rounds half to even, as numpy and torch)."""
    return c.b.node(_METHODS[c.fn], [c.inp(0)])
