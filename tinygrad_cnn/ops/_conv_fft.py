"""Fourier convolution kernels (stride 1): transform, one small GEMM per frequency, transform back.

A stride-1 convolution is a circular one on a frame of L = H_out + dilation*(k-1) cells per axis (no window wraps
around), so in the frequency domain every output is a sum of products: y^ = x^ conj(w^) per frequency, the input
gradient g^ w^ and the weight gradient x^ conj(g^). The sums over channels make these, per frequency, complex
GEMMs of (channels x channels x batch): that is where the FLOPs drop (CIFAR conv2: 655 -> ~250 MFLOP forward).

The transforms are themselves GEMMs (a DFT is a matrix product; numpy.fft's per-plane overhead made it ~4x slower
than BLAS for these 8-40 cell planes). They only ever touch the cells that matter: the rows/columns of the image
inside the frame, the windows' first positions, or the kernel taps. Complex numbers are kept as real (re; im)
pairs stacked on an axis, so every product is a real float32 GEMM:

    spectrum layout (F2, L1, 2, Ch, N): frequency (k2 < F2 = L2//2 + 1, k1 < L1), re/im, channels, batch.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._windows import Pads, Pair


def applies(stride: Pair, groups: int) -> bool:
    return stride == (1, 1) and groups == 1


def _frame(out_hw: Pair, kernel: Pair, dilation: Pair, pads: Pads, image_hw: Pair) -> Pair:
    """The cycle length L per axis. The windows read padded cells q < L0 = out + d(k-1); the image's cells sit at
    [pad, end), end = min(pad + size, L0). On a cycle of L >= end the cells q >= L wrap onto q - L < L0 - L:
    with L >= L0 - pad those are leading padding (zeros), as q itself is (trailing padding), so the circular
    correlation equals the linear one. L = max(L0 - pad, end, d(k-1) + 1) (the taps must stay apart for the
    weight gradient): CIFAR conv2 20 -> 18, conv3 12 -> 10 cells, i.e. 18-30% fewer frequencies."""
    frame = []
    for o, k, d, pad, size in zip(out_hw, kernel, dilation, pads[::2], image_hw):
        full = o + d * (k - 1)
        frame.append(max(full - pad, min(pad + size, full), d * (k - 1) + 1))
    return tuple(frame)  # type: ignore[return-value]


@lru_cache(maxsize=256)
def _forward_mats(L: int, positions: tuple, half: bool, dtype: str) -> np.ndarray:
    """DFT of values sitting at `positions` of an L-cycle. half: real input, frequencies < L//2 + 1, matrix
    (2F, n) with rows (k, re/im); else complex input (re; im) -> (2F, 2n) block with rows (k, re/im)."""
    F = L // 2 + 1 if half else L
    e = np.exp(-2j * np.pi * np.outer(np.arange(F), positions) / L)        # (F, n)
    if half:
        m = np.stack([e.real, e.imag], 1).reshape(2 * F, len(positions))
    else:  # columns (re/im of the input, position): [[er, -ei], [ei, er]]
        m = np.stack([np.concatenate([e.real, -e.imag], 1), np.concatenate([e.imag, e.real], 1)], 1)
        m = m.reshape(2 * F, 2 * len(positions))
    return _clean(m, dtype)


def _clean(m: np.ndarray, dtype: str) -> np.ndarray:
    """m in dtype with rounding residue (cos(pi/2) = 6e-17) set to 0: float32 products of such entries are
    subnormal, which is slow on x86 and would raise numpy underflow warnings."""
    m = m.copy()
    m[np.abs(m) < 1e-9] = 0.0
    return m.astype(dtype)


@lru_cache(maxsize=256)
def _inverse_mats(L: int, positions: tuple, half: bool, dtype: str) -> np.ndarray:
    """Inverse DFT to `positions`. half: the real part of the inverse from frequencies < L//2 + 1 of a real
    signal (weights 1, 2, ..., 2, 1), matrix (n, 2F), columns (k, re/im); else the full complex inverse,
    complex (re; im) output, matrix (2n, 2L) rows (re/im, position), columns (k, re/im)."""
    F = L // 2 + 1 if half else L
    e = np.exp(2j * np.pi * np.outer(positions, np.arange(F)) / L) / L      # (n, F)
    if half:
        c = np.full(F, 2.0)
        c[0] = 1.0
        if L % 2 == 0:
            c[-1] = 1.0
        e = e * c
    re = np.stack([e.real, -e.imag], 2).reshape(len(positions), 2 * F)
    if half:
        return _clean(re, dtype)
    im = np.stack([e.imag, e.real], 2).reshape(len(positions), 2 * F)
    return _clean(np.concatenate([re, im], 0), dtype)


# The batch-innermost copy of an NCHW array reads one float per cache line when done at once (CIFAR conv2's x:
# 1.2 ms); 8 samples at a time, the lines of a block are still in cache for the next sample (0.4 ms).
_COPY_SAMPLES = 8


def _to_spectrum(a: np.ndarray, frame: Pair, pos_h: tuple, pos_w: tuple) -> np.ndarray:
    """a (N, Ch, A, B) whose cells sit at frame positions pos_h x pos_w -> spectrum (F2, L1, 2, Ch, N).

    Along W first (real input: only the F2 = L2//2 + 1 half frequencies, a (2F2, B) matrix), then along H
    (complex, (2L1, 2A)): 20% fewer multiply-adds than H first, whose real step yields all L1 frequencies."""
    N, Ch, A, B = a.shape
    L1, L2 = frame
    F2 = L2 // 2 + 1
    if A == 0 or B == 0:  # no cell inside the frame (windows over padding only): a zero spectrum
        return np.zeros((F2, L1, 2, Ch, N), a.dtype)
    t = np.empty((B, A, Ch, N), a.dtype)
    for n0 in range(0, N, _COPY_SAMPLES):  # blocks of samples: 3x faster than one copy (reads stay in cache)
        np.copyto(t[..., n0:n0 + _COPY_SAMPLES], a[n0:n0 + _COPY_SAMPLES].transpose(3, 2, 1, 0))
    m1 = _forward_mats(L2, pos_w, True, a.dtype.str)                       # (2F2, B)
    s = np.matmul(m1, t.reshape(B, -1)).reshape(F2, 2 * A, Ch * N)         # rows (k2, re/im), (a, ...)
    m2 = _forward_mats(L1, pos_h, False, a.dtype.str)                      # (2L1, 2A): complex input
    return np.matmul(m2, s).reshape(F2, L1, 2, Ch, N)


def _from_spectrum(s: np.ndarray, frame: Pair, pos_h: tuple, pos_w: tuple) -> np.ndarray:
    """Inverse of _to_spectrum at frame positions pos_h x pos_w: (F2 * L1, 2, Ch, N) -> (B, A, Ch, N) real
    (W first in memory: the order the last GEMM leaves it)."""
    L1, L2 = frame
    F2 = L2 // 2 + 1
    Ch, N = s.shape[-2:]
    p = _inverse_mats(L1, pos_h, False, s.dtype.str)                       # (2A, 2L1): complex -> complex
    z = np.matmul(p, s.reshape(F2, 2 * L1, Ch * N))                        # (F2, 2A, Ch*N): rows (re/im, a)
    q = _inverse_mats(L2, pos_w, True, s.dtype.str)                        # (B, 2F2): half -> real
    return np.matmul(q, z.reshape(2 * F2, -1)).reshape(len(pos_w), len(pos_h), Ch, N)


def _positions(size: int, offset: int, limit: int) -> tuple:
    """Frame positions offset + i of the cells i < size that lie inside the frame [0, limit)."""
    return tuple(offset + i for i in range(size) if 0 <= offset + i < limit)


def _weight_spectrum(w: np.ndarray, frame: Pair, dilation: Pair) -> np.ndarray:
    """w (O, C, kh, kw) -> (F, C, O) real and imaginary parts, each (F2*L1, C, O)."""
    taps = tuple(tuple(range(0, d * k, d)) for k, d in zip(w.shape[2:], dilation))
    s = _to_spectrum(w, frame, *taps)                                      # (F2, L1, 2, C, O)
    s = s.reshape(-1, 2, *s.shape[3:])
    return s[:, 0], s[:, 1]


def _image_spectrum(x: np.ndarray, frame: Pair, pads: Pads) -> np.ndarray:
    """x (N, C, H, W) -> (F2*L1, 2C, N): rows (re/im, channel)."""
    pos = (_positions(x.shape[2], pads[0], frame[0]), _positions(x.shape[3], pads[2], frame[1]))
    s = _to_spectrum(x[:, :, :len(pos[0]), :len(pos[1])], frame, *pos)
    return s.reshape(-1, 2 * x.shape[1], x.shape[0])


def _to_nchw(a: np.ndarray, out: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """(B, A, Ch, N) -> out[:, :, :A, :B] (N, Ch, ...) (+ bias per channel)."""
    src = a.transpose(3, 2, 1, 0)
    dst = out[:, :, :a.shape[1], :a.shape[0]]
    if bias is None:
        np.copyto(dst, src)
    else:
        np.add(src, bias.reshape(-1, 1, 1), out=dst)
    return out


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, pads: Pads, dilation: Pair, out_hw: Pair,
            keep_spectrum: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """y = conv2d(x, w) + b (stride 1, groups 1): (N, C, H, W), (O, C, kh, kw) -> (N, O, *out_hw), and x's
    spectrum (the weight gradient's cache) when keep_spectrum."""
    N, O = x.shape[0], w.shape[0]
    frame = _frame(out_hw, w.shape[2:], dilation, pads, x.shape[2:])
    xs = _image_spectrum(x, frame, pads)                                   # (F, 2C, N)
    wr, wi = _weight_spectrum(w, frame, dilation)                          # (F, C, O) each
    wrt, wit = wr.transpose(0, 2, 1), wi.transpose(0, 2, 1)                # conj(w^) as (O, C): re wr^T, im -wi^T
    blk = np.concatenate([np.concatenate([wrt, wit], 2), np.concatenate([-wit, wrt], 2)], 1)  # (F, 2O, 2C)
    ys = np.matmul(blk, xs).reshape(-1, 2, O, N)                           # (F2*L1, 2, O, N)
    y = _from_spectrum(ys, frame, tuple(range(out_hw[0])), tuple(range(out_hw[1])))
    return _to_nchw(y, np.empty((N, O, *out_hw), x.dtype), b), (xs if keep_spectrum else None)


def _window_spectrum(g: np.ndarray, frame: Pair, memo: dict | None) -> np.ndarray:
    """g (N, O, Ho, Wo) (one value per window) -> (F2*L1, 2O, N). memo: a dict that one backward passes to both
    its gradients (they transform the same output gradient): the first computes, the second reuses."""
    if memo is not None and memo.get("key") == (id(g), frame):
        return memo["spectrum"]
    N, O, Ho, Wo = g.shape
    gs = _to_spectrum(g, frame, tuple(range(Ho)), tuple(range(Wo))).reshape(-1, 2 * O, N)
    if memo is not None:
        memo.update(key=(id(g), frame), spectrum=gs, array=g)  # holding g keeps its id unique meanwhile
    return gs


def transpose(g: np.ndarray, w: np.ndarray, pads: Pads, dilation: Pair, image_hw: Pair,
              memo: dict | None = None) -> np.ndarray:
    """Adjoint of forward in x: g (N, O, Ho, Wo), w (O, C, kh, kw) -> (N, C, *image_hw); memo: see
    _window_spectrum."""
    N, O, Ho, Wo = g.shape
    C = w.shape[1]
    frame = _frame((Ho, Wo), w.shape[2:], dilation, pads, image_hw)
    gs = _window_spectrum(g, frame, memo)
    wr, wi = _weight_spectrum(w, frame, dilation)                          # w^ as (C, O): re wr, im wi
    blk = np.concatenate([np.concatenate([wr, -wi], 2), np.concatenate([wi, wr], 2)], 1)  # (F, 2C, 2O)
    xs = np.matmul(blk, gs).reshape(-1, 2, C, N)
    pos = (_positions(image_hw[0], pads[0], frame[0]), _positions(image_hw[1], pads[2], frame[1]))
    gx = _from_spectrum(xs, frame, *pos)                                   # (B, A, C, N), A <= H
    out = np.empty((N, C, *image_hw), g.dtype) if gx.shape[1::-1] == image_hw else np.zeros((N, C, *image_hw),
                                                                                              g.dtype)
    return _to_nchw(gx, out)


def weight(x: np.ndarray, g: np.ndarray, kernel: Pair, pads: Pads, dilation: Pair,
           spectrum: np.ndarray | None = None, memo: dict | None = None) -> np.ndarray:
    """Weight gradient: x (N, C, H, W), g (N, O, Ho, Wo) -> (O, C, kh, kw); spectrum: x's, from forward; memo:
    see _window_spectrum."""
    N, O, Ho, Wo = g.shape
    C = x.shape[1]
    frame = _frame((Ho, Wo), kernel, dilation, pads, x.shape[2:])
    xs = spectrum if spectrum is not None else _image_spectrum(x, frame, pads)  # (F, 2C, N)
    gs = _window_spectrum(g, frame, memo)
    p = np.matmul(gs, xs.transpose(0, 2, 1))                               # (F, 2O, 2C): [[GrXr, GrXi], [GiXr, GiXi]]
    spec = np.empty((p.shape[0], 2, O, C), p.dtype)
    np.add(p[:, :O, :C], p[:, O:, C:], out=spec[:, 0])                     # re: Gr Xr + Gi Xi
    np.subtract(p[:, :O, C:], p[:, O:, :C], out=spec[:, 1])                # im: Gr Xi - Gi Xr
    taps = tuple(tuple(range(0, d * k, d)) for k, d in zip(kernel, dilation))
    gw = _from_spectrum(spec.reshape(-1, 2, O, C), frame, *taps)          # (kw, kh, O, C)
    return np.ascontiguousarray(gw.transpose(2, 3, 1, 0))
