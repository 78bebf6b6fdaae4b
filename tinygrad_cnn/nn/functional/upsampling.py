"""nn.functional: interpolate, upsample, upsample_nearest, upsample_bilinear (torch names, arguments, defaults).

Resizing is separable, so it is done one spatial axis at a time as an index gather along that axis (GetItem, whose
backward scatter-adds) and, for the linear modes, a weighted sum of the two gathered neighbours. Source indices and
weights follow torch's CPU kernels (UpSample.h): nearest uses floor(dst * scale) computed in float32, the linear
modes compute their weights in the input's dtype, so results match torch to rounding.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...ops.index import GetItem
from ...tensor import Tensor
from .pooling import adaptive_avg_pool2d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}  # mode -> the input dimension it needs


def _nearest_index(n_in: int, n_out: int, scale: float | None, exact: bool, shortcut: bool) -> np.ndarray:
    """Input position copied by each output position along one axis (torch's nearest_idx, float32 arithmetic).

    shortcut: torch's 2-D 'nearest' kernel (only that one) copies when n_out == n_in and takes dst // 2 when
    n_out == 2 n_in, whatever the scale_factor; the 1-D and 3-D kernels always use floor(dst * scale).
    """
    dst = np.arange(n_out)
    if shortcut and n_out == n_in:
        return dst
    if shortcut and n_out == 2 * n_in:
        return dst >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    pos = (dst.astype(np.float32) + np.float32(0.5)) * s if exact else dst.astype(np.float32) * s
    return np.minimum(np.floor(pos).astype(np.int64), n_in - 1)


def _linear_weights(n_in: int, n_out: int, scale: float | None, align_corners: bool,
                    dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, lambda0, lambda1) along one axis: out[j] = lambda0[j] * x[i0[j]] + lambda1[j] * x[i1[j]]."""
    dst = np.arange(n_out).astype(dtype)
    if align_corners:
        ratio = dtype.type((n_in - 1) / (n_out - 1)) if n_out > 1 else dtype.type(0)
        src = ratio * dst
    else:
        ratio = dtype.type(1.0 / scale) if scale is not None and scale > 0 else dtype.type(n_in) / dtype.type(n_out)
        src = np.maximum(ratio * (dst + dtype.type(0.5)) - dtype.type(0.5), dtype.type(0))  # no negative sources
    if n_in == n_out:  # torch copies exactly in this case
        src = np.arange(n_out).astype(dtype)
    i0 = src.astype(np.int64)                                   # src >= 0, so truncation is floor
    i1 = i0 + (i0 < n_in - 1)
    lambda1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    return i0, i1, (dtype.type(1) - lambda1).astype(dtype), lambda1


def _sizes_and_scales(input: Tensor, size: Any, scale_factor: Any, recompute: bool | None
                      ) -> tuple[list[int], list[float | None]]:
    """torch's argument rules: exactly one of size / scale_factor, one entry per spatial dim or a scalar."""
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if recompute and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {spatial} and output size of {size}. Please provide input tensor in (N, C, d1, "
                    f"d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                                f"int], but got size with types {[type(s) for s in size]}")
            return _positive(spatial, [int(s) for s in size]), [None] * dim
        return _positive(spatial, [int(size)] * dim), [None] * dim
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {spatial} and scale_factor of shape {scale_factor}. Please provide input tensor in "
                f"(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dim
    out = [int(math.floor(n * s)) for n, s in zip(spatial, scales)]
    return _positive(spatial, out), ([None] * dim if recompute else scales)


def _positive(spatial: list, out: list) -> list:
    """torch refuses an empty input or output size (numpy would return an empty tensor silently)."""
    if min(spatial + out) <= 0:
        names = "DHW"[3 - len(out):]
        fmt = lambda sizes: ", ".join(f"{n}: {s}" for n, s in zip(names, sizes))  # noqa: E731
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({fmt(spatial)}) and "
                           f"output ({fmt(out)})")
    return out


