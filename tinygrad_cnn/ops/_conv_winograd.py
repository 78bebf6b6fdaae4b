"""Winograd F(4x4, 3x3) convolution kernels (3x3, stride 1, no dilation, groups 1): 36 GEMMs per 4x4 output tiles.

Each 6x6 input tile d (tiles every 4 cells) gives a 4x4 output tile y = A^T [(G w G^T) * (B^T d B)] A (Lavin &
Gray's matrices, points 0, +-1, +-2, +-1/2), the product summed over channels: per tile component (36 of them)
one GEMM (tiles*N x C) @ (C x O), 4x fewer multiplications than im2col's 9 per output.

Layout: channels last, (H, W, N, C) in memory. Then every transform is a batch of small GEMMs whose right operand
is a strided view with a contiguous (N*C) row: B^T along tile rows (one GEMM per tile row), B^T along tile columns
(one per tile row, component and tile column), and the per-component product reads (tiles*N, C) matrices in
place. The inverse (A^T along both axes) is two plain GEMMs. All of it runs on blocks of a few samples, so the
intermediates (36 components per tile) and the tiles' scatter into NCHW stay in cache.

The input gradient of a stride-1 convolution is a convolution too (of the output gradient padded by k - 1 - pad,
with the kernel flipped and its channel axes swapped), so `transpose` runs the same forward. The weight gradient
is the same bilinear form read the other way: <g, y> = <G^T [(A g A^T) * V] G, w> (`weight`).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._windows import Pads, Pair

_M = 4  # output tile size; input tiles are _M + 2
_BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], dtype=float)
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
               [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
_AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], dtype=float)


def applies(kernel: Pair, stride: Pair, dilation: Pair, groups: int) -> bool:
    return kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1


def _framed(x: np.ndarray, pads: Pads, rows: int, cols: int) -> np.ndarray:
    """x (N, C, H, W) -> (rows, cols, N, C) C-contiguous: x at offset (top, left), zeros around; a negative pad
    crops (the input gradient of a conv padded by more than k - 1)."""
    N, C, H, W = x.shape
    out = np.zeros((rows, cols, N, C), x.dtype)
    top, left = pads[0], pads[2]
    r0, c0 = max(0, -top), max(0, -left)                       # first input row/col that lands in the frame
    r1, c1 = min(H, rows - top), min(W, cols - left)
    if r1 > r0 and c1 > c0:
        np.copyto(out[top + r0:top + r1, left + c0:left + c1], x[:, :, r0:r1, c0:c1].transpose(2, 3, 0, 1))
    return out


def _input_transform(xf: np.ndarray, th: int, tw: int) -> np.ndarray:
    """B^T d B of every tile: xf (4th+2, 4tw+2, N, C) -> V (36, th*tw*N, C)."""
    a, s = _M + 2, xf.itemsize
    Wq, N, C = xf.shape[1:]
    nc = N * C
    bt = _BT.astype(xf.dtype)
    rows = as_strided(xf, (th, a, Wq * nc), (_M * Wq * nc * s, Wq * nc * s, s))     # tile rows (view)
    h = np.matmul(bt, rows)                                                         # (th, a, Wq*N*C)
    cols = as_strided(h, (th, a, tw, a, nc), (a * Wq * nc * s, Wq * nc * s, _M * nc * s, nc * s, s))
    v = np.empty((a, a, th, tw, nc), xf.dtype)
    np.matmul(bt, cols, out=v.transpose(2, 0, 3, 1, 4))                             # (th, a, tw, a, N*C) order
    return v.reshape(a * a, th * tw * N, C)


def _weight_transform(w: np.ndarray) -> np.ndarray:
    """G w G^T of every (o, c): w (O, C, 3, 3) -> (36, C, O), as two plain GEMMs (not O*C tiny ones)."""
    O, C = w.shape[:2]
    a = _M + 2
    g = _G.astype(w.dtype)
    t = (w.reshape(-1, 3) @ g.T).reshape(O * C, 3, a).transpose(1, 0, 2)            # (3, O*C, a): G along j
    u = (g @ t.reshape(3, -1)).reshape(a, O, C, a)                                   # G along i
    return np.ascontiguousarray(u.transpose(0, 3, 2, 1)).reshape(a * a, C, O)


# Samples per block: the block's transformed input (36 x tiles x block x C) of about this many bytes. The
# whole-batch pipeline streamed intermediates of 36x the output through memory and scattered the tiles into
# NCHW from far apart (runs of 4 floats); in blocks both stay in cache: torch-example's conv2 forward 22 -> 14 ms,
# its input gradient 32 -> 17, ResNet's (32, 64, 32, 32) 40 -> 26 (process CPU, alternating).
_BLOCK_BYTES = 1 << 21


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, pads: Pads, out_hw: Pair,
            keep: bool = False) -> tuple[np.ndarray, None]:
    """y = conv2d(x, w) + b: x (N, C, H, W), w (O, C, 3, 3) -> (N, O, *out_hw) C-contiguous (no cache)."""
    N, C = x.shape[:2]
    O = w.shape[0]
    th, tw = -(-out_hw[0] // _M), -(-out_hw[1] // _M)
    u = _weight_transform(w)                                                        # (36, C, O)
    # each block's GEMMs read all of u: with a larger u (ResNet's 256 channels: 9 MB) take larger blocks
    step = max(1, max(_BLOCK_BYTES, u.nbytes) // ((_M + 2) ** 2 * th * tw * C * x.itemsize))
    y = np.empty((N, O, *out_hw), x.dtype)
    for n0 in range(0, N, step):
        _block(x[n0:n0 + step], u, pads, th, tw, y[n0:n0 + step])
    if b is not None:
        y += b.reshape(O, 1, 1)
    return y, None


def _block(x: np.ndarray, u: np.ndarray, pads: Pads, th: int, tw: int, out: np.ndarray) -> None:
    """out (n, O, Ho, Wo) = the convolution of the samples x (n, C, H, W) with the transformed kernel u."""
    n, O = x.shape[0], u.shape[2]
    a = _M + 2
    v = _input_transform(_framed(x, pads, _M * th + 2, _M * tw + 2), th, tw)
    m = np.matmul(v, u)                                                             # (36, tiles*n, O)
    at = _AT.astype(x.dtype)
    z = np.matmul(at, m.reshape(a, -1)).reshape(_M, a, -1)                         # A^T along tile rows
    y = np.matmul(at, z).reshape(_M, _M, th, tw, n, O)                             # A^T along tile columns
    tiles = y.transpose(4, 5, 2, 0, 3, 1)                                          # (n, O, th, 4, tw, 4)
    if out.shape[2:] == (_M * th, _M * tw):
        np.copyto(out.reshape(n, O, th, _M, tw, _M), tiles)
    else:
        full = np.empty((n, O, th, _M, tw, _M), x.dtype)
        np.copyto(full, tiles)
        np.copyto(out, full.reshape(n, O, _M * th, _M * tw)[:, :, :out.shape[2], :out.shape[3]])


def _output_adjoint(g: np.ndarray, th: int, tw: int) -> np.ndarray:
    """A g A^T of every 4x4 tile of g (the adjoint of the output transform A^T . A): g (n, O, Ho, Wo) ->
    (36, th*tw*n, O); the cells of the last tiles beyond Ho, Wo are zeros."""
    n, O = g.shape[:2]
    a = _M + 2
    gf = _framed(g, (0, 0, 0, 0), _M * th, _M * tw)                                 # (4th, 4tw, n, O)
    at = _AT.T.astype(g.dtype)                                                      # (6, 4)
    h = np.matmul(at, gf.reshape(th, _M, -1))                                       # (th, 6, 4tw*n*O)
    out = np.empty((a, a, th, tw, n * O), g.dtype)
    np.matmul(at, h.reshape(th, a, tw, _M, n * O), out=out.transpose(2, 0, 3, 1, 4))
    return out.reshape(a * a, th * tw * n, O)


def weight(x: np.ndarray, g: np.ndarray, pads: Pads) -> np.ndarray:
    """Weight gradient: x (N, C, H, W), g (N, O, Ho, Wo) -> (O, C, 3, 3). The forward is, per tile,
    y = A^T [(G w G^T) * V] A, so <g, y> = <G^T [(A g A^T) * V] G, w>: per tile component one GEMM
    V^T (C x tiles*n) @ (A g A^T) (tiles*n x O), summed over blocks of samples, then G^T . G once."""
    N, C = x.shape[:2]
    O, (Ho, Wo) = g.shape[1], g.shape[2:]
    a = _M + 2
    th, tw = -(-Ho // _M), -(-Wo // _M)
    step = max(1, _BLOCK_BYTES // (a * a * th * tw * C * x.itemsize))
    du = np.zeros((a * a, C, O), x.dtype)
    for n0 in range(0, N, step):
        v = _input_transform(_framed(x[n0:n0 + step], pads, _M * th + 2, _M * tw + 2), th, tw)
        du += np.matmul(v.transpose(0, 2, 1), _output_adjoint(g[n0:n0 + step], th, tw))   # (36, C, O)
    gt = _G.T.astype(x.dtype)                                                       # (3, 6)
    t = np.matmul(gt, du.reshape(a, -1)).reshape(3, a, C * O)                      # G^T along i
    dw = np.matmul(gt, t)                                                           # (3, 3, C*O): G along j
    return np.ascontiguousarray(dw.reshape(3, 3, C, O).transpose(3, 2, 0, 1))


def transpose(g: np.ndarray, w: np.ndarray, pads: Pads, image_hw: Pair) -> np.ndarray:
    """Adjoint of forward in x: g (N, O, Ho, Wo), w (O, C, 3, 3) -> (N, C, *image_hw), as a forward of g."""
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))      # (C, O, 3, 3)
    return forward(g, flipped, None, (2 - pads[0], 0, 2 - pads[2], 0), image_hw)[0]
