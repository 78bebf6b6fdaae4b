"""Layers against the same torch layers (float64): outputs, input and parameter gradients, running statistics,
train/eval behaviour, the LeNet-5 connection table, and layer-level errors."""
from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")


def _twins(make, train=True, seed=0):
    """The layer built by make(lib) in both libraries, float64, with torch's initial weights copied into ours."""
    torch.manual_seed(seed)
    theirs = make(torch).double().train(train)
    ours = make(tg).double().train(train)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=False)
    return ours, theirs


def _check_layer(make, shape, *, train=True, positive=False, atol=1e-10, seed=0):
    ours, theirs = _twins(make, train, seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x = np.abs(x) + 0.1 if positive else x
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert tuple(yo.shape) == tuple(yt.shape) and yo.dtype == tg.float64
    np.testing.assert_allclose(yo.numpy(force=True), yt.detach().numpy(), atol=atol, rtol=1e-9)
    g = rng.standard_normal(tuple(yt.shape))
    (yo * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=1e-9, err_msg="input grad")
    theirs_p = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_p[name].grad.numpy(), atol=atol, rtol=1e-9, err_msg=name)
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(ours.get_buffer(name).numpy(), b.numpy(), atol=atol, err_msg=name)
    return ours, theirs


LAYERS = {
    "linear": (lambda m: m.nn.Linear(5, 3), (4, 5)),
    "linear_nobias_3d": (lambda m: m.nn.Linear(5, 3, bias=False), (2, 7, 5)),
    "linear_1d": (lambda m: m.nn.Linear(5, 2), (5,)),
    "conv": (lambda m: m.nn.Conv2d(3, 4, 3), (2, 3, 8, 8)),
    "conv_unbatched": (lambda m: m.nn.Conv2d(3, 4, 3, padding=1), (3, 6, 6)),
    "conv_strided_groups": (lambda m: m.nn.Conv2d(4, 6, (3, 5), stride=2, padding=(1, 2), dilation=(2, 1),
                                                  groups=2), (2, 4, 11, 12)),
    "conv_same_reflect": (lambda m: m.nn.Conv2d(2, 3, 4, padding="same", padding_mode="reflect"), (2, 2, 7, 6)),
    "conv_replicate": (lambda m: m.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="replicate"), (1, 2, 5, 6)),
    "conv_circular": (lambda m: m.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", bias=False), (1, 2, 5, 5)),
    "conv_valid": (lambda m: m.nn.Conv2d(2, 3, 3, padding="valid"), (1, 2, 5, 5)),
    "conv_transpose": (lambda m: m.nn.ConvTranspose2d(3, 4, 4, 2, 1, bias=False), (2, 3, 5, 5)),  # DCGAN's
    "conv_transpose_groups": (lambda m: m.nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=1,
                                                             output_padding=(1, 0), groups=2, dilation=(1, 2)),
                              (2, 4, 4, 5)),
    "maxpool": (lambda m: m.nn.MaxPool2d(2), (2, 3, 8, 8)),
    "maxpool_ceil": (lambda m: m.nn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 8, 9)),
    "avgpool": (lambda m: m.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 8, 9)),
    "avgpool_divisor": (lambda m: m.nn.AvgPool2d(2, divisor_override=3), (2, 3, 6, 6)),
    "lppool": (lambda m: m.nn.LPPool2d(2, 2), (2, 3, 6, 6)),
    "lppool_3": (lambda m: m.nn.LPPool2d(3, (2, 3), stride=1), (2, 3, 6, 6)),
    "adaptive_avg": (lambda m: m.nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 8)),
    "adaptive_avg_none": (lambda m: m.nn.AdaptiveAvgPool2d((None, 2)), (2, 3, 5, 7)),
    "adaptive_max": (lambda m: m.nn.AdaptiveMaxPool2d(3), (2, 3, 7, 7)),
    "bn2d": (lambda m: m.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "bn1d": (lambda m: m.nn.BatchNorm1d(4), (6, 4)),
    "bn1d_3d": (lambda m: m.nn.BatchNorm1d(4, momentum=None), (6, 4, 3)),
    "bn2d_no_affine": (lambda m: m.nn.BatchNorm2d(3, affine=False), (4, 3, 2, 2)),
    "bn2d_untracked": (lambda m: m.nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 2, 2)),
    "layernorm": (lambda m: m.nn.LayerNorm((3, 4)), (2, 5, 3, 4)),
    "layernorm_plain": (lambda m: m.nn.LayerNorm(4, elementwise_affine=False), (3, 4)),
    "relu": (lambda m: m.nn.ReLU(), (3, 4)),
    "leaky": (lambda m: m.nn.LeakyReLU(0.2), (3, 4)),
    "relu6": (lambda m: m.nn.ReLU6(), (3, 4)),
    "hardtanh": (lambda m: m.nn.Hardtanh(-0.5, 0.7), (3, 4)),
    "elu": (lambda m: m.nn.ELU(0.7), (3, 4)),
    "gelu": (lambda m: m.nn.GELU(), (3, 4)),
    "gelu_tanh": (lambda m: m.nn.GELU("tanh"), (3, 4)),
    "sigmoid": (lambda m: m.nn.Sigmoid(), (3, 4)),
    "tanh": (lambda m: m.nn.Tanh(), (3, 4)),
    "softplus": (lambda m: m.nn.Softplus(2.0, 1.5), (3, 4)),
    "silu": (lambda m: m.nn.SiLU(), (3, 4)),
    "softmax": (lambda m: m.nn.Softmax(dim=1), (3, 4, 2)),
    "logsoftmax": (lambda m: m.nn.LogSoftmax(dim=-1), (3, 4)),
    "flatten": (lambda m: m.nn.Flatten(), (2, 3, 4, 5)),
    "flatten_0_2": (lambda m: m.nn.Flatten(0, 2), (2, 3, 4, 5)),
    "unflatten": (lambda m: m.nn.Unflatten(1, (2, 6)), (3, 12)),
    "identity": (lambda m: m.nn.Identity(54, unused="x"), (3, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name):
    make, shape = LAYERS[name]
    _check_layer(make, shape, positive=name.startswith("lppool"))


@pytest.mark.parametrize("name", ["bn2d", "bn1d", "bn2d_no_affine", "dropout", "dropout2d"])
def test_eval_mode_matches_torch(name):
    make, shape = LAYERS.get(name) or (lambda m: m.nn.Dropout(0.4) if name == "dropout" else m.nn.Dropout2d(0.4),
                                       (2, 3, 4, 4))
    ours, theirs = _twins(make, train=True)
    x = np.random.default_rng(1).standard_normal(shape)
    for _ in range(3):  # move the running statistics
        ours(tg.tensor(x)), theirs(torch.tensor(x))
    ours.eval(), theirs.eval()
    _check_layer(lambda m: ours if m is tg else theirs, shape, train=False)


def test_lenet_sequential_matches_torch():
    def make(m):
        n = m.nn
        return n.Sequential(n.Conv2d(1, 6, 5, padding=2), n.BatchNorm2d(6), n.ReLU(), n.MaxPool2d(2),
                            n.Conv2d(6, 16, 5), n.Tanh(), n.AvgPool2d(2), n.Flatten(), n.Linear(400, 84),
                            n.ELU(), n.Linear(84, 10), n.LogSoftmax(dim=1))

    _check_layer(make, (3, 1, 28, 28))


# --- BatchNorm running statistics ----------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_running_stats_follow_torch_over_steps(momentum):
    ours, theirs = _twins(lambda m: m.nn.BatchNorm2d(3, momentum=momentum))
    rng = np.random.default_rng(2)
    for step in range(4):
        x = rng.standard_normal((5, 3, 4, 4)) * (step + 1) + step
        yo, yt = ours(tg.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=1e-10)
    for k in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, k).numpy(), getattr(theirs, k).numpy(), atol=1e-12, rtol=0)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 4
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-10)
    assert ours.num_batches_tracked.item() == 4  # eval does not count batches


