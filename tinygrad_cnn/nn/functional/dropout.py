"""nn.functional: dropout (torch.nn.functional names, arguments and defaults).

The mask is drawn from the global generator (tinygrad_cnn.random.default_rng), so `tg.manual_seed(s)` reproduces it.
Kept elements are scaled by 1 / (1 - p) so the expectation is unchanged; in eval (training=False) the input is
returned as is. Composed: the output is input * (mask / (1 - p)), whose Mul node routes the gradient through the
same mask.
"""
from __future__ import annotations

import warnings

import numpy as np

from ...ops.inplace import inplace as _inplace
from ...random import default_rng
from ...tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


def _check(input: object, p: float, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _masked(input: Tensor, p: float, mask_shape: tuple, inplace: bool, name: str) -> Tensor:
    """input * keep / (1 - p) with keep ~ Bernoulli(1 - p) of mask_shape (broadcast over the rest)."""
    if p == 1.0:  # everything dropped; avoids 0 * inf
        scale = np.zeros(mask_shape, dtype=input._data.dtype)
    else:
        keep = default_rng().random(mask_shape) >= p
        scale = keep.astype(input._data.dtype) * (1.0 / (1.0 - p))
    factor = Tensor._wrap(scale)
    if inplace:
        return _inplace(input, lambda x: x * factor, name + "_")
    return input * factor


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p). Shape: (*) -> (*).

    Raises:
        ValueError: p outside [0, 1].
    """
    _check(input, p, "dropout")
    if not training or p == 0.0:
        return input
    return _masked(input, p, tuple(input.shape), inplace, "dropout")


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, name: str, spatial: int) -> Tensor:
    """Zero whole channels: the mask has shape (N, C, 1, ...), or (C, 1, ...) for an unbatched input.

    torch's rules per variant: dropout1d accepts only 2-D/3-D input; dropout3d warns outside 4-D/5-D and treats
    anything but 5-D as unbatched; dropout2d warns outside 3-D/4-D and always reads dims 0, 1 as (N, C), so a 3-D
    input gets channel-wise 1-D dropout (with torch's warning).
    """
    _check(input, p, name)
    batched = spatial + 2
    if name == "dropout1d" and input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input of shape "
                           f"{tuple(input.shape)}")
    if input.ndim not in (batched - 1, batched):
        warnings.warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result in "
                      f"an error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead.", stacklevel=3)
    if name == "dropout2d" and input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=3)
    lead = 2 if (name == "dropout2d" or input.ndim == batched) else 1  # unbatched: channels are dim 0
    if input.ndim + (2 - lead) < 2:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the input (got shape "
                           f"{tuple(input.shape)})")
    if not training or p == 0.0:
        return input
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _masked(input, p, mask_shape, inplace, name)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p. Shape: same as input."""
    return _feature_dropout(input, p, training, inplace, "dropout1d", 1)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (feature maps) of (N, C, H, W) with probability p. Shape: same as input.

    A 3-D input is taken as (N, C, L), as torch does today (with its warning).
    """
    return _feature_dropout(input, p, training, inplace, "dropout2d", 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p. Shape: same as input."""
    return _feature_dropout(input, p, training, inplace, "dropout3d", 3)

