"""Batch normalisation as one primitive (torch's native_batch_norm), and the per-channel primitives its backward is
written with.

The numpy kernels (sums over N and *, tiled elementwise maps) are in ops/_per_channel.py.

BatchNorm saves only x, weight and the batch's mean and 1/std (C,): not xhat, not x - mean. Its backward
    gx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)),  gw = sum(g * xhat),  gb = sum(g)
is written once with ChannelAffine / ChannelSum / ChannelDot, which are differentiable, so it differentiates again
(create_graph). On the array path the saved mean and invstd are a cache of x's statistics; under create_graph they
are recomputed from the input Tensor, since the statistics depend on x too.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Context
from ._dual import call, expand, is_tensor, reshape
from ._per_channel import affine, centred_square_sum, channel_dot, channel_sum
from ._primitive import Primitive

def _rows(x: np.ndarray) -> np.ndarray:
    """x (N, C, *) as (N, C, M) (a view when x is contiguous)."""
    return x.reshape(x.shape[0], x.shape[1], -1)  # (N, C, M)


def _count(shape: tuple) -> int:
    """Values per channel of an (N, C, *) shape."""
    return int(np.prod(shape)) // shape[1] if shape[1] else 0


class ChannelSum(Primitive):
    """x (N, C, *) summed over every dim but the channel dim -> (C,). The gradient is g broadcast back."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.shape = x.shape
        return channel_sum(_rows(x))

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        shape = ctx.shape
        return (expand(reshape(g, (1, shape[1]) + (1,) * (len(shape) - 2)), shape),)


class ChannelDot(Primitive):
    """Per-channel inner product with b centred: a, b (N, C, *), center (C,) or None (= 0) -> (C,),
    sum(a * (b - center)) over every dim but C. Backward: ga = g (b - center), gb = g a, gcenter = -g sum(a)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
        need = ctx.needs_input_grad
        ctx.save_for_backward(a if need[1] or len(need) > 2 and need[2] else None, b if need[0] else None,
                              center if need[0] else None)
        return channel_dot(_rows(a), _rows(b), center)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        a, b, center = ctx.saved_tensors
        need = ctx.needs_input_grad
        ga = None
        if need[0]:
            ga = call(ChannelAffine, b, g, None) if center is None else call(ChannelAffine, b, g, -center * g)
        return (ga, call(ChannelAffine, a, g, None) if need[1] else None,
                -call(ChannelSum, a) * g if len(need) > 2 and need[2] else None)[:len(need)]


class ChannelAffine(Primitive):
    """y = x * scale + shift + x2 * scale2, per channel. x, x2 (N, C, *) or x2 None; scale, shift, scale2 (C,)
    or None (scale 1, shift 0, scale2 1). Shape: -> (N, C, *). Run tile by tile (one read of each input, one
    write of the output, temporaries in cache).

    Backward: gx = g * scale, gscale = sum(g * x), gshift = sum(g), gx2 = g * scale2, gscale2 = sum(g * x2).
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, scale: np.ndarray | None, shift: np.ndarray | None,
                x2: np.ndarray | None = None, scale2: np.ndarray | None = None) -> np.ndarray:
        out = affine(_rows(x), scale, shift, None if x2 is None else _rows(x2), scale2)
        need = ctx.needs_input_grad + (False,) * (5 - len(ctx.needs_input_grad))
        ctx.save_for_backward(x if need[1] else None, scale, x2 if need[4] else None, scale2)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        x, scale, x2, scale2 = ctx.saved_tensors
        n = len(ctx.needs_input_grad)
        need = ctx.needs_input_grad + (False,) * (5 - n)
        return (_scaled(g, scale) if need[0] else None,
                call(ChannelDot, g, x) if need[1] else None,
                call(ChannelSum, g) if need[2] else None,
                _scaled(g, scale2) if need[3] else None,
                call(ChannelDot, g, x2) if need[4] else None)[:n]


