"""Argument checks shared by the conv and pooling functions: pairs, batched inputs, padding, output sizes.

Every error names the op, the argument and the shapes involved, and is raised before numpy sees the data.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor

Pair = tuple[int, int]


def is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def pair(value: Any, name: str, op: str, *, minimum: int | None = None, what: str = "") -> Pair:
    """An int or a sequence of 1 or 2 ints -> (h, w); values below `minimum` are rejected (what: e.g. 'positive')."""
    if is_int(value):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(is_int(v) for v in value):
        out = (int(value[0]), int(value[-1]))
    else:
        raise RuntimeError(f"{op}: {name} must be a single int or a tuple of two ints, but got {name}={value!r}")
    if minimum is not None and min(out) < minimum:
        raise RuntimeError(f"{op}: {name} must be {what or f'>= {minimum}'}, but got {name}={value!r}")
    return out


def check_tensor(value: Any, name: str, op: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: argument '{name}' must be a Tensor, not {type(value).__name__}")


def batched(input: Any, op: str, *, allow_empty_batch: bool = True) -> tuple[Tensor, bool]:
    """(N, C, H, W) stays; (C, H, W) (unbatched, accepted by torch) becomes (1, C, H, W). Returns (x, unbatched).

    Raises RuntimeError for any other rank, or for an empty channel or spatial dimension.
    """
    check_tensor(input, "input", op)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected 3-D (unbatched, C x H x W) or 4-D (batched, N x C x H x W) input, "
                           f"but got input of shape {tuple(input.shape)}")
    dims = tuple(input.shape[-3:])
    if 0 in dims or (not allow_empty_batch and input.shape[0] == 0):
        raise RuntimeError(f"{op}: expected non-empty channel and spatial dimensions, but got input of shape "
                           f"{tuple(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)


def floating(x: Tensor, op: str) -> None:
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, but got dtype {x.dtype} "
                           f"(input shape {tuple(x.shape)})")


def pool_geometry(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1
                  ) -> tuple[Pair, Pair, Pair, Pair]:
    """Validated (kernel, stride, padding, dilation) pairs for a pooling op; stride None or () means kernel."""
    kernel = pair(kernel_size, "kernel_size", op, minimum=1, what="positive")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        step = kernel
    else:
        step = pair(stride, "stride", op, minimum=1, what="positive")
    pad = pair(padding, "padding", op, minimum=0, what="non-negative")
    dil = pair(dilation, "dilation", op, minimum=1, what="positive")
    for axis, k, p in (("H", kernel[0], pad[0]), ("W", kernel[1], pad[1])):
        # torch's max_pool2d_with_indices / avg_pool2d rule: pad <= kernel // 2, dilation not counted
        if p > k // 2:
            raise RuntimeError(f"{op}: padding should be at most half of kernel size, but got padding={padding!r} "
                               f"with kernel_size={kernel_size!r} (axis {axis}: pad {p} > {k} // 2) "
                               f"(input shape {tuple(x.shape)})")
    return kernel, step, pad, dil


def check_output_size(op: str, x: Tensor, out_hw: Pair, detail: str) -> None:
    if out_hw[0] < 1 or out_hw[1] < 1:
        raise RuntimeError(f"{op}: output size {out_hw[0]} x {out_hw[1]} is too small: the window ({detail}) is "
                           f"larger than the padded input (input shape {tuple(x.shape)})")
