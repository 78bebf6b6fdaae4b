"""Batch normalisation as one primitive (torch's native_batch_norm), and the per-channel primitives its backward is
written with.

Every op here works on x (N, C, *) viewed as rows (N, C, M), M = prod(*): a channel's values are N contiguous rows
of M. numpy's reductions over axes (0, 2, 3) of NCHW are slow (strided inner loops); per-row BLAS/einsum reductions
of the (N, C, M) view followed by a sum over N are 2-4x faster, so every per-channel sum goes through
`_channel_sum` / `_channel_dot`.

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
from ._primitive import Primitive


def _rows(x: np.ndarray) -> np.ndarray:
    """x (N, C, *) as (N, C, M) (a view when x is contiguous)."""
    return x.reshape(x.shape[0], x.shape[1], -1)  # (N, C, M)


def _col(v: np.ndarray) -> np.ndarray:
    return v.reshape(-1, 1)  # (C, 1): broadcasts over the rows of (N, C, M)


def _channel_sum(x3: np.ndarray) -> np.ndarray:
    """Sum of (N, C, M) over N and M -> (C,): one GEMV per row (x @ ones), then a sum over N."""
    if x3.shape[2] == 1:
        return x3[:, :, 0].sum(0)
    return np.matmul(x3, np.ones(x3.shape[2], x3.dtype)).sum(0)  # (N, C) -> (C,)


def _channel_dot(a3: np.ndarray, b3: np.ndarray) -> np.ndarray:
    """sum(a * b) over N and M of two (N, C, M) arrays -> (C,), without an (N, C, M) product array."""
    return np.einsum("ncm,ncm->nc", a3, b3).sum(0)  # (N, C) -> (C,): per-row dots, then a sum over N


def _count(shape: tuple) -> int:
    """Values per channel of an (N, C, *) shape."""
    return int(np.prod(shape)) // shape[1] if shape[1] else 0


class ChannelSum(Primitive):
    """x (N, C, *) summed over every dim but the channel dim -> (C,). The gradient is g broadcast back."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.shape = x.shape
        return _channel_sum(_rows(x))

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        shape = ctx.shape
        return (expand(reshape(g, (1, shape[1]) + (1,) * (len(shape) - 2)), shape),)


class ChannelDot(Primitive):
    """Per-channel inner product: a, b (N, C, *) -> (C,), sum(a * b) over every dim but C."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return _channel_dot(_rows(a), _rows(b))

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (call(ChannelAffine, b, g, None) if need_a else None,
                call(ChannelAffine, a, g, None) if need_b else None)


class ChannelAffine(Primitive):
    """y = x * scale + shift (+ x2 * scale2), per channel. x, x2 (N, C, *); scale, shift, scale2 (C,) or None
    (scale None = 1, shift None = 0). Shape: -> (N, C, *). One output array, written in place (`out=`).

    Backward: gx = g * scale, gscale = sum(g * x), gshift = sum(g), likewise for x2 and scale2.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, scale: np.ndarray | None, shift: np.ndarray | None,
                x2: np.ndarray | None = None, scale2: np.ndarray | None = None) -> np.ndarray:
        x3 = _rows(x)
        out = np.multiply(x3, _col(scale)) if scale is not None else x3.copy()
        if x2 is not None:
            x23 = _rows(x2)
            out += np.multiply(x23, _col(scale2)) if scale2 is not None else x23
        if shift is not None:
            out += _col(shift)
        need = ctx.needs_input_grad
        ctx.save_for_backward(x if need[1] else None, scale, x2 if len(need) > 4 and need[4] else None, scale2)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        x, scale, x2, scale2 = ctx.saved_tensors
        need = ctx.needs_input_grad + (False,) * (5 - len(ctx.needs_input_grad))
        return (_scaled(g, scale) if need[0] else None,
                call(ChannelDot, g, x) if need[1] else None,
                call(ChannelSum, g) if need[2] else None,
                _scaled(g, scale2) if need[3] else None,
                call(ChannelDot, g, x2) if need[4] else None)[:len(ctx.needs_input_grad)]


def _scaled(g, scale):
    """g * scale per channel (g itself when scale is None)."""
    return g if scale is None else call(ChannelAffine, g, scale, None)


def _stats(x, eps: float) -> tuple:
    """Batch mean and 1 / sqrt(biased var + eps) of x (N, C, *), each (C,), two-pass (no cancellation), with
    _dual calls: on a Tensor this is the differentiable recomputation that create_graph needs."""
    n = _count(tuple(x.shape))
    mean = call(ChannelSum, x) / n
    centred = call(ChannelAffine, x, None, -mean)
    var = call(ChannelDot, centred, centred) / n
    return mean, (var + eps) ** -0.5


class BatchNorm(Primitive):
    """Training-mode batch normalisation with the batch's statistics (torch.native_batch_norm, training=True).

    y = (x - mean) * (invstd * weight) + bias, mean and biased var per channel over N and *, invstd = 1/sqrt(var+eps).
    Shape: x (N, C, *); weight, bias (C,) or None -> (N, C, *). running_mean / running_var (C,) arrays or None are
    updated in place, as torch's kernel does: running = (1 - momentum) running + momentum stat (unbiased variance).
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                running_mean: np.ndarray | None, running_var: np.ndarray | None, momentum: float,
                eps: float) -> np.ndarray:
        x3 = _rows(x)
        n = _count(x.shape)
        mean = _channel_sum(x3) / x.dtype.type(n)
        y = np.subtract(x3, _col(mean))                   # (N, C, M): x - mean, becomes the output in place
        var = _channel_dot(y, y) / x.dtype.type(n)        # two-pass biased variance: no cancellation
        invstd = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        y *= _col(invstd if weight is None else invstd * weight)
        if bias is not None:
            y += _col(bias)
        if running_mean is not None:
            _update(running_mean, mean, momentum)
            _update(running_var, var * (n / (n - 1)), momentum)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        x, w, mean, invstd = ctx.saved_tensors
        if is_tensor(x):  # the statistics are functions of x: recompute them on the graph
            mean, invstd = _stats(x, ctx.eps)
        need = ctx.needs_input_grad
        sum_g = call(ChannelSum, g)
        if not (need[0] or need[1]):
            return (None, None, sum_g, None, None, None, None)
        xhat = call(ChannelAffine, x, invstd, -mean * invstd)
        sum_gx = call(ChannelDot, g, xhat)                # sum(g * xhat) = the weight's gradient
        gx = None
        if need[0]:
            k = invstd if w is None else invstd * w
            n = _count(tuple(x.shape))
            # w invstd (g - sum_g / n - xhat sum_gx / n), as one pass over g and xhat
            gx = call(ChannelAffine, g, k, -k * sum_g / n, xhat, -k * sum_gx / n)
        return (gx, sum_gx if need[1] else None, sum_g if need[2] else None, None, None, None, None)


def _update(stat: np.ndarray, batch: np.ndarray, momentum: float) -> None:
    """stat <- (1 - momentum) stat + momentum batch, in place in stat's dtype."""
    stat *= 1 - momentum
    stat += (momentum * batch).astype(stat.dtype, copy=False)
