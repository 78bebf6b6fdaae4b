"""Pooling primitives. Windows are never copied: every op loops over the kh*kw kernel taps, each tap being one
strided (N, C, H_out, W_out) view of the (padded) input, and gradients go back through `col2im` over the taps.

Measured on (50, 32, 32, 32) float32, 2x2 max pooling: the tap loop with np.maximum took 3 ms, numpy's max over
the window axes of a view 74 ms (reductions over short strided axes are slow) and copying windows for argmax 43 ms.
LP pooling, stochastic pooling in eval mode and adaptive average pooling are composed in nn.functional.pooling.

Backwards are primitives too (one formula for arrays and, under create_graph, Tensors): the selecting pools scatter
g by their saved indices (ops/pool_routes.py: scatter <-> gather pairs), AvgPool2d's gradient is its adjoint
AvgPool2dAdjoint, whose own gradient is AvgPool2d again. So pooled gradients differentiate to any order.
"""
from __future__ import annotations

import numpy as np

from ._dual import call
from ._primitive import Primitive
from .pool_routes import IndexScatter2d, TapScatter
from ._windows import Pads, Pair, col2im, crop2d, overhang, pad2d, tap


def _pads(shape: tuple, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair) -> Pads:
    """(top, bottom, left, right): symmetric padding plus the ceil_mode overhang on the bottom/right."""
    extra = [overhang(shape[2 + a], kernel[a], stride[a], padding[a], dilation[a], out_hw[a]) for a in (0, 1)]
    return (padding[0], padding[0] + extra[0], padding[1], padding[1] + extra[1])


def _tap_dtype(kernel: Pair) -> type:
    return np.int8 if kernel[0] * kernel[1] <= 127 else np.int32  # tap numbers, saved for backward: keep small