def test_batchnorm_errors():
    for make, x in [(lambda m: m.nn.BatchNorm2d(3), (2, 3, 4)), (lambda m: m.nn.BatchNorm1d(3), (2, 3, 4, 4))]:
        with pytest.raises(ValueError) as ours:
            make(tg)(tg.zeros(*x))
        with pytest.raises(ValueError) as theirs:
            make(torch)(torch.zeros(*x))
        assert str(ours.value).startswith(str(theirs.value))  # torch's text, then the layer and the shape
        assert f"got input of shape {x}" in str(ours.value)
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(num_features=6\) got input with 3 channels \(dim 1\), "
                                           r"shape \(2, 3, 4, 4\)"):
        nn.BatchNorm2d(6)(tg.zeros(2, 3, 4, 4))


# --- Dropout --------------------------------------------------------------------------------------------------------
def test_dropout_train_and_eval():
    x = tg.ones(200, 500)
    d = nn.Dropout(0.3)
    d.eval()
    assert np.array_equal(d(x).numpy(), x.numpy())
    d.train()
    tg.manual_seed(5)
    y = d(x).numpy()
    zero = y == 0
    assert abs(zero.mean() - 0.3) < 0.01 and np.allclose(y[~zero], 1 / 0.7)
    tg.manual_seed(5)
    assert np.array_equal(d(x).numpy(), y)  # reproducible from the global seed
    d2 = nn.Dropout2d(0.5)
    y2 = d2(tg.ones(8, 64, 3, 3)).numpy()
    per_channel = y2.reshape(8, 64, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))  # whole channels are dropped
    assert 0.35 < (per_channel == 0).all(-1).mean() < 0.65
    d2.eval()
    assert np.array_equal(d2(tg.ones(2, 3, 2, 2)).numpy(), np.ones((2, 3, 2, 2)))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError) as ours:
            nn.Dropout(p)
        with pytest.raises(ValueError) as theirs:
            torch.nn.Dropout(p)
        assert str(ours.value) == str(theirs.value)


