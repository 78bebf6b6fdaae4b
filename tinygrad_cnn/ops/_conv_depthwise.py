"""Depthwise convolution kernels (groups = in channels = out channels, MobileNet's 3x3 layers): one band-matrix
GEMM per channel on small maps (below), flat-plane taps on large ones (_conv_depthwise_flat.py: stride 1, and
strided without dilation phase by phase), and batch-last taps (here) for the rest (strided and dilated).

im2col would run one GEMM per channel, each (1 x kh*kw) @ (kh*kw x H_out*W_out*N): hundreds of matrix-vector
products plus a column matrix kh*kw times the input. In the batch-last taps every kernel tap (i, j) is one
vectorised multiply-add of a strided view of the padded input, for all channels at once: no column matrix, kh*kw
passes over the output. Their arrays are laid out batch-last (C, H, W, N) in memory, as in _conv_im2col, so each
tap reads long contiguous runs (but entering and leaving that layout costs two transposing copies).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _conv_depthwise_flat as flat
from . import _conv_im2col as im2col
from ._windows import Pads, Pair, crop2d, pad2d, relayout, tap

_BLOCK_BYTES = 1 << 19
_FLAT = True  # large maps without dilation+stride: the flat-plane taps (~2x the batch-last ones; tests switch it)


def applies(c_image: int, c_window: int, groups: int) -> bool:
    return groups > 1 and groups == c_image == c_window


def _taps(kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair):
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield i, j, tap(i, j, stride, dilation, out_hw)


def _blocks(C: int, bytes_per_channel: int):
    """Channel slices of about _BLOCK_BYTES: all kernel taps of one block run while its data is in cache (the
    whole-array version read and wrote every array kh*kw times from memory: 2-3x slower)."""
    step = max(1, _BLOCK_BYTES // max(1, bytes_per_channel))
    for c0 in range(0, C, step):
        yield slice(c0, min(C, c0 + step))


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair, pads: Pads, dilation: Pair,
            out_hw: Pair, keep: bool = False) -> tuple[np.ndarray, np.ndarray | tuple | None]:
    """x (N, C, H, W), w (C, 1, kh, kw) -> y (N, C, *out_hw) C-contiguous; cache: the padded batch-last input
    (batch-last taps), or () for the band GEMMs and flat planes (their weight gradients read x itself)."""
    N, C = x.shape[:2]
    if _band_applies(x.shape[2:], out_hw):
        y = _band_forward(x, w, stride, pads, dilation, out_hw)
        if b is not None:
            y += b.reshape(C, 1, 1)
        return y, (() if keep else None)
    if _FLAT and (stride == (1, 1) or dilation == (1, 1)):
        y = (flat.forward(x, w, pads, dilation, out_hw) if stride == (1, 1) else
             flat.forward_strided(x, w, stride, pads, out_hw))
        if b is not None:
            y += b.reshape(C, 1, 1)
        return y, (() if keep else None)
    xp = pad2d(x, pads, batch_last=True).transpose(1, 2, 3, 0)            # (C, Hp, Wp, N) C-contiguous
    acc = np.zeros((C, *out_hw, N), x.dtype)
    tmp = np.empty_like(acc)
    for cb in _blocks(C, xp[0].nbytes + 2 * acc[0].nbytes):
        for i, j, (rows, cols) in _taps(w.shape[2:], stride, dilation, out_hw):
            np.multiply(xp[cb, rows, cols], w[cb, 0, i, j].reshape(-1, 1, 1, 1), out=tmp[cb])
            acc[cb] += tmp[cb]
    y = np.empty((N, C, *out_hw), x.dtype)
    relayout(y, acc.transpose(3, 0, 1, 2), None if b is None else b.reshape(C, 1, 1))
    return y, (xp if keep else None)


def transpose(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair,
              image_hw: Pair) -> np.ndarray:
    """Adjoint of forward in x: g (N, C, Ho, Wo), w (C, 1, kh, kw) -> (N, C, *image_hw) C-contiguous."""
    if _band_applies(image_hw, g.shape[2:]):
        return _band_transpose(g, w, stride, pads, dilation, image_hw)
    if _FLAT and stride == (1, 1):
        return flat.transpose(g, w, pads, dilation, image_hw)
    if _FLAT and dilation == (1, 1):
        return flat.transpose_strided(g, w, stride, pads, image_hw)
    N, C = g.shape[:2]
    gb = im2col.batch_last(g).transpose(1, 2, 3, 0)                      # (C, Ho, Wo, N)
    padded = (C, image_hw[0] + pads[0] + pads[1], image_hw[1] + pads[2] + pads[3], N)
    gxp = np.zeros(padded, g.dtype)
    tmp = np.empty_like(gb)
    for cb in _blocks(C, gxp[0].nbytes + 2 * gb[0].nbytes):
        for i, j, (rows, cols) in _taps(w.shape[2:], stride, dilation, g.shape[2:]):
            np.multiply(gb[cb], w[cb, 0, i, j].reshape(-1, 1, 1, 1), out=tmp[cb])
            gxp[cb, rows, cols] += tmp[cb]
    gx = crop2d(gxp.transpose(3, 0, 1, 2), pads)                          # (N, C, H, W) view
    return relayout(np.empty(gx.shape, g.dtype), gx)


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
           cache: np.ndarray | tuple | None = None) -> np.ndarray:
    """Weight gradient: x (N, C, H, W), g (N, C, Ho, Wo) -> (C, 1, kh, kw); cache: forward's (see forward)."""
    if _band_applies(x.shape[2:], g.shape[2:]):
        return _band_weight(x, g, kernel, stride, pads, dilation)
    if _FLAT and stride == (1, 1):
        return flat.weight(x, g, kernel, pads, dilation)
    if _FLAT and dilation == (1, 1):
        return flat.weight_strided(x, g, kernel, stride, pads)
    C = x.shape[1]
    xp = cache if isinstance(cache, np.ndarray) else pad2d(x, pads, batch_last=True).transpose(1, 2, 3, 0)
    gb = im2col.batch_last(g).transpose(1, 2, 3, 0)
    gw = np.empty((C, 1, *kernel), g.dtype)
    for cb in _blocks(C, xp[0].nbytes + gb[0].nbytes):
        for i, j, (rows, cols) in _taps(kernel, stride, dilation, g.shape[2:]):
            gw[cb, 0, i, j] = np.einsum("chwn,chwn->c", xp[cb, rows, cols], gb[cb])
    return gw