def _lowest(dtype: np.dtype) -> float | int:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _flat_indices(taps: np.ndarray, geom: tuple) -> np.ndarray:
    """torch's max-pool indices: tap numbers -> flat positions in the unpadded H*W plane (int64)."""
    x_shape, kernel, stride, dilation, pads, out_hw = geom
    rows = (np.arange(out_hw[0]) * stride[0] - pads[0])[:, None]  # (Ho, 1): window origins, input coordinates
    cols = (np.arange(out_hw[1]) * stride[1] - pads[2])[None, :]  # (1, Wo)
    t = taps.astype(np.int64)
    return (rows + t // kernel[1] * dilation[0]) * x_shape[3] + cols + t % kernel[1] * dilation[1]


def _running_max(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair, nan_wins: bool
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Max over the taps and the tap number of the first maximum (the last NaN when nan_wins, as torch's
    `val > max || isnan(val)`). Returns values (N, C, Ho, Wo) and int8 tap numbers."""
    best = xp[(..., *tap(0, 0, stride, dilation, out_hw))].copy()  # (N, C, Ho, Wo)
    arg = np.zeros(best.shape, dtype=_tap_dtype(kernel))
    for t in range(1, kernel[0] * kernel[1]):
        v = xp[(..., *tap(t // kernel[1], t % kernel[1], stride, dilation, out_hw))]
        better = v > best
        if nan_wins:
            better |= np.isnan(v)
        np.maximum(best, v, out=best)
        arg += better * (arg.dtype.type(t) - arg)  # arg = t where better: arithmetic select, the fastest
    return best, arg


class MaxPool2d(Primitive):
    """x (N, C, H, W) -> values (N, C, H_out, W_out), plus int64 indices of the same shape when return_indices
    (torch's: flat positions in the input's H*W plane). Padding counts as -inf.

    Each window's first maximum in row-major order wins (torch's tie rule; a NaN wins, as in torch) and alone
    receives the gradient. Only the tap number (i*kw + j, int8) of the winner is saved for backward.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair,
                return_indices: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        pads = _pads(x.shape, kernel, stride, padding, dilation, out_hw)
        xp = pad2d(x, pads, _lowest(x.dtype))  # x itself when there is no padding: taps are plain views
        best, arg = _running_max(xp, kernel, stride, dilation, out_hw, nan_wins=False)
        if x.dtype.kind == "f" and np.isnan(best).any():  # np.maximum spreads NaN: only then redo the ties
            best, arg = _running_max(xp, kernel, stride, dilation, out_hw, nan_wins=True)
        ctx.save_for_backward(arg)
        ctx.geom = (x.shape, kernel, stride, dilation, pads, out_hw)
        if not return_indices:
            return best
        idx = _flat_indices(arg, ctx.geom)
        ctx.mark_non_differentiable(idx)
        return best, idx

    @staticmethod
    def backward(ctx, g: np.ndarray, *_g_indices: np.ndarray) -> tuple:
        (arg,) = ctx.saved_tensors
        return call(TapScatter, g, arg, ctx.geom), None, None, None, None, None, None


class AvgPool2d(Primitive):
    """x (N, C, H, W) -> (N, C, H_out, W_out): window sums over zero padding divided per window by
    divisor_override, or the window size clipped to the padded input (count_include_pad) or to the input."""

    @staticmethod
    def forward(ctx, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, out_hw: Pair,
                count_include_pad: bool, divisor_override: int | None) -> np.ndarray:
        pads = _pads(x.shape, kernel, stride, padding, (1, 1), out_hw)
        xp = pad2d(x, pads)
        out = xp[(..., *tap(0, 0, stride, (1, 1), out_hw))].copy()  # (N, C, Ho, Wo)
        for t in range(1, kernel[0] * kernel[1]):
            out += xp[(..., *tap(t // kernel[1], t % kernel[1], stride, (1, 1), out_hw))]
        div = _divisor(x.shape, kernel, stride, padding, out_hw, count_include_pad, divisor_override, x.dtype)
        out /= div
        ctx.div = div
        ctx.geom = (x.shape, kernel, stride, pads, out_hw)
        ctx.args = (kernel, stride, padding, out_hw, count_include_pad, divisor_override)
        return out

    @staticmethod
    def backward(ctx, g: np.ndarray) -> tuple:
        return call(AvgPool2dAdjoint, g, ctx.geom, ctx.div, ctx.args), None, None, None, None, None, None


class AvgPool2dAdjoint(Primitive):
    """The gradient of AvgPool2d, g (N, C, Ho, Wo) -> (N, C, H, W): each window's g / divisor added onto every
    cell of the window (col2im over the taps), padding cropped. Linear in g, so its own gradient is its adjoint,
    AvgPool2d with the same arguments `args` = (kernel, stride, padding, out_hw, count_include_pad,
    divisor_override); geom and div are AvgPool2d's (see its forward)."""

    @staticmethod
    def forward(ctx, g: np.ndarray, geom: tuple, div: float | np.ndarray, args: tuple) -> np.ndarray:
        ctx.args = args
        x_shape, kernel, stride, pads, out_hw = geom
        gd = g / div  # (N, C, Ho, Wo): each window's share, the same for every tap
        if stride == kernel and pads == (0, 0, 0, 0):
            # reshape fast path: windows tile the input, so one broadcast fills (N, C, Ho, kh, Wo, kw)
            N, C, Ho, Wo = g.shape
            tiles = np.broadcast_to(gd[:, :, :, None, :, None], (N, C, Ho, kernel[0], Wo, kernel[1]))
            grad = np.zeros(x_shape, dtype=g.dtype)
            grad[:, :, :Ho * kernel[0], :Wo * kernel[1]] = tiles.reshape(N, C, Ho * kernel[0], Wo * kernel[1])
            return grad
        padded = (*x_shape[:2], x_shape[2] + pads[0] + pads[1], x_shape[3] + pads[2] + pads[3])
        gxp = col2im(lambda i, j: gd, padded, kernel, stride, (1, 1), out_hw, g.dtype)
        return crop2d(gxp, pads)

    @staticmethod
    def backward(ctx, gg):
        return call(AvgPool2d, gg, *ctx.args), None, None, None


def _divisor(shape: tuple, kernel: Pair, stride: Pair, padding: Pair, out_hw: Pair, count_include_pad: bool,
             divisor_override: int | None, dtype: np.dtype) -> float | np.ndarray:
    """A Python float when every window has the same divisor (keeps float32 float32), else (Ho, Wo) of dtype."""
    if divisor_override is not None:
        return float(divisor_override)
    counts = []
    for a in (0, 1):
        size, k, s, p = shape[2 + a], kernel[a], stride[a], padding[a]
        start = np.arange(out_hw[a]) * s - p
        end = np.minimum(start + k, size + p)  # torch clips windows to the padded input first
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    div = counts[0][:, None] * counts[1][None, :]  # (Ho, Wo)
    return float(div.flat[0]) if div.size and (div == div.flat[0]).all() else div.astype(dtype)


class StochasticPool2d(Primitive):
    """Stochastic pooling (Zeiler & Fergus 2013), training mode: x (N, C, H, W) -> (N, C, H_out, W_out).

    Each window picks one element with probability a_i / sum(a) over its non-negative parts a = max(x, 0) and
    outputs it; an all-zero (or all-negative) window outputs 0. The gradient goes to the picked element only.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, kernel: Pair, stride: Pair, out_hw: Pair, rng: np.random.Generator
                ) -> np.ndarray:
        n_taps = kernel[0] * kernel[1]
        views = [x[(..., *tap(t // kernel[1], t % kernel[1], stride, (1, 1), out_hw))] for t in range(n_taps)]
        total = np.maximum(views[0], 0)
        for v in views[1:]:
            total = total + np.maximum(v, 0)  # (N, C, Ho, Wo)
        u = rng.random(total.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32) * total
        picked = np.full(total.shape, -1, dtype=_tap_dtype(kernel))
        out = np.zeros(total.shape, dtype=x.dtype)
        cum = np.zeros_like(total)
        for t, v in enumerate(views):
            cum += np.maximum(v, 0)
            now = (cum > u) & (picked < 0)  # the first tap whose cumulative weight passes u
            np.copyto(picked, t, where=now)
            np.copyto(out, v, where=now)
        ctx.save_for_backward(picked)
        ctx.geom = (x.shape, kernel, stride, (1, 1), (0, 0, 0, 0), out_hw)
        return out

    @staticmethod
    def backward(ctx, g: np.ndarray) -> tuple:
        (picked,) = ctx.saved_tensors
        return call(TapScatter, g, picked, ctx.geom), None, None, None, None


class AdaptiveMaxPool2d(Primitive):
    """x (N, C, H, W) -> values (and flat H*W indices when asked), (N, C, H_out, W_out); window o spans
    [floor(o H / H_out), ceil((o + 1) H / H_out)). The first maximum in row-major order wins (torch's rule).

    Separable: the first maximum of each row segment, then the first row holding the window's maximum, is
    exactly the row-major first maximum (and the last NaN when there are NaNs, as torch). Windows of different
    sizes are padded to the largest size by repeating their last position (which never changes a maximum nor
    the position of its first occurrence).
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, out_hw: Pair, return_indices: bool
                ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        N, C, H, W = x.shape
        if 0 in out_hw:
            ctx.save_for_backward(np.zeros((N, C, *out_hw), np.int64))
            ctx.x_shape = x.shape
            empty = np.zeros((N, C, *out_hw), x.dtype)
            return (empty, np.zeros((N, C, *out_hw), np.int64)) if return_indices else empty
        rows, cols = _adaptive_index(H, out_hw[0]), _adaptive_index(W, out_hw[1])  # (Ho, kh), (Wo, kw)
        nan_wins = False
        while True:  # a second pass only when a NaN is present (torch: the last NaN wins)
            row_max, col_slot = _gather_max(x, cols, 3, nan_wins)   # (N, C, H, Wo): max of each row segment
            out, row_slot = _gather_max(row_max, rows, 2, nan_wins)  # (N, C, Ho, Wo): first row with the max
            if nan_wins or x.dtype.kind != "f" or not np.isnan(out).any():
                break
            nan_wins = True
        h = rows[np.arange(out_hw[0])[:, None], row_slot]         # (N, C, Ho, Wo) input row of the max
        w = cols[np.arange(out_hw[1]), np.take_along_axis(col_slot, h, axis=2)]  # (N, C, Ho, Wo) its column
        idx = h * W + w                                           # (N, C, Ho, Wo) flat H*W index, int64
        ctx.save_for_backward(idx)
        ctx.x_shape = x.shape
        if not return_indices:
            return out
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx, g: np.ndarray, *_g_indices: np.ndarray) -> tuple:
        (idx,) = ctx.saved_tensors
        # adaptive windows may overlap and share their maximum: the scatter accumulates
        return call(IndexScatter2d, g, idx, ctx.x_shape), None, None


def _gather_max(x: np.ndarray, index: np.ndarray, axis: int, nan_wins: bool) -> tuple[np.ndarray, np.ndarray]:
    """Max of x over the positions index (out, k) along `axis` and the slot (0..k-1) of the first maximum.

    A loop over the k slots with a running np.maximum, like _running_max (a reduction over a gathered
    (..., out, k) copy was ~4x slower). Shapes: x (..., size, ...) -> both (..., out, ...).
    """
    best = np.take(x, index[:, 0], axis=axis)
    slot = np.zeros(best.shape, dtype=np.int8 if index.shape[1] <= 127 else np.int32)
    for t in range(1, index.shape[1]):
        v = np.take(x, index[:, t], axis=axis)
        better = v > best
        if nan_wins:
            better |= np.isnan(v)
        np.maximum(best, v, out=best)
        slot += better * (slot.dtype.type(t) - slot)
    return best, slot


def _adaptive_index(size: int, out: int) -> np.ndarray:
    """(out, k_max) input positions of each adaptive window, padded by repeating the window's last position."""
    o = np.arange(out)
    start = (o * size) // out if out else o
    end = -((-(o + 1) * size) // out) if out else o
    k_max = int((end - start).max()) if out else 0
    pos = start[:, None] + np.arange(k_max)[None, :]
    return np.minimum(pos, (end - 1)[:, None])
