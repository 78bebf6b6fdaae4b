"""Conv2d (torch.nn.Conv2d), ConvTranspose2d, and partial connectivity between feature maps, as in LeNet-5's layer C3.

`Conv2d(6, 16, 5, connection_table=LENET5_C3_TABLE)` connects output map o to input map i only where
`table[o, i]` is True. The forward convolves with `weight * mask`, composed from primitives, so the gradient of
every disconnected weight is exactly zero and those weights stay exactly zero through training.

State-dict choice: the table is a persistent bool buffer `connection_table` (out_channels, in_channels), so a
checkpoint records the wiring. A plain torch Conv2d state_dict (weight, bias only) loads with strict=True: the
missing `connection_table` keeps the constructor's table and the disconnected weights are zeroed. Our state_dict
loads into torch's Conv2d with `strict=False` (or after dropping the `connection_table` key).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .. import init
from ...tensor import Tensor
from ._utils import empty_parameter, factory_dtype, pair
from .module import Module

__all__ = ["Conv2d", "ConvTranspose2d", "LENET5_C3_TABLE"]


def _lenet5_c3_table() -> np.ndarray:
    """LeCun et al. 1998, Table I: which of the 6 S2 maps (columns) each of the 16 C3 maps (rows) sees.

    Maps 0-5 take 3 contiguous inputs, 6-11 take 4 contiguous, 12-14 take 4 non-contiguous, 15 takes all 6
    (60 connections: 60*25 weights + 16 biases = the paper's 1,516 parameters).
    """
    rows = [(i, i + 1, i + 2) for i in range(6)] + [(i, i + 1, i + 2, i + 3) for i in range(6)]
    rows += [(0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5)]
    table = np.zeros((16, 6), dtype=bool)
    for o, ins in enumerate(rows):
        table[o, [i % 6 for i in ins]] = True  # contiguous subsets wrap around (map 4 sees 4, 5, 0)
    table.setflags(write=False)
    return table


LENET5_C3_TABLE = _lenet5_c3_table()

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


class Conv2d(Module):
    """2-D convolution over (N, C_in, H, W) input: weight (C_out, C_in / groups, kh, kw), bias (C_out,).

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) with
        H_out = floor((H + 2 * padding[0] - dilation[0] * (kh - 1) - 1) / stride[0] + 1) (same for W).

    Init as torch: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    fan_in = C_in / groups * kh * kw; bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). With a connection_table the same
    bounds are used and the disconnected weights are then set to zero.

    Raises:
        ValueError: bad groups / padding string / padding_mode / connection_table shape (at construction).
        RuntimeError: from F.conv2d, e.g. input channels differ from in_channels (naming both shapes).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None, connection_table: Any = None) -> None:
        super().__init__()
        kernel_size, stride, dilation = pair(kernel_size), pair(stride), pair(dilation)
        _check_conv_args(in_channels, out_channels, groups, padding, stride, padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.padding = padding if isinstance(padding, str) else pair(padding)
        self.transposed, self.output_padding = False, (0, 0)
        self.groups, self.padding_mode = groups, padding_mode
        self._reversed_padding_repeated_twice = _reversed_padding(self.padding, kernel_size, dilation)
        dt = factory_dtype(dtype, device, "Conv2d")
        self.weight = empty_parameter((out_channels, in_channels // groups, *kernel_size), dt)
        if bias:
            self.bias = empty_parameter(out_channels, dt)
        else:
            self.register_parameter("bias", None)
        if connection_table is None:
            self.register_buffer("connection_table", None)
        else:
            self.register_buffer("connection_table", _table_tensor(connection_table, out_channels, in_channels,
                                                                   groups))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._reset_weight_and_bias_(self.weight, self.bias)
        self._zero_disconnected()

    def _zero_disconnected(self) -> None:
        """Set the weights of absent connections to exactly zero (the forward masks them anyway)."""
        if self.connection_table is not None:
            self.weight._data[~self.connection_table._data] = 0
            self.weight._version_box[0] += 1

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        key = prefix + "connection_table"
        if self.connection_table is not None and key not in state_dict:
            state_dict[key] = self.connection_table  # a torch Conv2d checkpoint: keep our wiring
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        self._zero_disconnected()

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        if self.connection_table is not None:
            s += f", connection_table={int(self.connection_table._data.sum())}/{self.connection_table.numel()}"
        return s

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv2d(padded, weight, bias, self.stride, (0, 0), self.dilation, self.groups)
        return F.conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        weight = self.weight
        if self.connection_table is not None:
            # weight * mask (a Mul primitive): d(out)/d(weight) is multiplied by the mask, so exactly 0 where absent
            mask = self.connection_table._data[:, :, None, None].astype(weight._data.dtype)  # (C_out, C_in, 1, 1)
            weight = weight * Tensor._wrap(mask)
        return self._conv_forward(input, weight, self.bias)


def _check_conv_args(in_channels: int, out_channels: int, groups: int, padding: Any, stride: tuple,
                     padding_mode: str) -> None:
    if groups <= 0:
        raise ValueError(f"groups must be a positive integer (Conv2d got groups={groups})")
    if in_channels % groups != 0:
        raise ValueError(f"in_channels must be divisible by groups (Conv2d got in_channels={in_channels}, "
                         f"groups={groups})")
    if out_channels % groups != 0:
        raise ValueError(f"out_channels must be divisible by groups (Conv2d got out_channels={out_channels}, "
                         f"groups={groups})")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(f"padding='same' is not supported for strided convolutions (Conv2d got "
                             f"stride={stride})")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got padding_mode='{padding_mode}'")


def _reversed_padding(padding: Any, kernel_size: tuple, dilation: tuple) -> list:
    """F.pad's (left, right, top, bottom) for the non-zero padding modes."""
    if not isinstance(padding, str):
        return [padding[1], padding[1], padding[0], padding[0]]
    out = [0, 0, 0, 0]
    if padding == "same":
        for d, k, i in zip(dilation, kernel_size, (1, 0)):
            total = d * (k - 1)
            out[2 * i], out[2 * i + 1] = total // 2, total - total // 2
    return out


def _table_tensor(table: Any, out_channels: int, in_channels: int, groups: int) -> Tensor:
    arr = np.asarray(table._data if isinstance(table, Tensor) else table)
    if groups != 1:
        raise ValueError(f"Conv2d: connection_table needs groups=1 (got groups={groups})")
    if arr.shape != (out_channels, in_channels):
        raise ValueError(f"Conv2d: connection_table must have shape (out_channels, in_channels) = "
                         f"({out_channels}, {in_channels}), got {arr.shape}")
    if arr.dtype != np.bool_ and not np.isin(arr, (0, 1)).all():
        raise ValueError("Conv2d: connection_table must be boolean (or 0/1) entries")
    return Tensor._wrap(arr.astype(bool))  # a fresh copy: the module owns its table


class ConvTranspose2d(Module):
    """2-D transposed convolution (torch.nn.ConvTranspose2d): weight (C_in, C_out / groups, kh, kw), bias (C_out,).

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) with
        H_out = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1.
        forward(input, output_size) picks the output_padding that gives output_size (as torch).

    Init as torch: kaiming_uniform_(a=sqrt(5)) on the weight, whose fan_in is C_out / groups * kh * kw.

    Raises:
        ValueError: bad groups or a padding_mode other than 'zeros' (construction); an unreachable output_size.
        RuntimeError: from F.conv_transpose2d (channels, dtypes, output_padding).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError('Only "zeros" padding mode is supported for ConvTranspose2d')
        _check_conv_args(in_channels, out_channels, groups, 0, (1, 1), padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = pair(kernel_size), pair(stride), pair(padding)
        self.dilation, self.output_padding = pair(dilation), pair(output_padding)
        self.transposed, self.groups, self.padding_mode = True, groups, padding_mode
        dt = factory_dtype(dtype, device, "ConvTranspose2d")
        self.weight = empty_parameter((in_channels, out_channels // groups, *self.kernel_size), dt)
        if bias:
            self.bias = empty_parameter(out_channels, dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._reset_weight_and_bias_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, neutral in (("padding", (0, 0)), ("dilation", (1, 1)), ("output_padding", (0, 0))):
            if getattr(self, name) != neutral:
                s += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + (", bias=False" if self.bias is None else "")

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple:
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        low = [(input.shape[-2 + a] - 1) * self.stride[a] - 2 * self.padding[a]
               + self.dilation[a] * (self.kernel_size[a] - 1) + 1 for a in (0, 1)]
        high = [n + s - 1 for n, s in zip(low, self.stride)]
        if any(not lo <= n <= hi for n, lo, hi in zip(size, low, high)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from {low} to {high} (for "
                             f"an input of {tuple(input.shape[-2:])})")
        return tuple(n - lo for n, lo in zip(size, low))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)