def test_train_eval_switch_in_a_model():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    x = tg.randn(6, 4)
    model.eval()
    a, b = model(x).detach().numpy(), model(x).detach().numpy()
    assert np.array_equal(a, b) and model[1].num_batches_tracked.item() == 0
    model.train()
    tg.manual_seed(0)
    c = model(x).detach().numpy()
    assert not np.array_equal(a, c) and model[1].num_batches_tracked.item() == 1


# --- Linear errors --------------------------------------------------------------------------------------------------
def test_linear_error_names_layer_and_shape():
    with pytest.raises(RuntimeError, match=r"^Linear\(in_features=120\) got input with 84 features, shape \(50, 84\)$"):
        nn.Linear(120, 84)(tg.zeros(50, 84))
    with pytest.raises(RuntimeError, match="no dimensions"):
        nn.Linear(3, 2)(tg.tensor(1.0))


# --- LeNet-5 connection table ---------------------------------------------------------------------------------------
def test_lenet5_c3_table_is_the_papers():
    t = nn.LENET5_C3_TABLE
    assert t.shape == (16, 6) and t.dtype == np.bool_ and int(t.sum()) == 60
    assert [int(r.sum()) for r in t] == [3] * 6 + [4] * 9 + [6]
    for o in range(6):  # contiguous (cyclic) triples and quadruples
        assert set(np.flatnonzero(t[o])) == {o % 6, (o + 1) % 6, (o + 2) % 6}
        assert set(np.flatnonzero(t[6 + o])) == {(o + k) % 6 for k in range(4)}
    assert [set(np.flatnonzero(t[o]).tolist()) for o in (12, 13, 14)] == [{0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5}]
    assert 60 * 25 + 16 == 1516  # the paper's C3 parameter count
    with pytest.raises(ValueError):
        t[0, 0] = False  # read-only: the shared table cannot be changed by accident


def _c3(seed=0):
    tg.manual_seed(seed)
    return nn.Conv2d(6, 16, 5, connection_table=nn.LENET5_C3_TABLE)


def test_connection_table_weights_zero_and_stay_zero_under_sgd():
    conv, head = _c3(), nn.Linear(16, 1)
    table = nn.LENET5_C3_TABLE
    w0 = conv.weight.numpy(force=True).copy()
    assert np.all(w0[~table] == 0) and np.all(w0[table] != 0)
    assert "connection_table=60/96" in repr(conv)
    x, target = tg.randn(8, 6, 14, 14), tg.randn(8, 1)
    params = list(conv.parameters()) + list(head.parameters())
    assert len(params) == 4  # the table is a buffer, not a parameter
    for _ in range(5):
        loss = nn.MSELoss()(head(conv(x).tanh().mean((2, 3))), target)
        loss.backward()
        assert np.all(conv.weight.grad.numpy()[~table] == 0)  # exactly zero, not just small
        with tg.no_grad():
            for p in params:
                p.data -= 0.5 * p.grad
        for p in params:
            p.grad = None
    w = conv.weight.numpy(force=True)
    assert np.all(w[~table] == 0) and np.all(w[table] != w0[table])


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_connection_table_stays_zero_under_optimisers(opt):
    if not hasattr(tg.optim, opt):
        pytest.skip(f"tg.optim.{opt} not available")
    conv = _c3()
    kwargs = {"lr": 0.05, "weight_decay": 1e-2} | ({"momentum": 0.9} if opt in ("SGD", "RMSprop") else {})
    optimiser = getattr(tg.optim, opt)(conv.parameters(), **kwargs)
    x = tg.randn(4, 6, 9, 9)
    for _ in range(3):
        optimiser.zero_grad()
        conv(x).square().mean().backward()
        optimiser.step()
    w = conv.weight.numpy(force=True)
    assert np.all(w[~nn.LENET5_C3_TABLE] == 0) and np.all(w[nn.LENET5_C3_TABLE] != 0)


