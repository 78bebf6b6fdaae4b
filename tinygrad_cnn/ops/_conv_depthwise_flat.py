"""Depthwise convolution on large maps, tap by tap on flat padded planes (NCHW, no layout copy): stride 1 here,
strided ones (without dilation) as one stride-1 convolution per phase of the input (at the end).

Each sample's padded input is one flat array: channel planes of Hp x Wp one after another. On that array kernel tap
(i, j) of every window is the same array shifted by i*Wp + j (times the dilation): a contiguous 1-D slice. So
every tap is two 1-D numpy passes (multiply, add), numpy's fastest case: a multiply by a per-channel weight
broadcast over a 2-D view runs ~2.5x slower than a multiply of two contiguous vectors, so each tap's weights
are spread once over a channel's plane (`_patterns`, one sample's size per tap). Outputs are computed on the whole
padded plane (Hp x Wp per channel, 13 % more cells at 32x32) and the first Ho x Wo of each plane kept; the taps
of those cells never cross into the next plane. Work runs in cache-sized pieces of one sample.
"""
from __future__ import annotations

import numpy as np

from ._windows import Pads, Pair, adjoint_padding

_ELEMS = 1 << 15  # cells per piece: ~4 arrays of 128 KB stay in the L2 cache


def _offsets(kernel: Pair, dilation: Pair, Wp: int) -> list[int]:
    return [i * dilation[0] * Wp + j * dilation[1] for i in range(kernel[0]) for j in range(kernel[1])]


def _padded(x: np.ndarray, pads: Pads, kernel: Pair, dilation: Pair) -> tuple[np.ndarray, int, int]:
    """x (N, C, H, W) -> (N, C*Hp*Wp + slack) zero-padded planes per sample (slack: the last plane's taps read
    past its end into zeros), Hp, Wp."""
    N, C, H, W = x.shape
    top, bottom, left, right = pads
    Hp, Wp = H + top + bottom, W + left + right
    slack = max(_offsets(kernel, dilation, Wp))
    buf = np.zeros((N, C * Hp * Wp + slack), x.dtype)
    buf[:, :C * Hp * Wp].reshape(N, C, Hp, Wp)[:, :, top:top + H, left:left + W] = x
    return buf, Hp, Wp


def _patterns(w: np.ndarray, plane: int) -> np.ndarray:
    """w (C, 1, kh, kw) -> (kh*kw, C*plane): tap t's weight of channel c over the whole of c's plane."""
    return np.repeat(w.reshape(w.shape[0], -1).T, plane, axis=1)