def _gather(x: Tensor, axis: int, idx: np.ndarray) -> Tensor:
    return GetItem.apply(x, (slice(None),) * axis + (idx,))   # (..., len(idx), ...) at `axis`


def _check_mode(input: Tensor, mode: str, antialias: bool) -> None:
    """torch's errors for a mode that does not fit the input's dimension; ours for what is not implemented."""
    if input.ndim not in (3, 4, 5) or mode not in ("nearest", "nearest-exact", "area", *_LINEAR):
        if mode in _LINEAR and input.ndim in (3, 4, 5):
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode]}D input")
        if mode in ("bicubic", "lanczos") and input.ndim == 4:
            raise NotImplementedError(f"interpolate: mode '{mode}' is not implemented in tinygrad_cnn")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) "
                                  f"for the modes: {_MODES} (got {mode})")
    if mode in _LINEAR and _LINEAR[mode] != input.ndim:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode]}D input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in tinygrad_cnn")


def _resize_axis(x: Tensor, axis: int, n_out: int, scale: float | None, mode: str, align_corners: bool) -> Tensor:
    """Resize one spatial axis: a gather ('nearest*') or a weighted sum of two gathers (the linear modes)."""
    n_in = x.shape[axis]
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        return _gather(x, axis, _nearest_index(n_in, n_out, scale, exact, not exact and x.ndim == 4))
    i0, i1, lambda0, lambda1 = _linear_weights(n_in, n_out, scale, align_corners, x._data.dtype)
    bshape = (n_out,) + (1,) * (x.ndim - axis - 1)              # broadcast the weights along the later axes
    return (_gather(x, axis, i0) * Tensor._wrap(lambda0.reshape(bshape))
            + _gather(x, axis, i1) * Tensor._wrap(lambda1.reshape(bshape)))


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of a (N, C, *spatial) tensor to `size` or to floor(d * scale_factor).

    Modes: 'nearest', 'nearest-exact' (3-D to 5-D input), 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D),
    'area' (adaptive average pooling; 3-D or 4-D). align_corners (linear modes only, default False) maps the corner
    pixels' centres onto each other. A scale_factor is used as given for the source positions unless
    recompute_scale_factor=True (then the ratio of the sizes is used, as torch).

    Shape: (N, C, d_1, ..., d_k) -> (N, C, o_1, ..., o_k), o_i = size_i or floor(d_i * scale_factor_i).

    Raises:
        ValueError: both or neither of size / scale_factor, a length mismatch, align_corners with a non-linear mode.
        NotImplementedError: a mode not matching the input's dimension, bicubic / lanczos / antialias.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    else:
        align_corners = bool(align_corners)
    _check_mode(input, mode, antialias)
    # 'area' always works from an integer size, as torch (its scale_factor goes through recompute_scale_factor)
    recompute = recompute_scale_factor or (mode == "area" and size is None)
    out_sizes, scales = _sizes_and_scales(input, size, scale_factor, recompute)
    if mode == "area":
        if input.ndim == 5:
            raise NotImplementedError("interpolate: mode 'area' with 5D input (adaptive_avg_pool3d) is not "
                                      "implemented in tinygrad_cnn")
        if input.ndim == 3:  # a 1-D signal is a 2-D image of height 1
            return adaptive_avg_pool2d(input.unsqueeze(2), (1, out_sizes[0])).squeeze(2)
        return adaptive_avg_pool2d(input, tuple(out_sizes))
    if mode in _LINEAR and not input.is_floating_point():
        raise NotImplementedError(f'"upsample_{mode}{input.ndim - 2}d_out_frame" not implemented for '
                                  f"'{str(input.dtype).rpartition('.')[2]}' (interpolate needs a floating input)")
    x = input
    for k, (n_out, scale) in enumerate(zip(out_sizes, scales)):
        x = _resize_axis(x, 2 + k, n_out, scale, mode, align_corners)
    return x


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of interpolate (torch warns)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(input, size, scale_factor, mode='nearest')."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)