def test_connection_table_forward_equals_masked_torch_conv():
    conv = _c3().double()
    x = np.random.default_rng(0).standard_normal((2, 6, 14, 14))
    ref = torch.nn.Conv2d(6, 16, 5).double()
    r = ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in conv.state_dict().items()}, strict=False)
    assert r.unexpected_keys == ["connection_table"] and r.missing_keys == []
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = conv(xo), ref(xt)
    np.testing.assert_allclose(yo.numpy(force=True), yt.detach().numpy(), atol=1e-10)
    yo.sum().backward()
    yt.sum().backward()
    mask = torch.from_numpy(nn.LENET5_C3_TABLE.copy())[:, :, None, None]
    np.testing.assert_allclose(conv.weight.grad.numpy(), (ref.weight.grad * mask).numpy(), atol=1e-10)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-10)


def test_torch_conv_state_dict_loads_into_masked_conv():
    torch.manual_seed(1)
    ref = torch.nn.Conv2d(6, 16, 5)
    conv = _c3()
    r = conv.load_state_dict(ref.state_dict())  # strict: the missing table key keeps the constructor's wiring
    assert r.missing_keys == [] and r.unexpected_keys == []
    table = nn.LENET5_C3_TABLE
    w = conv.weight.numpy(force=True)
    assert np.all(w[~table] == 0) and np.array_equal(w[table], ref.weight.detach().numpy()[table])
    assert np.array_equal(conv.connection_table.numpy(), table)
    own = conv.state_dict()
    assert list(own) == ["weight", "bias", "connection_table"] and own["connection_table"].dtype == tg.bool
    other = _c3(seed=2)
    other.load_state_dict(own)
    assert np.array_equal(other.weight.numpy(force=True), w)
    plain = nn.Conv2d(6, 16, 5)  # our state dict (with the table) into an unmasked conv: an unexpected key
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "connection_table"'):
        plain.load_state_dict(own)


def test_connection_table_argument_errors():
    with pytest.raises(ValueError, match=r"connection_table must have shape \(out_channels, in_channels\) = "
                                         r"\(16, 6\), got \(6, 16\)"):
        nn.Conv2d(6, 16, 5, connection_table=nn.LENET5_C3_TABLE.T)
    with pytest.raises(ValueError, match="groups=1"):
        nn.Conv2d(6, 16, 5, groups=2, connection_table=np.ones((16, 6), bool))
    conv = nn.Conv2d(2, 2, 1, connection_table=tg.tensor([[1, 0], [1, 1]]))  # a 0/1 tensor is accepted
    assert conv.connection_table.dtype == tg.bool and conv.weight.numpy(force=True)[0, 1, 0, 0] == 0


def test_conv_construction_errors_match_torch():
    for kwargs in [dict(groups=0), dict(groups=4), dict(padding="full"), dict(padding="same", stride=2),
                   dict(padding_mode="mirror")]:
        with pytest.raises(ValueError) as ours:
            nn.Conv2d(6, 8, 3, **kwargs)
        with pytest.raises(ValueError) as theirs:
            torch.nn.Conv2d(6, 8, 3, **kwargs)
        # torch's text first; ours may add the offending values after it
        assert _sorted_sets(str(ours.value)).startswith(_sorted_sets(str(theirs.value)))


def _sorted_sets(msg: str) -> str:
    """Python prints sets in hash order; compare their members sorted."""
    import re

    return re.sub(r"\{([^}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", msg)


def test_conv_transpose_repr_output_size_and_errors_match_torch():
    for args, kwargs in [((100, 512, 4, 1, 0), dict(bias=False)),
                         ((3, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=3, dilation=2))]:
        ours, theirs = nn.ConvTranspose2d(*args, **kwargs), torch.nn.ConvTranspose2d(*args, **kwargs)
        assert repr(ours) == repr(theirs) and ours.weight.shape == tuple(theirs.weight.shape)
        assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    for act in ("ReLU6(inplace=True)", "Hardtanh(-2, 2)", "Hardtanh()"):
        assert repr(eval("nn." + act)) == repr(eval("torch.nn." + act))
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    for m in (tg, torch):
        layer = m.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
        assert tuple(layer(m.tensor(x, dtype=m.float32), output_size=(8, 8)).shape) == (1, 3, 8, 8)
        with pytest.raises(ValueError, match="valid sizes range from"):
            layer(m.tensor(x, dtype=m.float32), output_size=(10, 10))
        with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
            m.nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")


