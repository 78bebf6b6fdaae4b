"""Batch normalisation as one primitive (torch's native_batch_norm), and the per-channel primitives its backward is
written with.

Every op here works on x (N, C, *) viewed as (N, C, M), M = prod(*), or flat as (N, C*M). numpy's reductions over
axes (0, 2, 3) of NCHW are slow (strided inner loops): per-channel sums are GEMVs with a ones vector or einsum dots
of the rows, then a sum over N (2-4x faster). Elementwise per-channel maps run on the flat rows against the (C,)
vector repeated M times (no short broadcast inner loops), in tiles of whole samples that keep temporaries in cache.

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

_BLOCK = 1 << 16  # elements per tile: a tile of each operand and a temporary stay in a 1 MiB L2 cache


def _rows(x: np.ndarray) -> np.ndarray:
    """x (N, C, *) as (N, C, M) (a view when x is contiguous)."""
    return x.reshape(x.shape[0], x.shape[1], -1)  # (N, C, M)


def _flat(x: np.ndarray) -> np.ndarray:
    """x (N, C, *) as (N, K), K = C * M: elementwise work runs over long contiguous rows."""
    return x.reshape(x.shape[0], -1)  # (N, C*M)


def _spread(v: np.ndarray | None, M: int) -> np.ndarray | None:
    """A per-channel vector (C,) repeated to (C*M,), matching a row of _flat(x). Broadcasting (C, 1) against
    (N, C, M) instead runs one short inner loop per (n, c): 1.5-3x slower in numpy."""
    return None if v is None else np.repeat(v, M)  # (C*M,)


def _tiles(x: np.ndarray) -> list:
    """Row slices of x (N, K) covering about _BLOCK elements each (at least one sample): a chain of elementwise
    steps run tile by tile keeps its temporaries in cache instead of allocating (N, K) arrays."""
    per = max(1, _BLOCK // max(1, x.shape[1]))
    return [slice(n, n + per) for n in range(0, x.shape[0], per)]


def _channel_sum(x3: np.ndarray) -> np.ndarray:
    """Sum of (N, C, M) over N and M -> (C,): one GEMV per row (x @ ones), then a sum over N."""
    if x3.shape[2] == 1:
        return x3[:, :, 0].sum(0)
    return np.matmul(x3, np.ones(x3.shape[2], x3.dtype)).sum(0)  # (N, C) -> (C,)


def _dot(a: np.ndarray, b: np.ndarray, C: int) -> np.ndarray:
    """sum(a * b) per channel of two (n, C*M) arrays -> (C,)."""
    n, K = a.shape
    if K // C >= 64:  # long rows: one dot per (n, c) row
        return np.einsum("ncm,ncm->c", a.reshape(n, C, -1), b.reshape(n, C, -1))
    return np.einsum("nk,nk->k", a, b).reshape(C, -1).sum(1)  # short rows: sum over n first, (C*M,) -> (C,)


def _channel_dot(a3: np.ndarray, b3: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
    """sum(a * (b - center)) over N and M of two (N, C, M) arrays -> (C,). b - center is formed tile by tile:
    centring before multiplying keeps the sum free of cancellation when |center| >> spread."""
    (N, C, M), a, b = a3.shape, _flat(a3), _flat(b3)
    if center is None:
        return _dot(a, b, C)
    c = _spread(center, M)
    return sum(_dot(a[rows], b[rows] - c, C) for rows in _tiles(b))


def _centred_square_sum(x3: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """sum((x - mean)^2) over N and M of (N, C, M) -> (C,), x - mean formed tile by tile."""
    (N, C, M), x = x3.shape, _flat(x3)
    c = _spread(mean, M)
    total = np.zeros(C, np.result_type(x, mean))
    for rows in _tiles(x):
        d = x[rows] - c
        total += _dot(d, d, C)
    return total


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
    """Per-channel inner product with b centred: a, b (N, C, *), center (C,) or None (= 0) -> (C,),
    sum(a * (b - center)) over every dim but C. Backward: ga = g (b - center), gb = g a, gcenter = -g sum(a)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
        need = ctx.needs_input_grad
        ctx.save_for_backward(a if need[1] or len(need) > 2 and need[2] else None, b if need[0] else None,
                              center if need[0] else None)
        return _channel_dot(_rows(a), _rows(b), center)

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
        out = _affine(_rows(x), scale, shift, None if x2 is None else _rows(x2), scale2)
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


def _affine(x3: np.ndarray, scale: np.ndarray | None, shift: np.ndarray | None, x23: np.ndarray | None = None,
            scale2: np.ndarray | None = None) -> np.ndarray:
    """x * scale + shift + x2 * scale2 on (N, C, M) arrays, (C,) vectors or None, tile by tile -> (N, C*M)."""
    args = (x3, scale, shift, x23, scale2)
    (N, C, M), x = x3.shape, _flat(x3)
    out = np.empty((N, C * M), np.result_type(*(a for a in args if a is not None)))  # (N, C*M)
    s, t, s2 = (_spread(v, M) for v in (scale, shift, scale2))
    x2 = None if x23 is None else _flat(x23)
    for rows in _tiles(x):
        o = out[rows]
        if s is not None:
            np.multiply(x[rows], s, out=o)
        else:
            o[...] = x[rows]
        if x2 is not None:
            o += x2[rows] * s2 if s2 is not None else x2[rows]
        if t is not None:
            o += t
    return out


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
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                running_mean: np.ndarray | None, running_var: np.ndarray | None, momentum: float,
                eps: float) -> np.ndarray:
        x3 = _rows(x)
        n = _count(x.shape)
        mean = _channel_sum(x3) / x.dtype.type(n)
        var = _centred_square_sum(x3, mean) / x.dtype.type(n)  # two-pass: no cancellation, no (N, C, M) temporary
        invstd = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = invstd if weight is None else invstd * weight
        # y = x * scale + (bias - mean * scale): two passes, as torch's CPU kernel folds it
        y = _affine(x3, scale, -mean * scale if bias is None else bias - mean * scale)
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
        sum_gx = call(ChannelDot, g, x, mean) * invstd      # sum(g * xhat): the weight's gradient
        gx = None
        if need[0]:
            k = invstd if w is None else invstd * w
            n = _count(tuple(x.shape))
            a = -k * invstd * sum_gx / n
            # w invstd (g - sum_g / n - xhat sum_gx / n) = x a + (-mean a - k sum_g / n) + g k, one pass over x, g
            gx = call(ChannelAffine, x, a, -mean * a - k * sum_g / n, g, k)
        return (gx, sum_gx if need[1] else None, sum_g if need[2] else None, None, None, None, None)


def _update(stat: np.ndarray, batch: np.ndarray, momentum: float) -> None:
    """stat <- (1 - momentum) stat + momentum batch, in place in stat's dtype."""
    stat *= 1 - momentum
    stat += (momentum * batch).astype(stat.dtype, copy=False)
