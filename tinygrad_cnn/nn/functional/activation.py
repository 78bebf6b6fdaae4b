"""nn.functional: activations and softmax (torch.nn.functional names, arguments and defaults).

Every function maps a tensor of any shape (*) to the same shape (*), except softmax-like ones which also take `dim`.
`inplace=True` overwrites the input's data (torch semantics: a leaf that requires grad refuses, version bumps).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from ...ops import activation as A
from ...ops import elementwise as E
from ...ops.inplace import inplace as _inplace
from ...ops.softmax import LogSoftmax, Softmax
from ...tensor import Tensor
from ..._tensor_args import dim_arg

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu", "gelu", "sigmoid",
           "tanh", "softplus", "silu", "mish", "hardtanh", "hardtanh_", "logsigmoid", "softmax", "log_softmax",
           "softmin"]

# SELU's constants from Klambauer et al. 2017, as in torch
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _apply(input: Tensor, fn: Callable[[Tensor], Tensor], inplace: bool, name: str) -> Tensor:
    _check_tensor(input, name)
    return _inplace(input, fn, name + "_") if inplace else fn(input)


def _check_tensor(input: Any, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _check_float(input: Tensor, name: str) -> None:
    _check_tensor(input, name)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating-point input but got {input.dtype} (shape "
                           f"{tuple(input.shape)}); convert it with .float() first")


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0). Shape: (*) -> (*)."""
    return _apply(input, E.ReLU.apply, inplace, "relu")


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6); gradient 0 at both edges (torch's hardtanh rule). Shape: (*) -> (*)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input if input > 0 else negative_slope * input. Shape: (*) -> (*)."""
    return _apply(input, lambda x: A.LeakyReLU.apply(x, float(negative_slope)), inplace, "leaky_relu")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input if input > 0 else alpha * (exp(input) - 1). Shape: (*) -> (*)."""
    _check_float(input, "elu")
    return _apply(input, lambda x: A.ELU.apply(x, float(alpha), 1.0, 1.0), inplace, "elu")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(input, alpha) with torch's fixed alpha ~ 1.6733 and scale ~ 1.0507. Shape: (*) -> (*)."""
    _check_float(input, "selu")
    return _apply(input, lambda x: A.ELU.apply(x, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace, "selu")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)). Shape: (*) -> (*).

    Raises:
        RuntimeError: alpha == 0.
    """
    _check_float(input, "celu")
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 (it divides the input)")
    return _apply(input, lambda x: A.ELU.apply(x, float(alpha), 1.0, 1.0 / alpha), inplace, "celu")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """input * Phi(input), Phi the standard normal CDF; approximate='tanh' for the tanh formula. Shape: (*) -> (*).

    Raises:
        RuntimeError: approximate not 'none' or 'tanh'.
    """
    _check_float(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either 'none' or 'tanh', got {approximate!r}")
    return A.GELU.apply(input, approximate)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input)). Shape: (*) -> (*)."""
    _check_tensor(input, "sigmoid")
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(input). Shape: (*) -> (*)."""
    _check_tensor(input, "tanh")
    return input.tanh()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold. Shape: (*) -> (*)."""
    _check_float(input, "softplus")
    return A.Softplus.apply(input, float(beta), float(threshold))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input) (swish). Shape: (*) -> (*)."""
    _check_float(input, "silu")
    return _apply(input, A.SiLU.apply, inplace, "silu")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * tanh(softplus(input)), composed. Shape: (*) -> (*)."""
    _check_float(input, "mish")
    return _apply(input, lambda x: x * A.Softplus.apply(x, 1.0, 20.0).tanh(), inplace, "mish")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(input, min_val, max_val); the gradient is 0 at and beyond both edges. Shape: (*) -> (*).

    Raises:
        ValueError: min_val > max_val.
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _apply(input, lambda x: A.Hardtanh.apply(x, min_val, max_val), inplace, "hardtanh")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(input)), stable for large |input|. Shape: (*) -> (*)."""
    _check_float(input, "logsigmoid")
    return A.LogSigmoid.apply(input)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """torch's legacy rule when dim is omitted: dim 0 for 0-, 1- and 3-d inputs, else 1 (with its warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(op: Any, input: Tensor, dim: int | None, stacklevel: int, dtype: Any, name: str) -> Tensor:
    _check_tensor(input, name)
    if dim is None:
        dim = _softmax_dim(name, input.ndim, stacklevel + 1)
    if dtype is not None:
        input = input.to(dtype)  # torch casts before the op, so the computation runs in dtype
    _check_float(input, name)
    d = dim_arg(dim, input.ndim, name)
    if input.ndim == 0:  # a scalar is a 1-element row
        return op.apply(input.reshape(1), 0).reshape(())
    return op.apply(input, d)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x), dim), max-shifted so large logits never overflow. Shape: (*) -> (*).

    Raises:
        IndexError: dim out of range. RuntimeError: integer input without dtype.
    """
    return _softmax_like(Softmax, input, dim, _stacklevel, dtype, "softmax")


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """x - logsumexp(x, dim), max-shifted (finite for logits of any size). Shape: (*) -> (*).

    Raises:
        IndexError: dim out of range. RuntimeError: integer input without dtype.
    """
    return _softmax_like(LogSoftmax, input, dim, _stacklevel, dtype, "log_softmax")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-input, dim). Shape: (*) -> (*)."""
    _check_tensor(input, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return _softmax_like(Softmax, -input, dim, _stacklevel, None, "softmin")

