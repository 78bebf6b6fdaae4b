"""nn.functional: convolutions (torch.nn.functional names, arguments, defaults and error cases)."""
from __future__ import annotations

from typing import Any

from ...ops.conv import Conv2d
from ...ops._windows import conv_out_size
from ...tensor import Tensor
from ._window_args import batched, check_tensor, pair

__all__ = ["conv2d"]


def _conv_pads(padding: Any, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
               op: str) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int/pair or 'valid'/'same'.

    'same' pads dilation*(k-1) in total per axis; when that is odd the extra cell goes to the bottom/right, as
    torch does for even kernels.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise RuntimeError(f"{op}: invalid padding string {padding!r}: expected 'valid', 'same' or int(s)")
        if stride != (1, 1):
            raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions "
                               f"(stride={stride})")
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = pair(padding, "padding", op, minimum=0, what="non-negative")
    return (ph, ph, pw, pw)


def _check_channels(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int) -> None:
    shapes = f"(input shape {tuple(x.shape)}, weight {tuple(weight.shape)})"
    if weight.ndim != 4:
        raise RuntimeError(f"{op}: weight must be 4-D (out_channels, in_channels/groups, kH, kW), but got weight "
                           f"of shape {tuple(weight.shape)}")
    out_channels, per_group = weight.shape[0], weight.shape[1]
    if out_channels % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide out_channels, but weight has {out_channels} output "
                           f"channels {shapes}")
    expected = per_group * groups
    if x.shape[-3] != expected:
        how = f"{expected}" if groups == 1 else f"{expected} ({per_group} per group x groups={groups})"
        raise RuntimeError(f"{op}: input has {x.shape[-3]} channels but weight expects {how} {shapes}")
    if x.dtype != weight.dtype:
        raise RuntimeError(f"{op}: input dtype {x.dtype} and weight dtype {weight.dtype} should be the same "
                           f"{shapes}")
    if bias is not None:
        check_tensor(bias, "bias", op)
        if tuple(bias.shape) != (out_channels,):
            raise RuntimeError(f"{op}: bias must be 1-D with {out_channels} elements (out_channels), but got bias "
                               f"of shape {tuple(bias.shape)} {shapes}")
        if bias.dtype != weight.dtype:
            raise RuntimeError(f"{op}: bias dtype {bias.dtype} and weight dtype {weight.dtype} should be the same")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation over an (N, C, H, W) input, as torch.nn.functional.conv2d.

    Args: stride, dilation: int or (sH, sW), positive; padding: int, (pH, pW), 'valid' or 'same' (stride 1
    only; an odd total padding puts the extra cell at the bottom/right); groups: splits channels into
    independent groups.

    Shape:
        input (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_out, C_in/groups, kH, kW); bias (C_out,)
        -> (N, C_out, H_out, W_out) with H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1 (same for W).

    Raises:
        RuntimeError: wrong input/weight rank, channel mismatch, groups not dividing the channels, bad bias
        shape, mismatched dtypes, non-positive stride/dilation/groups, negative padding, or a (dilated) kernel
        larger than the padded input. TypeError when input/weight is not a Tensor.
    """
    op = "conv2d"
    check_tensor(weight, "weight", op)
    x, unbatched = batched(input, op)
    stride_ = pair(stride, "stride", op, minimum=1, what="positive")
    dilation_ = pair(dilation, "dilation", op, minimum=1, what="positive")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, but got groups={groups!r}")
    _check_channels(op, input, weight, bias, groups)
    kernel = (weight.shape[2], weight.shape[3])
    pads = _conv_pads(padding, kernel, stride_, dilation_, op)
    hp, wp = x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3]
    if (conv_out_size(x.shape[2], kernel[0], stride_[0], pads[0] + pads[1], dilation_[0]) < 1
            or conv_out_size(x.shape[3], kernel[1], stride_[1], pads[2] + pads[3], dilation_[1]) < 1):
        eh, ew = dilation_[0] * (kernel[0] - 1) + 1, dilation_[1] * (kernel[1] - 1) + 1
        raise RuntimeError(f"{op}: kernel size can't be greater than the padded input size: kernel {eh} x {ew} "
                           f"(dilation {dilation_}) vs padded input {hp} x {wp} (input shape {tuple(input.shape)}, "
                           f"weight {tuple(weight.shape)}, padding {padding!r})")
    out = Conv2d.apply(x, weight, bias, stride_, pads, dilation_, groups)
    return out.squeeze(0) if unbatched else out