def forward(x: np.ndarray, w: np.ndarray, pads: Pads, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """x (N, C, H, W), w (C, 1, kh, kw), stride 1 -> (N, C, *out_hw) C-contiguous."""
    N, C = x.shape[:2]
    buf, Hp, Wp = _padded(x, pads, w.shape[2:], dilation)
    plane = Hp * Wp
    length = C * plane
    pattern = _patterns(w, plane)
    offsets = _offsets(w.shape[2:], dilation, Wp)
    acc = np.empty((N, length), x.dtype)
    step = max(plane, _ELEMS // plane * plane)
    tmp = np.empty(min(length, step), x.dtype)
    for n in range(N):
        src = buf[n]
        for e0 in range(0, length, step):
            e1 = min(length, e0 + step)
            out, scratch = acc[n, e0:e1], tmp[:e1 - e0]
            np.multiply(src[e0 + offsets[0]:e1 + offsets[0]], pattern[0, e0:e1], out=out)
            for t in range(1, len(offsets)):
                np.multiply(src[e0 + offsets[t]:e1 + offsets[t]], pattern[t, e0:e1], out=scratch)
                out += scratch
    return np.ascontiguousarray(acc.reshape(N, C, Hp, Wp)[:, :, :out_hw[0], :out_hw[1]])


def transpose(g: np.ndarray, w: np.ndarray, pads: Pads, dilation: Pair, image_hw: Pair) -> np.ndarray:
    """Adjoint of forward in x (stride 1): the correlation of g, padded so that every tap lands, with the kernel
    flipped. g (N, C, Ho, Wo) -> (N, C, *image_hw). Negative padding (a pad larger than the kernel) crops g."""
    g, grown = adjoint_padding(g, w.shape[2:], pads, dilation, image_hw)
    return forward(g, w[:, :, ::-1, ::-1], grown, dilation, image_hw)


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, pads: Pads, dilation: Pair) -> np.ndarray:
    """Weight gradient (stride 1): x (N, C, H, W), g (N, C, Ho, Wo) -> (C, 1, kh, kw). g is laid on the padded
    planes (zeros outside its Ho x Wo corner), so each tap is one dot product per channel of two flat views."""
    N, C = x.shape[:2]
    buf, Hp, Wp = _padded(x, pads, kernel, dilation)
    plane = Hp * Wp
    grid = np.zeros((N, C, Hp, Wp), g.dtype)
    grid[:, :, :g.shape[2], :g.shape[3]] = g
    grid = grid.reshape(N, C, plane)
    offsets = _offsets(kernel, dilation, Wp)
    gw = np.zeros((len(offsets), C), g.dtype)
    for n in range(N):  # per sample, 2-D: 1.3x faster than one 3-D einsum over a strided view of all samples
        for t, off in enumerate(offsets):
            gw[t] += np.einsum("ck,ck->c", grid[n], buf[n, off:off + C * plane].reshape(C, plane))
    return np.ascontiguousarray(gw.T).reshape(C, 1, *kernel)


# --- strided convolutions: one stride-1 convolution per phase ----------------------------------------------------
# With stride s (no dilation), window ho of kernel row i reads padded row s*ho + i. Writing i = s*m + r, that is
# row ho + m of phase r (rows r, r + s, r + 2s, ... of the padded input) under kernel row s*m + r. So the strided
# convolution is the sum over the s0*s1 phases of stride-1 convolutions of each phase with its sub-kernel
# w[:, :, r0::s0, r1::s1]; its input and weight gradients are those of the parts, phase by phase.
def _phase_parts(kernel: Pair, stride: Pair):
    """(r0, r1, index of the phase in the padded input) for each phase some kernel tap reads."""
    for r0 in range(min(stride[0], kernel[0])):
        for r1 in range(min(stride[1], kernel[1])):
            yield r0, r1, (slice(None), slice(None), slice(r0, None, stride[0]), slice(r1, None, stride[1]))


def _zero_padded(x: np.ndarray, pads: Pads) -> np.ndarray:
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + top + bottom, W + left + right), x.dtype)
    xp[:, :, top:top + H, left:left + W] = x
    return xp


def forward_strided(x: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, out_hw: Pair) -> np.ndarray:
    """x (N, C, H, W), w (C, 1, kh, kw), any stride, no dilation -> (N, C, *out_hw)."""
    xp, y = _zero_padded(x, pads), None
    for r0, r1, phase in _phase_parts(w.shape[2:], stride):
        part = forward(xp[phase], w[:, :, r0::stride[0], r1::stride[1]], (0, 0, 0, 0), (1, 1), out_hw)
        y = part if y is None else np.add(y, part, out=y)
    return y


def transpose_strided(g: np.ndarray, w: np.ndarray, stride: Pair, pads: Pads, image_hw: Pair) -> np.ndarray:
    """Adjoint of forward_strided in x: g (N, C, Ho, Wo) -> (N, C, *image_hw). The phases are disjoint cells of
    the padded input, so each part's input gradient is written into its own cells."""
    N, C = g.shape[:2]
    top, bottom, left, right = pads
    gxp = np.zeros((N, C, image_hw[0] + top + bottom, image_hw[1] + left + right), g.dtype)
    for r0, r1, phase in _phase_parts(w.shape[2:], stride):
        cells = gxp[phase]
        cells[...] = transpose(g, w[:, :, r0::stride[0], r1::stride[1]], (0, 0, 0, 0), (1, 1), cells.shape[2:])
    return np.ascontiguousarray(gxp[:, :, top:top + image_hw[0], left:left + image_hw[1]])


def weight_strided(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, pads: Pads) -> np.ndarray:
    """Weight gradient of forward_strided: x (N, C, H, W), g (N, C, Ho, Wo) -> (C, 1, kh, kw)."""
    xp = _zero_padded(x, pads)
    gw = np.empty((x.shape[1], 1, *kernel), g.dtype)
    for r0, r1, phase in _phase_parts(kernel, stride):
        sub = gw[:, :, r0::stride[0], r1::stride[1]]
        sub[...] = weight(xp[phase], g, sub.shape[2:], (0, 0, 0, 0), (1, 1))
    return gw
