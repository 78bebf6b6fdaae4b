"""F.interpolate / upsample*, F.embedding, F.cosine_similarity, F.pairwise_distance vs torch (float64 parity of
outputs and gradients, error types and texts)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from parity import check_parity

torch = pytest.importorskip("torch")

_SIZES = {3: (9,), 4: (3, 11), 5: (2, 5, 3)}
_KWARGS = [{"scale_factor": 2}, {"scale_factor": 3}, {"scale_factor": 1.7}, {"scale_factor": 0.6},
           {"scale_factor": 0.5}, {"size": 1}, {"size": "per-dim"}, {"scale_factor": "per-dim"},
           {"scale_factor": 2.3, "recompute_scale_factor": True}]


def _kwargs(kw: dict, nd: int) -> dict:
    if kw.get("size") == "per-dim":
        return {"size": _SIZES[nd + 2]}
    if kw.get("scale_factor") == "per-dim":
        return {"scale_factor": [1.5, 2.5, 1.2][:nd]}
    return kw


def _torch_grad_is_inconsistent(mode: str, x: np.ndarray, kw: dict) -> bool:
    """torch's 1-D / 3-D 'nearest' backward takes the n_out == n_in (copy) and n_out == 2 n_in (dst // 2) shortcuts
    that its forward does not take, so for such a scale_factor its gradient is not the gradient of its output.
    Ours is (see test_nearest_gradient_is_the_gradient_of_the_forward); only the forward is compared then."""
    if mode != "nearest" or x.ndim == 4 or "scale_factor" not in kw or kw.get("recompute_scale_factor"):
        return False
    sf = kw["scale_factor"]
    scales = sf if isinstance(sf, (list, tuple)) else [sf] * (x.ndim - 2)
    return any(int(n * s) in (n, 2 * n) and float(s) not in (1.0, 2.0) for n, s in zip(x.shape[2:], scales))


_MODES = ([(mode, ndim, None) for mode, ndim in (("nearest", 3), ("nearest", 4), ("nearest", 5), ("nearest-exact", 3),
                                                 ("nearest-exact", 4), ("area", 3), ("area", 4))]
          + [(mode, ndim, ac) for mode, ndim in (("linear", 3), ("bilinear", 4), ("trilinear", 5))
             for ac in (None, False, True)])


@pytest.mark.parametrize("mode,ndim,align_corners", _MODES)
def test_interpolate_matches_torch(mode, ndim, align_corners):
    x = np.random.default_rng(ndim).standard_normal((2, 3, 5, 7, 4)[:ndim])
    for kw in _KWARGS:
        kw = _kwargs(kw, ndim - 2)
        check_parity(lambda m, t: m.nn.functional.interpolate(t, mode=mode, align_corners=align_corners, **kw), [x],
                     check_grad=not _torch_grad_is_inconsistent(mode, x, kw))


@pytest.mark.parametrize("shape,scale", [((1, 2, 4), 1.2), ((1, 2, 3), 2.1), ((1, 1, 2, 3, 4), (1.0, 1.0, 1.2))])
def test_nearest_gradient_is_the_gradient_of_the_forward(shape, scale):
    """Where torch's 1-D / 3-D nearest backward disagrees with its own forward, ours matches the forward (and
    torch's forward): each input collects the grads of the outputs that copy it."""
    x = np.random.default_rng(0).standard_normal(shape)
    check_parity(lambda m, t: m.nn.functional.interpolate(t, scale_factor=scale), [x], check_grad=False)
    t = tg.tensor(x, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.interpolate(t, scale_factor=scale), [t])


@given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 13), ow=st.integers(1, 13),
       mode=st.sampled_from(["nearest", "nearest-exact", "bilinear:false", "bilinear:true"]), by_scale=st.booleans())
def test_interpolate_random_geometry_matches_torch(h, w, oh, ow, mode, by_scale):
    mode, _, ac = mode.partition(":")
    kw = {"align_corners": ac == "true"} if ac else {}
    kw.update({"scale_factor": (oh / h, ow / w)} if by_scale else {"size": (oh, ow)})
    x = np.random.default_rng(h * 10 + w).standard_normal((1, 2, h, w))
    check_parity(lambda m, t: m.nn.functional.interpolate(t, mode=mode, **kw), [x])


def test_interpolate_float32_matches_torch_and_stays_float32():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 9)).astype(np.float32)
    for mode, ac in (("nearest", None), ("bilinear", False), ("bilinear", True)):
        for kw in ({"scale_factor": 1.3}, {"size": (13, 4)}, {"scale_factor": 2.7}):
            ours = tg.nn.functional.interpolate(tg.tensor(x), mode=mode, align_corners=ac, **kw)
            theirs = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, align_corners=ac, **kw)
            assert ours.dtype == tg.float32
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)


