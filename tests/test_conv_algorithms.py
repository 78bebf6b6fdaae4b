"""Every convolution algorithm against the float64 reference, with its documented float32 error bound
(docs/benchmarks.md, "Convolution algorithms"), and the selection switch tg.backends.cudnn.benchmark.

Bound: for each kernel (forward, input gradient, weight gradient), max |float32 result - float64 reference|
<= C_algo * eps32 * S, where S is the largest entry of the same kernel applied to |operands| (the sum of the
magnitudes of the products that make each output). C = 8 for im2col (a float32 dot product), 16 for the FFT
(three transforms, each a sum of at most L terms; measured <= 2.5 and <= 1.8 on random shapes), 32 for
Winograd F(4x4, 3x3) (transform entries up to 8 and 1/24, sums of 6 terms each side; measured up to 18, 23 and
14 for forward, input and weight gradient over 400 random geometries: the earlier 16 was too tight), 8 for the
depthwise taps and for blocked im2col (im2col's dot products; the weight gradient sums per-sample partial sums).
The reference is the float64 im2col path, which test_conv.py checks against torch.
"""
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.ops import _conv_blocked as blocked
from tinygrad_cnn.ops import _conv_depthwise as dw
from tinygrad_cnn.ops import _conv_fft as fft
from tinygrad_cnn.ops import _conv_pointwise as pw
from tinygrad_cnn.ops import _conv_im2col as im2col
from tinygrad_cnn.ops import _conv_select as select
from tinygrad_cnn.ops import _conv_winograd as wg

BOUND = {"im2col": 8.0, "blocked": 8.0, "fft": 16.0, "depthwise": 8.0, "winograd": 32.0, "pointwise": 8.0}
ALGOS = ["im2col", "blocked", "fft", "depthwise", "winograd", "pointwise"]
EPS32 = float(np.finfo(np.float32).eps)


def _geometry(rng, stride_one: bool, depthwise: bool = False, winograd: bool = False,
              pointwise: bool = False) -> dict:
    groups = 1 if stride_one else int(rng.integers(1, 3))
    if depthwise:
        groups = int(rng.integers(2, 6))
    k = tuple(int(v) for v in rng.integers(1, 6, 2))
    d = tuple(int(v) for v in rng.integers(1, 3, 2))
    if winograd:
        k, d = (3, 3), (1, 1)
    s = (1, 1) if stride_one else tuple(int(v) for v in rng.integers(1, 3, 2))
    pads = tuple(int(v) for v in rng.integers(0, 3, 4))
    if pointwise:
        k, pads, groups = (1, 1), (0, 0, 0, 0), 1
    hw = tuple(d[a] * (k[a] - 1) + 1 + int(rng.integers(0, 9)) for a in (0, 1))
    c, o = (groups, groups) if depthwise else (groups * int(rng.integers(1, 9)), groups * int(rng.integers(1, 9)))
    return dict(n=int(rng.integers(1, 4)), c=c, o=o,
                k=k, stride=s, dilation=d, pads=pads, hw=hw, groups=groups)


