"""conv2d: parity with torch (float64, forward and every gradient), gradcheck, the UFLDL gradient oracles, the
col2im path (no np.add.at), dtypes and the argument errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from oracles.conv import conv2d_forward, conv2d_grads
from parity import check_parity

torch = pytest.importorskip("torch")


@st.composite
def conv_cases(draw):
    """Random but valid conv2d arguments: groups, channels, kernel, stride, dilation, padding (incl. strings)."""
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["int", "pair", "valid", "same"] if stride == (1, 1) else ["int", "pair"]))
    if padding == "int":
        padding = draw(st.integers(0, 2))
    elif padding == "pair":
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    h, w = eh + draw(st.integers(0, 4)), ew + draw(st.integers(0, 4))  # the kernel always fits unpadded
    n = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return dict(n=n, cin=cin, cout=cout, hw=(h, w), k=(kh, kw), stride=stride, dilation=dilation,
                padding=padding, groups=groups, bias=draw(st.booleans()), seed=seed)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@given(conv_cases())
def test_conv2d_matches_torch(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["cin"], *case["hw"]))
    w = rng.standard_normal((case["cout"], case["cin"] // case["groups"], *case["k"]))
    arrays = [x, w] + ([rng.standard_normal(case["cout"])] if case["bias"] else [])
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    check_parity(lambda m, x, w, *b: m.nn.functional.conv2d(x, w, *b, **kw), arrays)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note about its own extra copy
@pytest.mark.parametrize("k", [(2, 2), (3, 4), (4, 1)])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_same_padding_even_kernels(k, dilation):
    # torch pads an odd total asymmetrically: the extra row/column goes to the bottom/right
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, *k))
    out, _ = check_parity(lambda m, x, w: m.nn.functional.conv2d(x, w, padding="same", dilation=dilation), [x, w])
    assert tuple(out.shape) == (2, 4, 7, 6)


def test_conv2d_unbatched_input():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(2)
    out, _ = check_parity(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1), [x, w, b])
    assert tuple(out.shape) == (2, 6, 6)


@pytest.mark.parametrize("flags", [(True, False, False), (False, True, False), (False, False, True)])
def test_conv2d_only_some_inputs_need_grad(flags):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)]
    check_parity(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=2, padding=1, groups=2), arrays,
                 grad=list(flags))


def test_conv2d_empty_batch():
    x, w = tg.zeros(0, 3, 5, 5, requires_grad=True), tg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w)
    assert tuple(y.shape) == (0, 4, 3, 3)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 5, 5) and np.all(w.grad.numpy() == 0)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=(1, 0)),
                                dict(groups=2, stride=(1, 2))])
def test_conv2d_gradcheck(kw):
    tg.manual_seed(0)
    x = tg.randn(2, 2, 5, 5, dtype=tg.float64, requires_grad=True)
    w = tg.randn(2, 2 // kw.get("groups", 1), 3, 2, dtype=tg.float64, requires_grad=True)
    b = tg.randn(2, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 2), (2, 1), (3, 0)])
def test_conv2d_matches_ufldl_oracle(stride, padding):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    xt, wt, bt = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    np.testing.assert_allclose(y.detach().numpy(), conv2d_forward(x, w, b, stride, padding), atol=1e-12)
    delta = rng.standard_normal(tuple(y.shape))
    y.backward(tg.tensor(delta))
    gx, gw, gb = conv2d_grads(x, w, delta, stride, padding)
    np.testing.assert_allclose(xt.grad.numpy(), gx, atol=1e-12)
    np.testing.assert_allclose(wt.grad.numpy(), gw, atol=1e-12)
    np.testing.assert_allclose(bt.grad.numpy(), gb, atol=1e-12)


def test_conv2d_backward_never_calls_np_add_at(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("np.add.at called on the conv path")

    class NoAt:  # np.add is a ufunc (read-only attributes): swap in a stand-in whose .at raises
        def __call__(self, *a, **k):
            return _add(*a, **k)

        at = staticmethod(forbidden)

        def __getattr__(self, name):
            return getattr(_add, name)

    _add = np.add
    tg.manual_seed(0)
    x = tg.randn(2, 4, 9, 9, requires_grad=True)
    w = tg.randn(4, 2, 3, 3, requires_grad=True)
    monkeypatch.setattr(np, "add", NoAt())
    y = F.conv2d(x, w, stride=2, padding=1, dilation=2, groups=2)
    y.sum().backward()
    monkeypatch.undo()
    assert x.grad is not None and w.grad is not None


def test_conv2d_float32_stays_float32_and_output_is_contiguous():
    x = tg.randn(2, 3, 8, 8, requires_grad=True)
    w = tg.randn(5, 3, 3, 3, requires_grad=True)
    b = tg.randn(5, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    assert y.dtype == tg.float32 and y._data.flags["C_CONTIGUOUS"]
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == tg.float32


def _raises(match, fn):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_conv2d_errors_name_op_argument_and_shapes():
    x = tg.randn(8, 3, 32, 32)
    _raises(r"^conv2d: input has 3 channels but weight expects 1 \(input shape \(8, 3, 32, 32\), weight "
            r"\(6, 1, 5, 5\)\)$", lambda: F.conv2d(x, tg.randn(6, 1, 5, 5)))
    _raises(r"conv2d: input has 3 channels but weight expects 2 \(1 per group x groups=2\)",
            lambda: F.conv2d(x, tg.randn(6, 1, 5, 5), groups=2))
    _raises(r"conv2d: groups=3 must divide out_channels, but weight has 5 output channels",
            lambda: F.conv2d(x, tg.randn(5, 1, 5, 5), groups=3))
    _raises(r"conv2d: kernel size can't be greater than the padded input size: kernel 40 x 5 .*32 x 32",
            lambda: F.conv2d(x, tg.randn(6, 3, 40, 5)))
    _raises(r"conv2d: kernel size can't be greater .*kernel 9 x 9 \(dilation \(2, 2\)\) vs padded input 8 x 8",
            lambda: F.conv2d(tg.randn(1, 3, 6, 6), tg.randn(2, 3, 5, 5), padding=1, dilation=2))
    _raises(r"conv2d: stride must be positive, but got stride=0", lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), stride=0))
    _raises(r"conv2d: stride must be positive, but got stride=\(1, -1\)",
            lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), stride=(1, -1)))
    _raises(r"conv2d: dilation must be positive", lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), dilation=0))
    _raises(r"conv2d: padding must be non-negative", lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), padding=-1))
    _raises(r"conv2d: groups must be a positive integer", lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), groups=0))
    _raises(r"conv2d: expected 3-D \(unbatched.*or 4-D .*but got input of shape \(32, 32\)",
            lambda: F.conv2d(tg.randn(32, 32), tg.randn(6, 3, 5, 5)))
    _raises(r"conv2d: weight must be 4-D .*but got weight of shape \(6, 3, 5\)",
            lambda: F.conv2d(x, tg.randn(6, 3, 5)))
    _raises(r"conv2d: bias must be 1-D with 6 elements \(out_channels\), but got bias of shape \(5,\)",
            lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), tg.randn(5)))
    _raises(r"conv2d: input dtype .*float32.* and weight dtype .*float64.* should be the same",
            lambda: F.conv2d(x, tg.randn(6, 3, 5, 5, dtype=tg.float64)))
    _raises(r"conv2d: padding='same' is not supported for strided convolutions",
            lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), stride=2, padding="same"))
    _raises(r"conv2d: invalid padding string 'full'", lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), padding="full"))
    _raises(r"conv2d: stride must be a single int or a tuple of two ints, but got stride=\(1, 2, 3\)",
            lambda: F.conv2d(x, tg.randn(6, 3, 5, 5), stride=(1, 2, 3)))
    with pytest.raises(TypeError, match="conv2d: argument 'weight' must be a Tensor"):
        F.conv2d(x, np.zeros((6, 3, 5, 5)))


def test_torch_rejects_what_we_reject():
    # the error cases above are torch's error cases (we only word them differently)
    x = torch.randn(8, 3, 32, 32)
    for bad in (lambda: torch.nn.functional.conv2d(x, torch.randn(6, 1, 5, 5)),
                lambda: torch.nn.functional.conv2d(x, torch.randn(5, 1, 5, 5), groups=3),
                lambda: torch.nn.functional.conv2d(x, torch.randn(6, 3, 40, 5)),
                lambda: torch.nn.functional.conv2d(x, torch.randn(6, 3, 5, 5), stride=0),
                lambda: torch.nn.functional.conv2d(x, torch.randn(6, 3, 5, 5), stride=2, padding="same"),
                lambda: torch.nn.functional.conv2d(x[0, 0], torch.randn(6, 3, 5, 5))):
        with pytest.raises(RuntimeError):
            bad()


@st.composite
def transpose_cases(draw):
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    hw = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    # padding may eat at most (output size - 1) per side pair
    full = [(n - 1) * s + d * (kk - 1) + o + 1 for n, s, d, kk, o in zip(hw, stride, dilation, k, out_pad)]
    pad = tuple(draw(st.integers(0, (f - 1) // 2)) for f in full)
    return dict(n=draw(st.integers(1, 2)), cin=cin, cout=cout, k=k, hw=hw, seed=draw(st.integers(0, 999)),
                kw=dict(stride=stride, padding=pad, output_padding=out_pad, groups=groups, dilation=dilation),
                bias=draw(st.booleans()))


@given(transpose_cases())
def test_conv_transpose2d_matches_torch(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["cin"], *case["hw"]))
    w = rng.standard_normal((case["cin"], case["cout"] // case["kw"]["groups"], *case["k"]))
    arrays = [x, w] + ([rng.standard_normal(case["cout"])] if case["bias"] else [])
    check_parity(lambda m, x, w, *b: m.nn.functional.conv_transpose2d(x, w, *b, **case["kw"]), arrays)


def test_conv_transpose2d_gradcheck_and_errors():
    tg.manual_seed(0)
    x = tg.randn(1, 2, 3, 3, dtype=tg.float64, requires_grad=True)
    w = tg.randn(2, 2, 3, 2, dtype=tg.float64, requires_grad=True)
    b = tg.randn(2, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                     output_padding=1), (x, w, b))
    _raises(r"conv_transpose2d: output_padding must be smaller than either stride or dilation",
            lambda: F.conv_transpose2d(x, w, stride=2, output_padding=2))
    _raises(r"conv_transpose2d: input has 2 channels but weight expects 3",
            lambda: F.conv_transpose2d(x, tg.randn(3, 2, 3, 3, dtype=tg.float64)))
    _raises(r"conv_transpose2d: output size -1 x 0 is too small",
            lambda: F.conv_transpose2d(x, w, padding=(3, 2)))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding="same"),
                                dict(groups=2, stride=(3,), padding=(2,))])
def test_conv1d_matches_torch(kw):
    rng = np.random.default_rng(12)
    x, w, b = rng.standard_normal((2, 4, 11)), rng.standard_normal((6, 4 // kw.get("groups", 1), 3)), \
        rng.standard_normal(6)
    check_parity(lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, **kw), [x, w, b])
    check_parity(lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, **kw), [x[0], w, b])  # unbatched