def test_interpolate_gradcheck():
    x = tg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.interpolate(t, scale_factor=1.5, mode="bilinear"), [x])
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.interpolate(t, size=(5, 2)), [x])


def test_deprecated_upsample_functions_warn_and_match_interpolate():
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn, kw in (("upsample", {"scale_factor": 2, "mode": "bilinear"}), ("upsample_nearest", {"size": 5}),
                       ("upsample_bilinear", {"scale_factor": 2})):
            check_parity(lambda m, t: getattr(m.nn.functional, fn)(t, **kw), [x])
    with pytest.warns(UserWarning, match="deprecated"):
        tg.nn.functional.upsample_bilinear(tg.tensor(x), scale_factor=2)


_ERRORS = [
    (dict(size=3, scale_factor=2), ValueError, "only one of size or scale_factor should be defined"),
    (dict(), ValueError, "either size or scale_factor should be defined"),
    (dict(size=(3, 4, 5)), ValueError, "Input and output must have the same number of spatial dimensions"),
    (dict(scale_factor=(2, 3, 4)), ValueError, "Input and scale_factor must have the same number of spatial"),
    (dict(size=3, align_corners=True), ValueError, "align_corners option can only be set with the interpolating"),
    (dict(size=3, recompute_scale_factor=True), ValueError, "recompute_scale_factor is not meaningful"),
    (dict(size=3, mode="linear"), NotImplementedError, "Got 4D input, but linear mode needs 3D input"),
    (dict(size=3, mode="trilinear"), NotImplementedError, "Got 4D input, but trilinear mode needs 5D input"),
    (dict(size=3, mode="cubic"), NotImplementedError, "Input Error: Only 3D, 4D and 5D input Tensors supported"),
    (dict(size=(3.0, 4)), TypeError, "expected size to be one of int"),
]


@pytest.mark.parametrize("kw,exc,msg", _ERRORS)
def test_interpolate_errors_match_torch(kw, exc, msg):
    for lib in (tg, torch):
        with pytest.raises(exc, match=msg):
            lib.nn.functional.interpolate(lib.ones(1, 1, 2, 2), **kw)
    for lib in (tg, torch):
        with pytest.raises(NotImplementedError, match="Got 5D input, but bilinear mode needs 4D input"):
            lib.nn.functional.interpolate(lib.ones(1, 1, 2, 2, 2), size=3, mode="bilinear")


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -2}, {"scale_grad_by_freq": True},
                                {"scale_grad_by_freq": True, "padding_idx": 0}])
def test_embedding_matches_torch(kw):
    w = np.random.default_rng(0).standard_normal((6, 4))
    idx = np.array([[0, 1, 1, 4], [5, 4, 1, 0]])
    check_parity(lambda m, w, i: m.nn.functional.embedding(i, w, **kw), [w, idx])


def test_embedding_padding_idx_zeroes_only_the_gradient():
    w = tg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = tg.nn.functional.embedding(tg.tensor([2, 2, 0]), w, padding_idx=2)
    np.testing.assert_array_equal(out.detach().numpy()[0], [6, 7, 8])  # the row is still looked up
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("s1,s2,dim", [((4, 5), (4, 5), 1), ((3, 4, 5), (4, 5), -1), ((5,), (3, 5), 1),
                                       ((4, 5), (4, 5), 0), ((2, 3, 4), (2, 1, 4), 1)])
def test_cosine_similarity_matches_torch(s1, s2, dim):
    rng = np.random.default_rng(0)
    check_parity(lambda m, a, b: m.nn.functional.cosine_similarity(a, b, dim=dim),
                 [rng.standard_normal(s1), rng.standard_normal(s2)])


def test_cosine_similarity_zero_and_tiny_vectors_match_torch():
    a = np.random.default_rng(0).standard_normal((3, 4))
    a[1], a[2] = 0, 1e-10
    check_parity(lambda m, a, b: m.nn.functional.cosine_similarity(a, b), [a, np.ones((3, 4))])


def test_cosine_similarity_errors_match_torch():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError):
            lib.nn.functional.cosine_similarity(lib.ones(2, 3), lib.ones(2, 4))
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.nn.functional.cosine_similarity(lib.ones(2, 3), lib.ones(2, 3), dim=2)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_torch(p, keepdim):
    rng = np.random.default_rng(0)
    check_parity(lambda m, a, b: m.nn.functional.pairwise_distance(a, b, p=p, keepdim=keepdim),
                 [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))])
    check_parity(lambda m, a, b: m.nn.functional.pairwise_distance(a, b, p=p, keepdim=keepdim),
                 [rng.standard_normal(4), rng.standard_normal(4)])