# --- other layers ---------------------------------------------------------------------------------------------------
def test_stochastic_pool_uses_training_flag():
    pool = nn.StochasticPool2d(2)
    x = np.abs(np.random.default_rng(3).standard_normal((2, 3, 4, 4)))
    win = x.reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 4)  # (N, C, Ho, Wo, 4)
    pool.eval()
    expected = (win ** 2).sum(-1) / win.sum(-1)  # probability-weighted average (Zeiler & Fergus 2013)
    np.testing.assert_allclose(pool(tg.tensor(x)).numpy(), expected, atol=1e-12)
    pool.train()
    tg.manual_seed(0)
    y = pool(tg.tensor(x)).numpy()
    assert np.all(np.any(np.isclose(win, y[..., None], rtol=0, atol=0), axis=-1))  # one element of each window
    tg.manual_seed(0)
    assert np.array_equal(pool(tg.tensor(x)).numpy(), y)
    assert repr(pool) == "StochasticPool2d(kernel_size=2, stride=2)"


def test_softmax_without_dim_warns_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = nn.Softmax()(tg.tensor(x)).numpy()
    assert any("Implicit dimension choice" in str(m.message) for m in w)
    np.testing.assert_allclose(y, torch.nn.Softmax(dim=1)(torch.tensor(x)).numpy(), atol=1e-12)


def test_forward_hook_collects_activations():
    model = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU()), ("flat", nn.Flatten())]))
    seen = {}

    def hook(mod, args, out):
        seen["conv"] = tuple(out.shape)  # returns None: the output is kept

    handle = model.conv.register_forward_hook(hook)
    model(tg.randn(4, 1, 6, 6))
    handle.remove()
    assert seen == {"conv": (4, 2, 4, 4)}


LOSSES = {
    "ce": (lambda m: m.nn.CrossEntropyLoss(), "class"),
    "ce_weight_smooth": (lambda m: m.nn.CrossEntropyLoss(weight=m.tensor([0.2, 1.0, 3.0, 0.5], dtype=m.float64),
                                                         label_smoothing=0.1, ignore_index=1), "class"),
    "ce_sum": (lambda m: m.nn.CrossEntropyLoss(reduction="sum"), "class"),
    "nll": (lambda m: m.nn.NLLLoss(reduction="none"), "logp"),
    "nll_weight": (lambda m: m.nn.NLLLoss(weight=m.tensor([1.0, 2.0, 0.5, 1.5], dtype=m.float64)), "logp"),
    "mse": (lambda m: m.nn.MSELoss(), "real"),
    "l1": (lambda m: m.nn.L1Loss(reduction="sum"), "real"),
    "bce": (lambda m: m.nn.BCELoss(), "prob"),
    "bce_weight": (lambda m: m.nn.BCELoss(weight=m.tensor([1.0, 2.0, 0.5, 1.5], dtype=m.float64)), "prob"),
    "bce_logits": (lambda m: m.nn.BCEWithLogitsLoss(pos_weight=m.tensor([1.0, 2.0, 0.5, 3.0], dtype=m.float64)),
                   "binary"),
    "smooth_l1": (lambda m: m.nn.SmoothL1Loss(beta=0.5), "real"),
    "smooth_l1_none": (lambda m: m.nn.SmoothL1Loss(reduction="none"), "real"),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_layers_match_torch(name):
    make, kind = LOSSES[name]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 4))
    if kind in ("class", "logp"):
        target = rng.integers(0, 4, 5)
        if kind == "logp":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
    elif kind == "prob":
        x, target = 1 / (1 + np.exp(-x)), rng.uniform(0, 1, (5, 4))
    elif kind == "binary":
        target = rng.integers(0, 2, (5, 4)).astype(np.float64)
    else:
        target = rng.standard_normal((5, 4))
    ours, theirs = make(tg), make(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight / pos_weight are buffers, as in torch
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, lt = ours(xo, tg.tensor(target)), theirs(xt, torch.tensor(target))
    np.testing.assert_allclose(lo.numpy(force=True), lt.detach().numpy(), atol=1e-10)
    lo.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-10)


def test_loss_legacy_reduction_arguments():
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum" == torch.nn.MSELoss(size_average=False).reduction
    with pytest.warns(UserWarning):
        assert nn.L1Loss(reduce=False).reduction == "none"
