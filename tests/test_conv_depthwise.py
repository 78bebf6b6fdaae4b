"""The depthwise kernels (ops/_conv_depthwise.py) on each of their paths: the band-matrix GEMMs (small maps,
`_BAND_MAX` cells per channel), the flat-plane taps (_conv_depthwise_flat.py: stride 1, and strided without
dilation as one stride-1 convolution per phase) and the batch-last taps (the rest). Each path is forced everywhere it applies (`_BAND_MAX`, `_FLAT`) and checked against the float64 im2col reference: exactly in float64 for random strides,
dilations, asymmetric pads and kernels (including taps that only ever meet padding), within the documented
float32 bound (8 eps S, docs/benchmarks.md), and through F.conv2d against torch to second order.
"""
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.ops import _conv_depthwise as dw
from tinygrad_cnn.ops import _conv_im2col as im2col

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

PATHS = {"taps": (0, False), "flat": (0, True), "band": (1 << 40, True)}  # (_BAND_MAX, _FLAT)
EPS32 = float(np.finfo(np.float32).eps)


def _force(path, monkeypatch):
    band_max, use_flat = PATHS[path]
    monkeypatch.setattr(dw, "_BAND_MAX", band_max)
    monkeypatch.setattr(dw, "_FLAT", use_flat)


def _geometry(rng) -> dict:
    k = tuple(int(v) for v in rng.integers(1, 5, 2))
    d = tuple(int(v) for v in rng.integers(1, 3, 2))
    s = tuple(int(v) for v in rng.integers(1, 3, 2))
    pads = tuple(int(v) for v in rng.integers(0, 4, 4))   # up to 3: a tap can see only padding
    hw = tuple(max(1, d[a] * (k[a] - 1) + 1 - pads[2 * a] - pads[2 * a + 1] + int(rng.integers(0, 7))) for a in (0, 1))
    return dict(n=int(rng.integers(1, 4)), c=int(rng.integers(2, 7)), k=k, stride=s, dilation=d, pads=pads, hw=hw)


def _kernels(mod, x, w, g, geo):
    s, p, d = geo["stride"], geo["pads"], geo["dilation"]
    if mod is im2col:
        c = geo["c"]
        return (im2col.forward(x, w, None, s, p, d, c, g.shape[2:])[0], im2col.transpose(g, w, s, p, d, c, geo["hw"]),
                im2col.weight(x, g, geo["k"], s, p, d, c))
    y, cache = dw.forward(x, w, None, s, p, d, g.shape[2:], keep=True)
    return y, dw.transpose(g, w, s, p, d, geo["hw"]), dw.weight(x, g, geo["k"], s, p, d, cache)


def _operands(rng, geo, dtype=np.float64):
    out_hw = im2col.out_size(geo["hw"], geo["k"], geo["stride"], geo["pads"], geo["dilation"])
    x = rng.standard_normal((geo["n"], geo["c"], *geo["hw"])).astype(dtype)
    w = rng.standard_normal((geo["c"], 1, *geo["k"])).astype(dtype)
    g = rng.standard_normal((geo["n"], geo["c"], *out_hw)).astype(dtype)
    return x, w, g