# --- small maps: one GEMM per channel against the band (Toeplitz) matrix of its kernel ---------------------------
# On 8x8 and 4x4 maps the taps are short runs and the work per numpy call is tiny. There each channel's
# convolution is a matrix: y[n, c] (Ho*Wo) = T_c (Ho*Wo x H*W) @ x[n, c] (H*W), T_c holding w[c, i, j] where
# window (ho, wo) meets pixel (h, w) through tap (i, j) (padding, stride and dilation are in which cells are set).
# All N samples of a channel are one GEMM, batched over channels by np.matmul straight on the NCHW arrays (the
# operands are transposed views BLAS reads in place): no padding, no layout copy. T_c costs H*W multiply-adds
# per output instead of kh*kw, so this is for small maps only (_BAND_MAX cells of T_c).
_BAND_MAX = 64 * 256


def _band_applies(image_hw: Pair, out_hw: Pair) -> bool:
    return image_hw[0] * image_hw[1] * out_hw[0] * out_hw[1] <= _BAND_MAX


@lru_cache(maxsize=64)
def _band_cells(image_hw: Pair, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, out_hw: Pair,
                transposed: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each tap sits in the flattened band matrix (Ho*Wo x H*W, or H*W x Ho*Wo transposed): cell indices
    grouped by tap, the tap of each cell, and the start of each tap's group (for np.add.reduceat)."""
    H, W = image_hw
    HoWo = out_hw[0] * out_hw[1]
    ho, wo = np.meshgrid(np.arange(out_hw[0]), np.arange(out_hw[1]), indexing="ij")
    cells, taps, starts = [], [], []
    for t in range(kernel[0] * kernel[1]):
        i, j = divmod(t, kernel[1])
        h = ho * stride[0] - pads[0] + i * dilation[0]
        w = wo * stride[1] - pads[2] + j * dilation[1]
        inside = (h >= 0) & (h < H) & (w >= 0) & (w < W)
        starts.append(sum(len(c) for c in cells))
        window, pixel = ho * out_hw[1] + wo, h * W + w
        cells.append((pixel * HoWo + window if transposed else window * (H * W) + pixel)[inside])
        taps.append(np.full(int(inside.sum()), t))
    return np.concatenate(cells), np.concatenate(taps), np.array(starts)


_SCATTER_CACHE_CELLS = 1 << 19  # cache a geometry's indices only up to 8 MB (16 entries: <= 128 MB in all)


def _band_scatter(channels: int, image_hw: Pair, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
                  out_hw: Pair, transposed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices into all C band matrices and into w's C*kh*kw values, cell by cell: one 1-D scatter then
    builds the bands (3x faster than the 2-D fancy assignment; building the indices per call would cost as
    much as the scatter). The cache holds 16 bytes per non-zero cell of the C bands (4.5 MB for 576 8x8 maps);
    larger index sets (thousands of channels) are rebuilt per call instead of being kept."""
    cells = _band_cells(image_hw, kernel, stride, pads, dilation, out_hw, transposed)[0]
    build = _band_scatter_cached if channels * len(cells) <= _SCATTER_CACHE_CELLS else _band_scatter_build
    return build(channels, image_hw, kernel, stride, pads, dilation, out_hw, transposed)


def _band_scatter_build(channels: int, image_hw: Pair, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
                        out_hw: Pair, transposed: bool) -> tuple[np.ndarray, np.ndarray]:
    cells, taps, _ = _band_cells(image_hw, kernel, stride, pads, dilation, out_hw, transposed)
    size = out_hw[0] * out_hw[1] * image_hw[0] * image_hw[1]
    itype = np.intp  # int32 indices would be converted on every use
    into = (np.arange(0, channels * size, size, dtype=itype)[:, None] + cells.astype(itype)).ravel()
    taps_k = kernel[0] * kernel[1]
    return into, (np.arange(0, channels * taps_k, taps_k, dtype=itype)[:, None] + taps.astype(itype)).ravel()


_band_scatter_cached = lru_cache(maxsize=16)(_band_scatter_build)


def _band(w: np.ndarray, image_hw: Pair, stride: Pair, pads: Pads, dilation: Pair, out_hw: Pair,
          transposed: bool = False) -> np.ndarray:
    """w (C, 1, kh, kw) -> the band matrices (C, Ho*Wo, H*W), or (C, H*W, Ho*Wo) C-contiguous when transposed
    (np.matmul runs a transposed-view second operand ~2.5x slower than a contiguous one)."""
    C = w.shape[0]
    into, taps = _band_scatter(C, tuple(image_hw), tuple(w.shape[2:]), stride, pads, dilation, tuple(out_hw),
                               transposed)
    HoWo, HW = out_hw[0] * out_hw[1], image_hw[0] * image_hw[1]
    band = np.zeros(C * HoWo * HW, w.dtype)
    band[into] = w.reshape(-1)[taps]
    return band.reshape((C, HW, HoWo) if transposed else (C, HoWo, HW))


def _by_channel(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> the (C, N, H*W) view (a copy only when a's pixels are not contiguous per sample/channel)."""
    N, C = a.shape[:2]
    return a.reshape(N, C, -1).transpose(1, 0, 2)


def _band_forward(x: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair,
                  out_hw: Pair) -> np.ndarray:
    N, C = x.shape[:2]
    y = np.empty((N, C, *out_hw), x.dtype)
    band_t = _band(w, x.shape[2:], stride, pads, dilation, out_hw, transposed=True)
    np.matmul(_by_channel(x), band_t, out=_by_channel(y))
    return y


def _band_transpose(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, dilation: Pair,
                    image_hw: Pair) -> np.ndarray:
    N, C = g.shape[:2]
    gx = np.empty((N, C, *image_hw), g.dtype)
    band = _band(w, image_hw, stride, pads, dilation, g.shape[2:])
    np.matmul(_by_channel(g), band, out=_by_channel(gx))
    return gx


def _band_weight(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads,
                 dilation: Pair) -> np.ndarray:
    """sum_n g[n, c] x[n, c]^T is the gradient of every band cell; each tap's cells summed give its weight."""
    C = x.shape[1]
    geometry = (tuple(x.shape[2:]), tuple(kernel), stride, pads, dilation, tuple(g.shape[2:]))
    cells, _, starts = _band_cells(*geometry)
    into, _ = _band_scatter(C, *geometry, False)
    full = np.matmul(_by_channel(g).transpose(0, 2, 1), _by_channel(x))   # (C, Ho*Wo, H*W)
    gw = np.zeros((C, kernel[0] * kernel[1]), g.dtype)
    filled = np.diff(np.append(starts, len(cells))) > 0   # a tap that meets no pixel (all padding) stays 0
    gw[:, filled] = np.add.reduceat(full.reshape(-1)[into].reshape(C, -1), starts[filled], axis=1)
    return gw.reshape(C, 1, *kernel)
