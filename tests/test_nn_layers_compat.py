"""Layers added for torch.nn compatibility (upsampling, padding, GroupNorm, Embedding, distances, Softmin, LogSigmoid,
Mish, HuberLoss, KLDivLoss): forward, input and parameter gradients vs torch in float64 (torch's weights copied in),
repr and state_dict keys equal to torch's."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _twins(make, seed=0):
    torch.manual_seed(seed)
    theirs = make(torch).double()
    ours = make(tg).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _check(make, arrays, seed=0, atol=1e-10):
    """Run both layers on the same inputs (float arrays get requires_grad) and compare outputs and all grads."""
    ours, theirs = _twins(make, seed)
    xs_o = [tg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    xs_t = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    yo, yt = ours(*xs_o), theirs(*xs_t)
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=1e-9)
    g = np.random.default_rng(seed + 1).standard_normal(tuple(yt.shape))
    (yo * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(xs_o, xs_t):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=1e-9, err_msg="input grad")
    theirs_p = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_p[name].grad.numpy(), atol=atol, rtol=1e-9, err_msg=name)
    return ours, theirs


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


LAYERS = {
    "upsample_nearest": (lambda m: m.nn.Upsample(scale_factor=2), [_x(2, 3, 4, 5)]),
    "upsample_nearest_size": (lambda m: m.nn.Upsample(size=(7, 3)), [_x(2, 3, 4, 5)]),
    "upsample_nearest_1d": (lambda m: m.nn.Upsample(scale_factor=1.5), [_x(2, 3, 5)]),
    "upsample_nearest_exact": (lambda m: m.nn.Upsample(scale_factor=(1.7, 0.6), mode="nearest-exact"),
                               [_x(1, 2, 5, 6)]),
    "upsample_bilinear": (lambda m: m.nn.Upsample(scale_factor=2, mode="bilinear"), [_x(2, 3, 4, 5)]),
    "upsample_bilinear_ac": (lambda m: m.nn.Upsample(size=(7, 9), mode="bilinear", align_corners=True),
                             [_x(2, 3, 4, 5)]),
    "upsample_bilinear_down": (lambda m: m.nn.Upsample(scale_factor=0.7, mode="bilinear"), [_x(1, 2, 6, 7)]),
    "upsample_bilinear_recompute": (lambda m: m.nn.Upsample(scale_factor=1.3, mode="bilinear",
                                                            recompute_scale_factor=True), [_x(1, 2, 6, 7)]),
    "upsample_linear": (lambda m: m.nn.Upsample(scale_factor=2.5, mode="linear"), [_x(2, 3, 5)]),
    "upsample_trilinear_ac": (lambda m: m.nn.Upsample(size=(3, 5, 2), mode="trilinear", align_corners=True),
                              [_x(1, 2, 2, 3, 4)]),
    "upsampling_nearest2d": (lambda m: m.nn.UpsamplingNearest2d(scale_factor=3), [_x(1, 2, 3, 3)]),
    "upsampling_bilinear2d": (lambda m: m.nn.UpsamplingBilinear2d(size=(5, 8)), [_x(1, 2, 3, 3)]),
    "zeropad2d": (lambda m: m.nn.ZeroPad2d((1, 2, 0, 3)), [_x(2, 3, 4, 5)]),
    "zeropad2d_int": (lambda m: m.nn.ZeroPad2d(2), [_x(3, 4, 5)]),
    "zeropad1d": (lambda m: m.nn.ZeroPad1d((2, 1)), [_x(2, 3, 4)]),
    "constantpad2d": (lambda m: m.nn.ConstantPad2d((1, -1, 2, 0), 3.5), [_x(2, 3, 4, 5)]),
    "constantpad3d": (lambda m: m.nn.ConstantPad3d(1, -2.0), [_x(1, 2, 3, 4, 5)]),
    "reflectionpad2d": (lambda m: m.nn.ReflectionPad2d((1, 2, 3, 0)), [_x(2, 3, 4, 5)]),
    "reflectionpad1d": (lambda m: m.nn.ReflectionPad1d(2), [_x(2, 3, 4)]),
    "replicationpad2d": (lambda m: m.nn.ReplicationPad2d((3, 1, 0, 2)), [_x(2, 3, 4, 5)]),
    "replicationpad3d": (lambda m: m.nn.ReplicationPad3d(1), [_x(1, 2, 3, 3, 3)]),
    "circularpad2d": (lambda m: m.nn.CircularPad2d((1, 2, 2, 1)), [_x(2, 3, 4, 5)]),
    "groupnorm": (lambda m: m.nn.GroupNorm(2, 4), [_x(3, 4, 5, 2)]),
    "groupnorm_no_affine": (lambda m: m.nn.GroupNorm(3, 6, eps=1e-3, affine=False), [_x(2, 6, 7)]),
    "groupnorm_no_bias": (lambda m: m.nn.GroupNorm(1, 3, bias=False), [_x(2, 3, 4, 4)]),
    "groupnorm_2d_input": (lambda m: m.nn.GroupNorm(4, 4), [_x(5, 4)]),
    "embedding": (lambda m: m.nn.Embedding(7, 3), [np.array([[0, 3, 3], [6, 1, 0]])]),
    "embedding_padding": (lambda m: m.nn.Embedding(7, 3, padding_idx=3), [np.array([[0, 3, 3], [6, 1, 3]])]),
    "embedding_neg_padding_freq": (lambda m: m.nn.Embedding(7, 3, padding_idx=-1, scale_grad_by_freq=True),
                                   [np.array([[0, 6, 3], [3, 1, 3]])]),
    "embedding_1d_int32": (lambda m: m.nn.Embedding(4, 5), [np.array([3, 0, 3], dtype=np.int32)]),
    "cosine_similarity": (lambda m: m.nn.CosineSimilarity(), [_x(4, 5, 2), _x(4, 5, 2, seed=1)]),
    "cosine_similarity_bcast": (lambda m: m.nn.CosineSimilarity(dim=-1, eps=1e-6), [_x(3, 1, 4), _x(5, 4, seed=1)]),
    "pairwise_distance": (lambda m: m.nn.PairwiseDistance(), [_x(4, 5), _x(4, 5, seed=1)]),
    "pairwise_distance_p1_keepdim": (lambda m: m.nn.PairwiseDistance(1.0, keepdim=True),
                                     [_x(4, 5), _x(4, 5, seed=1)]),
    "softmin": (lambda m: m.nn.Softmin(dim=1), [_x(3, 4, 2)]),
    "logsigmoid": (lambda m: m.nn.LogSigmoid(), [_x(3, 4) * 10]),
    "mish": (lambda m: m.nn.Mish(), [_x(3, 4) * 5]),
    "huber": (lambda m: m.nn.HuberLoss(), [_x(3, 4) * 2, _x(3, 4, seed=1)]),
    "huber_delta_sum": (lambda m: m.nn.HuberLoss(reduction="sum", delta=0.5), [_x(3, 4) * 2, _x(3, 4, seed=1)]),
    "kldiv": (lambda m: m.nn.KLDivLoss(reduction="batchmean"),
              [np.log(np.random.default_rng(0).dirichlet(np.ones(4), 3)),
               np.random.default_rng(1).dirichlet(np.ones(4), 3)]),
    "kldiv_log_target": (lambda m: m.nn.KLDivLoss(reduction="sum", log_target=True), [_x(3, 4), _x(3, 4, seed=1)]),
    "smoothl1": (lambda m: m.nn.SmoothL1Loss(beta=0.5), [_x(3, 4) * 2, _x(3, 4, seed=1)]),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name):
    make, arrays = LAYERS[name]
    _check(make, arrays)


def test_embedding_padding_row_gets_zero_grad_and_starts_at_zero():
    emb = tg.nn.Embedding(5, 3, padding_idx=2)
    np.testing.assert_array_equal(emb.weight.detach().numpy()[2], 0)
    emb(tg.tensor([2, 2, 1])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[2], 0)
    np.testing.assert_array_equal(emb.weight.grad.numpy()[1], 1)


def test_embedding_max_norm_renormalises_the_used_rows_like_torch():
    w = _x(6, 4) * 2
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    outs = []
    for lib in (tg, torch):
        emb = lib.nn.Embedding.from_pretrained(lib.tensor(w.copy()), freeze=False, max_norm=1.5, norm_type=3.0)
        assert repr(emb) == "Embedding(6, 4, max_norm=1.5, norm_type=3.0)"
        out = emb(lib.tensor(idx))
        out.sum().backward()
        outs.append((emb.weight.detach().numpy().copy(), out.detach().numpy(), emb.weight.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert not np.allclose(outs[0][0], w)  # rows were renormalised, the unused rows 3, 4 were not
    np.testing.assert_array_equal(outs[0][0][3:5], w[3:5])


def test_embedding_from_pretrained_is_frozen_and_shares_memory():
    t = tg.ones(3, 2)
    emb = tg.nn.Embedding.from_pretrained(t)
    assert not emb.weight.requires_grad
    t.add_(1)
    np.testing.assert_array_equal(emb(tg.tensor([0])).numpy(), [[2, 2]])


def test_embedding_errors_match_torch():
    for lib in (tg, torch):
        emb = lib.nn.Embedding(4, 2)
        with pytest.raises(IndexError, match="index out of range in self"):
            emb(lib.tensor([4]))
        with pytest.raises(IndexError, match="index out of range in self"):
            emb(lib.tensor([-1]))
        with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have one of the"):
            emb(lib.tensor([1.0]))
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            lib.nn.Embedding(4, 2, padding_idx=4)
        with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
            lib.nn.Embedding.from_pretrained(lib.ones(3))
        with pytest.raises(AssertionError, match="Shape of weight does not match"):
            lib.nn.Embedding(4, 2, _weight=lib.ones(3, 2))


def test_groupnorm_and_padding_errors_match_torch():
    for lib in (tg, torch):
        with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
            lib.nn.GroupNorm(2, 5)
        with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
            lib.nn.CircularPad2d(1)(lib.ones(3, 3))
        with pytest.raises(TypeError, match="delta must be a float or int"):
            lib.nn.HuberLoss(delta="1")


def test_reprs_match_torch():
    for make in (lambda m: m.nn.Upsample(scale_factor=(2, 3), mode="bilinear"), lambda m: m.nn.Upsample(size=4),
                 lambda m: m.nn.ConstantPad1d(2, 1), lambda m: m.nn.ReplicationPad1d((1, 2)),
                 lambda m: m.nn.Mish(inplace=True), lambda m: m.nn.Softmin(), lambda m: m.nn.GroupNorm(1, 1),
                 lambda m: m.nn.Embedding(3, 2, scale_grad_by_freq=True, sparse=True),
                 lambda m: m.nn.KLDivLoss(log_target=True), lambda m: m.nn.PairwiseDistance(3)):
        assert repr(make(tg)) == repr(make(torch))


def test_float32_stays_float32():
    x = tg.randn(1, 2, 3, 4)
    for layer in (tg.nn.Upsample(scale_factor=1.5, mode="bilinear"), tg.nn.Upsample(size=5), tg.nn.GroupNorm(1, 2),
                  tg.nn.ReflectionPad2d(1)):
        assert layer(x).dtype == tg.float32
    assert tg.nn.CosineSimilarity()(x, x).dtype == tg.float32
    assert tg.nn.Embedding(3, 2)(tg.tensor([1])).dtype == tg.float32