@pytest.mark.parametrize("path", PATHS)
def test_each_path_equals_im2col_in_float64(path, monkeypatch):
    _force(path, monkeypatch)
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(40):
        geo = _geometry(rng)
        if min(im2col.out_size(geo["hw"], geo["k"], geo["stride"], geo["pads"], geo["dilation"])) < 1:
            continue
        x, w, g = _operands(rng, geo)
        for name, a, b in zip(("forward", "transpose", "weight"), _kernels(dw, x, w, g, geo),
                              _kernels(im2col, x, w, g, geo)):
            assert a.shape == b.shape and a.dtype == np.float64
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=f"{path} {name} {geo}")
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("seed", range(3))
def test_each_path_within_the_float32_bound(path, seed, monkeypatch):
    _force(path, monkeypatch)
    rng = np.random.default_rng(100 + seed)
    geo = dict(n=3, c=5, k=(3, 3), stride=(1 + seed % 2,) * 2, dilation=(1, 1 + seed // 2), pads=(1, 1, 1, 2),
               hw=(9, 11))
    x, w, g = _operands(rng, geo)
    ref = _kernels(im2col, x, w, g, geo)
    scale = _kernels(im2col, np.abs(x), np.abs(w), np.abs(g), geo)
    got = _kernels(dw, *(a.astype(np.float32) for a in (x, w, g)), geo)
    for name, r, sc, o in zip(("forward", "input gradient", "weight gradient"), ref, scale, got):
        assert o.dtype == np.float32
        assert np.abs(o - r).max() <= 8 * EPS32 * sc.max(), f"{path} {name}"


def test_band_indices_are_cached_only_below_the_size_cap(monkeypatch):
    """Thousands of channels must not pin hundreds of MB of indices: above the cap they are rebuilt per call (and
    the kernels still equal the im2col reference); below it a second call reuses the cached ones."""
    _force("band", monkeypatch)
    per_channel = len(dw._band_cells((8, 8), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (8, 8))[0])
    monkeypatch.setattr(dw, "_SCATTER_CACHE_CELLS", 8 * per_channel)   # 8 channels' indices fit, 9 do not
    dw._band_scatter_cached.cache_clear()
    rng = np.random.default_rng(3)
    for c, cached in ((9, False), (8, True)):
        geo = dict(n=2, c=c, k=(3, 3), stride=(1, 1), dilation=(1, 1), pads=(1, 1, 1, 1), hw=(8, 8))
        x, w, g = _operands(rng, geo)
        for _ in range(2):
            for a, b in zip(_kernels(dw, x, w, g, geo), _kernels(im2col, x, w, g, geo)):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
        assert (dw._band_scatter_cached.cache_info().currsize > 0) == cached
    assert dw._band_scatter_cached.cache_info().hits > 0
    dw._band_scatter_cached.cache_clear()


def test_the_rule_sends_small_maps_to_the_band_and_large_ones_to_the_taps():
    assert dw._band_applies((8, 8), (8, 8)) and dw._band_applies((16, 16), (8, 8))
    assert not dw._band_applies((16, 16), (16, 16)) and not dw._band_applies((32, 32), (16, 16))


@needs_torch
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("dilation", [1, (1, 2)])
def test_conv2d_depthwise_second_derivatives_match_torch(path, stride, dilation, monkeypatch):
    _force(path, monkeypatch)
    rng = np.random.default_rng(3)
    x0, w0, b0 = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((4, 1, 3, 3)), rng.standard_normal(4)
    kw = dict(stride=stride, padding=(1, 1), dilation=dilation, groups=4)
    with torch.no_grad():
        out_shape = torch.nn.functional.conv2d(torch.tensor(x0), torch.tensor(w0), **kw).shape
    v = rng.standard_normal(tuple(out_shape))
    results = []
    for lib, fn in ((tg, F.conv2d), (torch, torch.nn.functional.conv2d)):
        x, w, b = (lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in (x0, w0, b0))
        y = fn(x, w, b, **kw)
        gx, gw = (tg.autograd if lib is tg else torch.autograd).grad((y * lib.tensor(v)).sum() ** 2, (x, w),
                                                                   create_graph=True)
        second = (tg.autograd if lib is tg else torch.autograd).grad((gx * gx).sum() + (gw * x[:1, :, :3, :3]).sum(),
                                                                    (x, w))
        results.append([t.detach().numpy() for t in (y, gx, gw, *second)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def _gradgrad_cases() -> list:
    rng = np.random.default_rng(31)
    x, w = (tg.tensor(rng.standard_normal(s), dtype=tg.float64, requires_grad=True) for s in ((2, 3, 5, 4), (3, 1, 3, 2)))
    return [("conv2d_depthwise_band", lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=1, groups=3), [x, w])]


GRADGRAD_CASES = _gradgrad_cases()


@pytest.mark.parametrize("path", PATHS)
def test_gradgradcheck_depthwise(path, monkeypatch):
    _force(path, monkeypatch)
    for _, fn, inputs in GRADGRAD_CASES:
        assert tg.autograd.gradgradcheck(fn, inputs)


def test_rule_for_depthwise_convolutions():
    from tinygrad_cnn.ops import _conv_select as select

    for kind in ("forward", "transpose", "weight"):  # stride 1, and strided small maps: the depthwise kernels
        assert select._rule(144, 144, (3, 3), (1, 1), (1, 1), 144, (32, 32), kind) == "depthwise"
        assert select._rule(192, 192, (3, 3), (2, 2), (1, 1), 192, (8, 8), kind) == "depthwise"
    # strided with >= 256 output pixels: blocked im2col for the forward and weight gradient, ~2x faster there
    assert select._rule(144, 144, (3, 3), (2, 2), (1, 1), 144, (16, 16), "forward") == "blocked"
    assert select._rule(144, 144, (3, 3), (2, 2), (1, 1), 144, (16, 16), "weight") == "blocked"
    assert select._rule(144, 144, (3, 3), (2, 2), (1, 1), 144, (16, 16), "transpose") == "depthwise"
