"""Translators of convolution, pooling and matmul primitives (from their forward arguments: stride, pads,
dilation, groups, kernel, output size)."""
from __future__ import annotations

from ..ops import conv as cv
from ..ops import matmul as mm
from ..ops import pool as pl
from ._call import Call, translates


def _onnx_pads(pads: tuple) -> list[int]:
    """Our (top, bottom, left, right) -> ONNX [top, left, bottom, right] (all begins, then all ends)."""
    top, bottom, left, right = (int(p) for p in pads)
    return [top, left, bottom, right]


@translates(cv.Conv2d)
def conv2d(c: Call) -> str:
    x, w, bias, stride, pads, dilation, groups = c.args[:7]
    out_hw = c.args[7] if len(c.args) > 7 else None
    kernel = w.shape[2:]
    natural = tuple((x.shape[2 + a] + pads[2 * a] + pads[2 * a + 1] - dilation[a] * (kernel[a] - 1) - 1)
                    // stride[a] + 1 for a in (0, 1))
    if out_hw is not None and tuple(out_hw) != natural:
        raise c.error(f"an explicit output size {tuple(out_hw)} (the convolution gives {natural})")
    inputs = [c.name(x), c.name(w)] + ([c.name(bias)] if bias is not None else [])
    return c.b.node("Conv", inputs, kernel_shape=list(kernel), strides=list(stride), pads=_onnx_pads(pads),
                    dilations=list(dilation), group=int(groups))


@translates(cv.ConvTranspose2d)
def conv_transpose2d(c: Call) -> str:
    """output_padding = requested size - the size ONNX computes without it (torch's output_padding)."""
    x, w, bias, stride, pads, dilation, groups, out_hw = c.args
    kernel = w.shape[2:]
    base = [stride[a] * (x.shape[2 + a] - 1) + dilation[a] * (kernel[a] - 1) + 1 - pads[2 * a] - pads[2 * a + 1]
            for a in (0, 1)]
    output_padding = [int(out_hw[a]) - base[a] for a in (0, 1)]
    if min(output_padding) < 0:
        raise c.error(f"output size {tuple(out_hw)} smaller than the transposed convolution's {tuple(base)}")
    inputs = [c.name(x), c.name(w)] + ([c.name(bias)] if bias is not None else [])
    return c.b.node("ConvTranspose", inputs, kernel_shape=list(kernel), strides=list(stride),
                    pads=_onnx_pads(pads), dilations=list(dilation), group=int(groups),
                    output_padding=output_padding if any(output_padding) else None)


def _ceil_mode(c: Call, size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
               out_hw: tuple) -> int:
    ceil = 0
    for a in (0, 1):
        span = size[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1
        if out_hw[a] == span // stride[a] + 1:
            continue
        if out_hw[a] == -(-span // stride[a]) + 1:
            ceil = 1
        else:
            raise c.error(f"output size {tuple(out_hw)} is neither the floor nor the ceil mode size")
    return ceil


@translates(pl.MaxPool2d)
def max_pool2d(c: Call) -> str:
    x, kernel, stride, padding, dilation, out_hw, return_indices = c.args
    if return_indices:
        raise c.error("return_indices=True (ONNX MaxPool's indices count across the whole tensor, torch's per "
                      "plane)")
    ceil = _ceil_mode(c, x.shape[2:], kernel, stride, padding, dilation, out_hw)
    pads = [padding[0], padding[1], padding[0], padding[1]]
    return c.b.node("MaxPool", [c.name(x)], kernel_shape=list(kernel), strides=list(stride), pads=pads,
                    dilations=list(dilation), ceil_mode=ceil)


@translates(pl.AvgPool2d)
def avg_pool2d(c: Call) -> str:
    x, kernel, stride, padding, out_hw, count_include_pad, divisor_override = c.args
    if divisor_override is not None:
        raise c.error("divisor_override (ONNX AveragePool always divides by the window size)")
    if tuple(kernel) == tuple(x.shape[2:]) and tuple(padding) == (0, 0):
        return c.b.node("GlobalAveragePool", [c.name(x)])
    ceil = _ceil_mode(c, x.shape[2:], kernel, stride, padding, (1, 1), out_hw)
    pads = [padding[0], padding[1], padding[0], padding[1]]
    return c.b.node("AveragePool", [c.name(x)], kernel_shape=list(kernel), strides=list(stride), pads=pads,
                    ceil_mode=ceil, count_include_pad=int(bool(count_include_pad)))


@translates(pl.AdaptiveMaxPool2d)
def adaptive_max_pool2d(c: Call) -> str:
    """Global max pooling, or a plain MaxPool when the output size divides the input size."""
    x, out_hw, return_indices = c.args
    if return_indices:
        raise c.error("return_indices=True")
    size = x.shape[2:]
    if tuple(out_hw) == (1, 1):
        return c.b.node("GlobalMaxPool", [c.name(x)])
    if any(s % o for s, o in zip(size, out_hw)):
        raise c.error(f"output size {tuple(out_hw)} does not divide the input size {tuple(size)} (ONNX has no "
                      f"adaptive pooling)")
    kernel = [s // o for s, o in zip(size, out_hw)]
    return c.b.node("MaxPool", [c.name(x)], kernel_shape=kernel, strides=kernel)


@translates(mm.MatMul)
def matmul(c: Call) -> str:
    return c.b.node("MatMul", [c.inp(0), c.inp(1)])