def _kernels(algo: str, x, w, g, geo: dict):
    s, p, d, G = geo["stride"], geo["pads"], geo["dilation"], geo["groups"]
    out_hw = g.shape[2:]
    if algo == "pointwise":
        return (pw.forward(x, w, None, s, out_hw)[0], pw.transpose(g, w, s, geo["hw"]), pw.weight(x, g, s))
    if algo == "winograd":
        return (wg.forward(x, w, None, p, out_hw)[0], wg.transpose(g, w, p, geo["hw"]), wg.weight(x, g, p))
    if algo == "depthwise":
        return (dw.forward(x, w, None, s, p, d, out_hw)[0], dw.transpose(g, w, s, p, d, geo["hw"]),
                dw.weight(x, g, geo["k"], s, p, d))
    if algo == "blocked":
        return (blocked.forward(x, w, None, s, p, d, G, out_hw)[0], blocked.transpose(g, w, s, p, d, G, geo["hw"]),
                blocked.weight(x, g, geo["k"], s, p, d, G))
    if algo == "fft":
        return (fft.forward(x, w, None, p, d, out_hw)[0], fft.transpose(g, w, p, d, geo["hw"]),
                fft.weight(x, g, geo["k"], p, d))
    return (im2col.forward(x, w, None, s, p, d, G, out_hw)[0], im2col.transpose(g, w, s, p, d, G, geo["hw"]),
            im2col.weight(x, g, geo["k"], s, p, d, G))


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("seed", range(6))
def test_algorithm_within_its_float32_error_bound(algo, seed):
    rng = np.random.default_rng(seed)
    geo = _geometry(rng, stride_one=(algo in ("fft", "winograd") or seed % 2 == 0), depthwise=(algo == "depthwise"),
                    winograd=(algo == "winograd"), pointwise=(algo == "pointwise"))
    x = rng.standard_normal((geo["n"], geo["c"], *geo["hw"]))
    w = rng.standard_normal((geo["o"], geo["c"] // geo["groups"], *geo["k"]))
    out_hw = im2col.out_size(geo["hw"], geo["k"], geo["stride"], geo["pads"], geo["dilation"])
    g = rng.standard_normal((geo["n"], geo["o"], *out_hw))
    ref = _kernels("im2col", x, w, g, geo)
    scale = _kernels("im2col", np.abs(x), np.abs(w), np.abs(g), geo)
    got = _kernels(algo, *(a.astype(np.float32) for a in (x, w, g)), geo)
    for name, r, sc, o in zip(("forward", "input gradient", "weight gradient"), ref, scale, got):
        assert o.dtype == np.float32 and o.shape == r.shape
        err = np.abs(o - r).max() / (EPS32 * sc.max())
        assert err <= BOUND[algo], f"{algo} {name}: error {err:.2f} eps*S > bound {BOUND[algo]} ({geo})"


def test_fft_matches_im2col_in_float64_with_every_option():
    # exactness of the formulation (not rounding): float64 FFT == float64 im2col to 1e-10
    rng = np.random.default_rng(3)
    for _ in range(10):
        geo = _geometry(rng, stride_one=True)
        x = rng.standard_normal((geo["n"], geo["c"], *geo["hw"]))
        w = rng.standard_normal((geo["o"], geo["c"], *geo["k"]))
        out_hw = im2col.out_size(geo["hw"], geo["k"], (1, 1), geo["pads"], geo["dilation"])
        g = rng.standard_normal((geo["n"], geo["o"], *out_hw))
        for a, b in zip(_kernels("fft", x, w, g, geo), _kernels("im2col", x, w, g, geo)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_rule_picks_depthwise_and_fft_where_they_win():
    assert select._rule(32, 32, (3, 3), (2, 2), (1, 1), 32) == "depthwise"
    assert select._rule(32, 64, (3, 3), (1, 1), (1, 1), 32) == "im2col"     # channel multiplier 2
    assert select._rule(64, 128, (3, 3), (1, 1), (1, 1), 1, (16, 16)) == "winograd"
    assert select._rule(512, 512, (3, 3), (1, 1), (1, 1), 1, (4, 4)) == "im2col"   # 4x4 maps: im2col
    assert select._rule(3, 64, (3, 3), (1, 1), (1, 1), 1, (32, 32)) == "blocked"  # the RGB stem: few channels
    assert select._rule(3, 64, (3, 3), (1, 1), (1, 1), 1, (32, 32), "transpose") == "im2col"  # 3 GEMM rows
    assert select._rule(32, 32, (5, 5), (1, 1), (1, 1), 1, (16, 16)) == "fft"
    assert select._rule(16, 120, (5, 5), (1, 1), (1, 1), 1, (1, 1)) == "im2col"  # LeNet's C5: 1x1 output
    assert select._rule(3, 32, (5, 5), (1, 1), (1, 1), 1, (16, 16)) == "blocked"     # too few channels for FFT
    assert select._rule(6, 16, (5, 5), (1, 1), (1, 1), 1, (10, 10)) == "im2col"      # 100 pixels: thin GEMMs
    for kind in ("forward", "transpose"):     # torch-example's conv2: 24x24 maps, 32 and 64 channels
        assert select._rule(32, 64, (3, 3), (1, 1), (1, 1), 1, (24, 24), kind) == "winograd"
    assert select._rule(32, 64, (3, 3), (1, 1), (1, 1), 1, (24, 24), "weight") == "winograd"
    assert select._rule(16, 16, (3, 3), (1, 1), (1, 1), 1, (24, 24), "transpose") == "blocked"
    assert select._rule(128, 128, (3, 3), (1, 1), (1, 1), 1, (16, 16), "weight") == "winograd"
    assert select._rule(64, 64, (5, 5), (1, 1), (1, 1), 1, (16, 16), "weight") == "fft"
    assert select._rule(128, 128, (3, 3), (1, 1), (1, 1), 1, (32, 32)) == "winograd"
    assert select._rule(64, 64, (3, 3), (2, 2), (1, 1), 1, (16, 16), "transpose") == "im2col"  # strided
    assert select._rule(32, 32, (3, 3), (1, 1), (1, 1), 1, (4, 4)) == "im2col"
    assert select._rule(32, 32, (5, 5), (2, 2), (1, 1), 1, (8, 8)) == "im2col"        # strided: FFT does not apply


def test_benchmark_mode_times_once_per_shape_and_keeps_the_choice(monkeypatch):
    import tinygrad_cnn.backends.cudnn as cudnn

    calls = []
    real = select._timed

    def counting(run):
        calls.append(run)
        return real(run)

    monkeypatch.setattr(select, "_timed", counting)
    monkeypatch.setattr(select, "_chosen", {})
    monkeypatch.setattr(cudnn, "benchmark", True)
    x, w = tg.randn(2, 8, 9, 9, requires_grad=True), tg.randn(8, 8, 5, 5, requires_grad=True)
    for _ in range(3):
        F.conv2d(x, w, padding=2).sum().backward()
    # forward and input gradient, three algorithms (im2col, blocked, fft) x 3 rounds, on the first call only; the
    # weight gradient too when the forward's winner kept no cache for it (blocked)
    kernels = 2 + (select._chosen[next(k for k in select._chosen if k[0] == "forward")] == "blocked")
    assert len(calls) == kernels * 3 * 3
    assert set(select._chosen.values()) <= set(select.ALGORITHMS) and len(select._chosen) == kernels
    monkeypatch.setattr(cudnn, "benchmark", False)
    calls.clear()
    F.conv2d(x, w, padding=2).sum().backward()
    assert not calls  # the rule: nothing timed


@pytest.mark.parametrize("algo", ALGOS)
def test_training_gradients_agree_between_algorithms(algo, monkeypatch):
    # the whole primitive (forward, cache, input and weight gradient) with one algorithm forced
    rng = np.random.default_rng(5)
    shapes = {"depthwise": ((3, 6, 10, 9), (6, 1, 5, 3), (6,)), "winograd": ((3, 6, 10, 9), (7, 6, 3, 3), (7,)),
              "pointwise": ((3, 6, 10, 9), (7, 6, 1, 1), (7,))}.get(algo, ((3, 6, 10, 9), (7, 6, 5, 3), (7,)))
    groups = 6 if algo == "depthwise" else 1
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = {}
    for name in ("im2col", algo):
        monkeypatch.setattr(select, "forced", [name])
        x, w, b = (tg.tensor(a, requires_grad=True) for a in arrays)
        pad = 0 if algo == "pointwise" else (2, 1)
        y = F.conv2d(x, w, b, padding=pad, stride=(1, 2) if groups > 1 or algo == "pointwise" else 1, groups=groups)
        y.backward(tg.tensor(np.cos(np.arange(y.numel())).reshape(y.shape).astype(np.float32)))
        results[name] = [t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)]
    for a, b in zip(results["im2col"], results[algo]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(a).max())


@pytest.mark.parametrize("block_bytes", [1, 3000])
def test_blocked_im2col_equals_im2col_across_sample_blocks(block_bytes, monkeypatch):
    # one sample per block, and blocks of a few samples with a shorter last one: the reused buffers (padding
    # border, columns) must give what one whole-batch im2col gives, in float64 to 1e-10
    monkeypatch.setattr(blocked, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(11)
    for it in range(8):
        geo = _geometry(rng, stride_one=it % 2 == 0)
        geo["n"] = 5
        x = rng.standard_normal((5, geo["c"], *geo["hw"]))
        w = rng.standard_normal((geo["o"], geo["c"] // geo["groups"], *geo["k"]))
        out_hw = im2col.out_size(geo["hw"], geo["k"], geo["stride"], geo["pads"], geo["dilation"])
        g = rng.standard_normal((5, geo["o"], *out_hw))
        assert blocked._block_size(5, geo["c"] * geo["k"][0] * geo["k"][1], out_hw[0] * out_hw[1], 8) < 5
        for a, b in zip(_kernels("blocked", x, w, g, geo), _kernels("im2col", x, w, g, geo)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_fft_backward_transforms_the_output_gradient_once(monkeypatch):
    # the input and weight gradients both need g's spectrum: one backward computes it once (memo), and the
    # gradients still equal im2col's; with one gradient needed, nothing is shared and the result is the same
    monkeypatch.setattr(select, "forced", ["fft"])
    real, seen = fft._to_spectrum, []
    monkeypatch.setattr(fft, "_to_spectrum", lambda a, *r: seen.append(a.shape) or real(a, *r))
    rng = np.random.default_rng(2)
    xa, wa = rng.standard_normal((3, 4, 9, 8)).astype(np.float32), rng.standard_normal((5, 4, 5, 5)).astype(np.float32)
    ga = rng.standard_normal((3, 5, 9, 8)).astype(np.float32)
    grads = {}
    for algo, need_x in (("fft", True), ("fft", False), ("im2col", True)):
        monkeypatch.setattr(select, "forced", [algo])
        x, w = tg.tensor(xa, requires_grad=need_x), tg.tensor(wa, requires_grad=True)
        seen.clear()
        F.conv2d(x, w, padding=2).backward(tg.tensor(ga))
        if algo == "fft" and need_x:
            assert seen.count(ga.shape) == 1 and len(seen) == 4   # x, w (forward), g once, w (input gradient)
        grads[algo, need_x] = (x.grad, w.grad.numpy())
    for key in (("fft", True), ("fft", False)):
        np.testing.assert_allclose(grads[key][1], grads["im2col", True][1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads["fft", True][0].numpy(), grads["im2col", True][0].numpy(), rtol=1e-4, atol=1e-4)


def test_training_forward_on_large_maps_never_keeps_im2col_columns(monkeypatch):
    # benchmark mode must not let a close timing call decide the step's peak memory: from 256 output pixels a
    # forward that keeps a cache for the weight gradient is not offered im2col (its column matrix); inference is
    import tinygrad_cnn.backends.cudnn as cudnn

    offered = {}
    real = select._fastest
    monkeypatch.setattr(select, "_fastest", lambda options, runs: offered.setdefault(len(offered), options)
                        and real(options, runs))
    monkeypatch.setattr(select, "_chosen", {})
    monkeypatch.setattr(cudnn, "benchmark", True)
    x, w = tg.randn(2, 3, 16, 16), tg.randn(4, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1)
    assert "im2col" not in offered[0] and "blocked" in offered[0]
    with tg.no_grad():
        F.conv2d(x, w, padding=1)
    assert "im2col" in offered[1]