def _scaled(g, scale):
    """g * scale per channel (g itself when scale is None)."""
    return g if scale is None else call(ChannelAffine, g, scale, None)


def _stats(x, eps: float) -> tuple:
    """Batch mean and 1 / sqrt(biased var + eps) of x (N, C, *), each (C,), two-pass (no cancellation), with
    _dual calls: on a Tensor this is the differentiable recomputation that create_graph needs."""
    n = _count(tuple(x.shape))
    mean = call(ChannelSum, x) / n
    centred = call(ChannelAffine, x, None, -mean)
    return mean, (call(ChannelDot, centred, centred) / n + eps) ** -0.5


class BatchNorm(Primitive):
    """Training-mode batch normalisation with the batch's statistics (torch.native_batch_norm, training=True).

    y = (x - mean) * (invstd * weight) + bias, mean and biased var per channel over N and *, invstd = 1/sqrt(var+eps).
    Shape: x (N, C, *); weight, bias (C,) or None -> (N, C, *). running_mean / running_var (C,) arrays or None are
    updated in place, as torch's kernel does: running = (1 - momentum) running + momentum stat (unbiased variance).
    per_sample=True takes the statistics per (sample, channel) over * instead (instance norm: layer_norm and
    group_norm's rows); then weight, bias and the running statistics must be None.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                running_mean: np.ndarray | None, running_var: np.ndarray | None, momentum: float,
                eps: float, per_sample: bool = False) -> np.ndarray:
        x3 = _rows(x)
        if per_sample:
            assert weight is None and bias is None and running_mean is None, "per_sample takes no affine or stats"
            x3 = x3.reshape(1, -1, x3.shape[2])  # (1, N*C, M): every (sample, channel) row is a channel
        n = x3.shape[0] * x3.shape[2]
        mean = channel_sum(x3) / x.dtype.type(n)
        var = centred_square_sum(x3, mean) / x.dtype.type(n)  # two-pass: no cancellation, no (N, C, M) temporary
        invstd = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = invstd if weight is None else invstd * weight
        # y = x * scale + (bias - mean * scale): two passes, as torch's CPU kernel folds it
        y = affine(x3, scale, -mean * scale if bias is None else bias - mean * scale)
        if running_mean is not None:
            update_running(running_mean, mean, momentum)
            update_running(running_var, var * (n / (n - 1)), momentum)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps, ctx.per_sample = eps, per_sample
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        x, w, mean, invstd = ctx.saved_tensors
        shape = tuple(x.shape)
        if ctx.per_sample:  # the (1, N*C, M) view the forward normalised
            view = (1, shape[0] * shape[1], int(np.prod(shape[2:], dtype=np.int64)))
            x, g = reshape(x, view), reshape(g, view)
        if is_tensor(x):  # the statistics are functions of x: recompute them on the graph
            mean, invstd = _stats(x, ctx.eps)
        need = ctx.needs_input_grad
        sum_g = call(ChannelSum, g)
        if not (need[0] or need[1]):
            return (None, None, sum_g, None, None, None, None, None)
        sum_gx = call(ChannelDot, g, x, mean) * invstd      # sum(g * xhat): the weight's gradient
        gx = None
        if need[0]:
            k = invstd if w is None else invstd * w
            n = _count(tuple(x.shape))
            a = -k * invstd * sum_gx / n
            # w invstd (g - sum_g / n - xhat sum_gx / n) = x a + (-mean a - k sum_g / n) + g k, one pass over x, g
            gx = reshape(call(ChannelAffine, x, a, -mean * a - k * sum_g / n, g, k), shape)
        return (gx, sum_gx if need[1] else None, sum_g if need[2] else None, None, None, None, None, None)


def update_running(stat: np.ndarray, batch: np.ndarray, momentum: float) -> None:
    """stat <- (1 - momentum) stat + momentum batch, in place in stat's dtype."""
    stat *= 1 - momentum
    stat += (momentum * batch).astype(stat.dtype, copy=False)
