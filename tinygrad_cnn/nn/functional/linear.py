"""nn.functional: the affine map y = x W^T + b (torch.nn.functional.linear)."""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor

__all__ = ["linear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias.

    Shape: input (*, in_features); weight (out_features, in_features) or (in_features); bias (out_features) (or
    anything broadcastable to the output). Output (*, out_features), or (*) for a 1-D weight.

    Raises:
        RuntimeError: input's last dim differs from weight's in_features, naming both shapes, e.g.
        "linear: input has 84 features but weight expects 120 (input shape (50, 84), weight (10, 120))";
        a 0-d input or a weight that is not 1-D or 2-D; input and weight of different dtypes; a bias that does
        not broadcast to the output.
    """
    for t, arg in ((input, "input"), (weight, "weight")):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear(): argument '{arg}' must be Tensor, not {type(t).__name__}")
    xs, ws = tuple(input.shape), tuple(weight.shape)
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear: weight must be 1-D (in_features) or 2-D (out_features, in_features), got "
                           f"weight {ws} (input shape {xs})")
    if input.ndim == 0:
        raise RuntimeError(f"linear: input must have at least 1 dimension (*, in_features), got a 0-d input "
                           f"(weight {ws})")
    if xs[-1] != ws[-1]:
        raise RuntimeError(f"linear: input has {xs[-1]} features but weight expects {ws[-1]} (input shape {xs}, "
                           f"weight {ws})")
    if input.dtype != weight.dtype:  # torch refuses too: silently promoting would hide float64 data (slow)
        raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got input {input.dtype} and "
                           f"weight {weight.dtype} (input shape {xs}, weight {ws}); convert the input (x.float()) "
                           f"or the layer (.double())")
    out = input.matmul(weight.t() if weight.ndim == 2 else weight)   # (*, out_features) or (*)
    if bias is None:
        return out
    if not isinstance(bias, Tensor):
        raise TypeError(f"linear(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    try:
        np.broadcast_shapes(tuple(out.shape), tuple(bias.shape))
    except ValueError:
        raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not match the output of shape "
                           f"{tuple(out.shape)} (input shape {xs}, weight {ws}); bias must hold out_features = "
                           f"{ws[0] if weight.ndim == 2 else 1} values") from None
    return out + bias
