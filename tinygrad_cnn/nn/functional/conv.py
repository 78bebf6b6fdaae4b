"""nn.functional: convolutions (torch.nn.functional names, arguments, defaults and error cases)."""
from __future__ import annotations

from typing import Any

from ...ops.conv import Conv2d, ConvTranspose2d
from ...ops._windows import conv_out_size
from ...tensor import Tensor
from ._window_args import is_int, batched, check_tensor, pair

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]


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
    if out_channels == 0 and op == "conv2d":  # torch refuses an empty output; numpy would fail deep in a reshape
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be at least 1 at dimension 0, but got "
                           f"weight of size {list(weight.shape)} instead {shapes}")
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
    if not is_int(groups) or groups < 1:
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
    out = Conv2d.apply(x, weight, bias, stride_, pads, dilation_, int(groups))
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution ("deconvolution"), as torch.nn.functional.conv_transpose2d: the gradient of
    conv2d with respect to its input, used as a layer.

    Shape:
        input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, kH, kW); bias (C_out,)
        -> (N, C_out, H_out, W_out), H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding_H + 1.

    Raises:
        RuntimeError: as conv2d, plus output_padding not smaller than stride or dilation, or H_out < 1.
    """
    op = "conv_transpose2d"
    check_tensor(weight, "weight", op)
    x, unbatched = batched(input, op)
    stride_ = pair(stride, "stride", op, minimum=1, what="positive")
    dilation_ = pair(dilation, "dilation", op, minimum=1, what="positive")
    pad = pair(padding, "padding", op, minimum=0, what="non-negative")
    out_pad = pair(output_padding, "output_padding", op, minimum=0, what="non-negative")
    if not is_int(groups) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, but got groups={groups!r}")
    shapes = f"(input shape {tuple(input.shape)}, weight {tuple(weight.shape)})"
    if weight.ndim != 4:
        raise RuntimeError(f"{op}: weight must be 4-D (in_channels, out_channels/groups, kH, kW), but got weight "
                           f"of shape {tuple(weight.shape)}")
    if weight.shape[0] % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide in_channels, but weight has {weight.shape[0]} "
                           f"input channels {shapes}")
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"{op}: input has {x.shape[1]} channels but weight expects {weight.shape[0]} {shapes}")
    if x.dtype != weight.dtype:
        raise RuntimeError(f"{op}: input dtype {x.dtype} and weight dtype {weight.dtype} should be the same")
    out_channels = weight.shape[1] * groups
    if bias is not None:
        check_tensor(bias, "bias", op)
        if tuple(bias.shape) != (out_channels,) or bias.dtype != weight.dtype:
            raise RuntimeError(f"{op}: bias must be 1-D with {out_channels} elements (out_channels) and weight's "
                               f"dtype, but got bias of shape {tuple(bias.shape)} ({bias.dtype}) {shapes}")
    for a in (0, 1):
        if out_pad[a] >= stride_[a] and out_pad[a] >= dilation_[a]:
            raise RuntimeError(f"{op}: output_padding must be smaller than either stride or dilation, but got "
                               f"output_padding={out_pad}, stride={stride_}, dilation={dilation_}")
    out_hw = [(x.shape[2 + a] - 1) * stride_[a] - 2 * pad[a] + dilation_[a] * (weight.shape[2 + a] - 1)
              + out_pad[a] + 1 for a in (0, 1)]
    if min(out_hw) < 1:
        raise RuntimeError(f"{op}: output size {out_hw[0]} x {out_hw[1]} is too small: padding {pad} removes more "
                           f"than the transposed convolution produces {shapes}")
    pads = (pad[0], pad[0], pad[1], pad[1])
    out = ConvTranspose2d.apply(x, weight, bias, stride_, pads, dilation_, int(groups), tuple(out_hw))
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation, as torch.nn.functional.conv1d: conv2d on a height-1 view of the signal.

    Shape: input (N, C_in, L) or (C_in, L); weight (C_out, C_in/groups, k); bias (C_out,) -> (N, C_out, L_out),
    L_out = floor((L + 2 p - d (k - 1) - 1) / s) + 1. Raises RuntimeError as conv2d (messages name conv2d's
    height-1 view).
    """
    op = "conv1d"
    check_tensor(input, "input", op)
    check_tensor(weight, "weight", op)
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise RuntimeError(f"{op}: expected 2-D (unbatched) or 3-D (batched) input and a 3-D weight, but got input "
                           f"of shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)}")
    args = {}
    for name, value in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if isinstance(value, str):
            args[name] = value
        elif isinstance(value, (tuple, list)) and len(value) == 1:
            args[name] = (0 if name == "padding" else 1, value[0])
        else:
            args[name] = (0 if name == "padding" else 1, value)
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, groups=groups, **args)
    return out.squeeze(-2)
