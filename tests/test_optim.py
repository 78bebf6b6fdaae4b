"""tg.optim against torch.optim: 20-step trajectories in float64 (to 1e-10), param groups, float32, state_dict
round trips (ours and torch's format), error cases, and gradient clipping."""
from __future__ import annotations

import copy
import math
import re
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), ()]
STEPS = 20

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "eps": 1e-3, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "momentum": 0.9, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "eps": 1e-4}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.3}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def _arrays(seed: int = 0, steps: int = STEPS) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    return params, grads


def _params(lib, arrays, dtype=np.float64) -> list:
    return [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]


def _np(t) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _feed(params, grads, lib) -> None:
    """Give each parameter the same gradient in both frameworks (a fresh tensor, as backward would)."""
    for p, g in zip(params, grads):
        p.grad = lib.tensor(g.astype(_np(p).dtype))


def _run(lib, name, kwargs, params, grads, groups=None) -> tuple[list, object]:
    spec = params if groups is None else groups(params)
    opt = getattr(lib.optim, name)(spec, **kwargs)
    history = []
    for g in grads:
        _feed(params, g, lib)
        opt.step()
        history.append([_np(p) for p in params])
    return history, opt


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_matches_torch_float64(name, kwargs):
    p0, grads = _arrays()
    ours, _ = _run(tg, name, kwargs, _params(tg, p0), grads)
    theirs, _ = _run(torch, name, kwargs, _params(torch, p0), grads)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10, err_msg=f"{name} step {step} param {i}")


CHUNKED_CASES = [("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}), ("Adam", {"maximize": True}),
                 ("AdamW", {"lr": 0.01}), ("Adadelta", {"weight_decay": 0.1})]


@pytest.mark.parametrize("name,kwargs", CHUNKED_CASES, ids=[c[0] for c in CHUNKED_CASES])
def test_large_parameters_update_in_chunks_like_torch(name, kwargs, monkeypatch):
    """A parameter of >= 4 chunks (optim.optimizer.in_chunks: cache-sized pieces) steps like torch, and bit for bit
    like the same update run whole (one pass per operation over the full arrays)."""
    from tinygrad_cnn.optim import adadelta, adam, optimizer

    rng = np.random.default_rng(3)
    rows = 4 * optimizer._CHUNK // 64 + 3                       # (rows, 64): 4 pieces and a partial one
    p0, grads = [rng.standard_normal((rows, 64))], [[rng.standard_normal((rows, 64))] for _ in range(3)]
    calls = []
    monkeypatch.setattr(optimizer, "_CHUNK", optimizer._CHUNK)
    for mod in (adam, adadelta):
        monkeypatch.setattr(mod, "in_chunks", lambda f, *a: optimizer.in_chunks(lambda *b: calls.append(1) or f(*b),
                                                                                 *a))
    chunked, _ = _run(tg, name, kwargs, _params(tg, p0), grads)
    assert len(calls) == 3 * 5                                  # 5 pieces a step: the chunked path ran
    monkeypatch.setattr(optimizer, "_CHUNK", rows * 64)          # one piece: the whole arrays
    whole, _ = _run(tg, name, kwargs, _params(tg, p0), grads)
    assert len(calls) == 3 * 5 + 3
    theirs, _ = _run(torch, name, kwargs, _params(torch, p0), grads)
    for step in range(3):
        np.testing.assert_array_equal(chunked[step][0], whole[step][0])
        np.testing.assert_allclose(chunked[step][0], theirs[step][0], rtol=1e-10, atol=1e-10)


def _two_groups(params):
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.003, "weight_decay": 0.2}]


GROUP_CASES = [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01}),
               ("RMSprop", {"centered": True}), ("Adagrad", {"lr_decay": 0.01}), ("Adadelta", {})]


@pytest.mark.parametrize("name,kwargs", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_match_torch(name, kwargs):
    p0, grads = _arrays(1)
    ours, opt = _run(tg, name, kwargs, _params(tg, p0), grads, _two_groups)
    theirs, topt = _run(torch, name, kwargs, _params(torch, p0), grads, _two_groups)
    np.testing.assert_allclose(np.concatenate([x.ravel() for x in ours[-1]]),
                               np.concatenate([y.ravel() for y in theirs[-1]]), rtol=1e-10, atol=1e-10)
    assert opt.param_groups[1]["lr"] == 0.003 and opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]


@pytest.mark.parametrize("name,kwargs", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_quadratic_loss_with_closure_matches_torch(name, kwargs):
    """Gradients come from backward of a small least-squares loss, so any error compounds over the steps."""
    rng = np.random.default_rng(2)
    A, b, w0 = rng.standard_normal((6, 4)), rng.standard_normal(6), rng.standard_normal(4)
    out = {}
    for lib in (tg, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        At, bt = lib.tensor(A), lib.tensor(b)
        opt = getattr(lib.optim, name)([w], **kwargs)

        def closure():
            opt.zero_grad()
            loss = ((At @ w - bt) ** 2).sum()
            loss.backward()
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(STEPS)]
        out[lib.__name__] = (losses, _np(w))
    np.testing.assert_allclose(out["tinygrad_cnn"][0], out["torch"][0], rtol=1e-10)
    np.testing.assert_allclose(out["tinygrad_cnn"][1], out["torch"][1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name,kwargs", CASES[1::2], ids=IDS[1::2])
def test_float32_stays_float32_and_tracks_torch(name, kwargs):
    p0, grads = _arrays(3)
    params = _params(tg, p0, np.float32)
    ours, opt = _run(tg, name, kwargs, params, grads)
    theirs, topt = _run(torch, name, kwargs, _params(torch, p0, np.float32), grads)
    for p in params:
        assert p.dtype == tg.float32 and p._data.dtype == np.float32
    for st in opt.state.values():
        for key, v in st.items():
            assert v._data.dtype == np.float32, f"state {key} became {v._data.dtype}"
    for x, y in zip(ours[-1], theirs[-1]):
        np.testing.assert_allclose(x, y, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=IDS[::3])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    p0, grads = _arrays(4)
    straight, _ = _run(tg, name, kwargs, _params(tg, p0), grads)
    params = _params(tg, p0)
    _, opt = _run(tg, name, kwargs, params, grads[:10])
    saved = copy.deepcopy(opt.state_dict())
    params2 = _params(tg, [_np(p) for p in params])
    opt2 = getattr(tg.optim, name)(params2, **{**kwargs, "lr": 123.0})  # the lr must come back from the dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for g in grads[10:]:
        _feed(params2, g, tg)
        opt2.step()
    for x, y in zip(straight[-1], [_np(p) for p in params2]):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=IDS[::2])
def test_state_dict_layout_matches_torch_and_loads_torch_state(name, kwargs):
    p0, grads = _arrays(5)
    groups = _two_groups
    _, opt = _run(tg, name, kwargs, _params(tg, p0), grads[:7], groups)
    tparams = _params(torch, p0)
    _, topt = _run(torch, name, kwargs, tparams, grads[:7], groups)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]  # every hyper-parameter key and value, and the indices
    assert list(ours["state"]) == list(theirs["state"])
    for idx, st in theirs["state"].items():
        assert list(ours["state"][idx]) == list(st), f"state keys of param {idx}"
        for key, v in st.items():
            np.testing.assert_allclose(ours["state"][idx][key]._data, v.numpy(), rtol=1e-10, atol=1e-12)
            assert ours["state"][idx][key]._data.dtype == v.numpy().dtype, key
    # a torch state dict loads into ours, and the continuation matches torch's
    mine = _params(tg, [_np(p) for p in tparams])
    opt2 = getattr(tg.optim, name)(groups(mine), **kwargs)
    opt2.load_state_dict(copy.deepcopy(theirs))
    for g in grads[7:]:
        _feed(mine, g, tg)
        _feed(tparams, g, torch)
        opt2.step()
        topt.step()
    for x, y in zip(mine, tparams):
        np.testing.assert_allclose(_np(x), _np(y), rtol=1e-10, atol=1e-10)


def test_updates_are_in_place_and_bump_the_version():
    p = tg.tensor(np.ones((2, 3)), requires_grad=True)
    arr, v0 = p._data, p._version
    opt = tg.optim.Adam([p], lr=0.1)
    p.grad = tg.tensor(np.full((2, 3), 0.5))
    opt.step()
    exp_avg = opt.state[p]["exp_avg"]._data
    opt.step()
    assert p._data is arr and opt.state[p]["exp_avg"]._data is exp_avg
    assert p._version == v0 + 2
    assert float(opt.state[p]["step"]) == 2.0


def test_parameters_without_grad_are_skipped():
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0], requires_grad=True)
    opt = tg.optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad = tg.tensor([1.0, 1.0])
    opt.step()
    assert b.tolist() == [3.0] and b not in opt.state and a in opt.state
    assert a.tolist() == pytest.approx([0.9, 1.9])


def test_adagrad_creates_state_at_construction_like_torch():
    p = tg.tensor(np.zeros(3), requires_grad=True)
    opt = tg.optim.Adagrad([p], initial_accumulator_value=0.25)
    assert list(opt.state[p]) == ["step", "sum"] and opt.state[p]["sum"].tolist() == [0.25] * 3


def test_zero_grad():
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = tg.optim.SGD([p])
    p.grad = tg.tensor([3.0, 4.0])
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_add_param_group_fills_defaults():
    a, b = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0], requires_grad=True)
    opt = tg.optim.Adam([a], lr=0.01)
    opt.add_param_group({"params": b, "betas": (0.5, 0.6)})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.5, 0.6)
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b


def test_named_parameters_are_accepted():
    a = tg.tensor([1.0], requires_grad=True)
    opt = tg.optim.SGD([("w", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w"] and opt.state_dict()["param_groups"][0]["params"] == [0]


ERRORS = [
    (lambda m, p: m.optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda m, p: m.optim.SGD([p * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda m, p: m.optim.SGD([{"params": [p]}, {"params": [p]}]), ValueError,
     "some parameters appear in more than one parameter group"),
    (lambda m, p: m.optim.SGD(p), TypeError, "should be an iterable of Tensors or dicts"),
    (lambda m, p: m.optim.SGD([p, 3.0]), TypeError, "optimizer can only optimize Tensors, but one of the params is "
                                                    "float"),
    (lambda m, p: m.optim.SGD([{"params": {p}}]), TypeError, "ordered collections"),
    (lambda m, p: m.optim.SGD([p], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda m, p: m.optim.SGD([p], momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (lambda m, p: m.optim.SGD([p], nesterov=True), ValueError, "Nesterov momentum requires a momentum"),
    (lambda m, p: m.optim.Adam([p], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda m, p: m.optim.Adam([p], betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (lambda m, p: m.optim.AdamW([p], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
    (lambda m, p: m.optim.Adam([p], betas=(0, 0.9)), ValueError, "betas must be either both floats or both"),
    (lambda m, p: m.optim.Adam([p], eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (lambda m, p: m.optim.Adam([p], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda m, p: m.optim.RMSprop([p], alpha=-0.1), ValueError, "Invalid alpha value: -0.1"),
    (lambda m, p: m.optim.Adagrad([p], lr_decay=-1), ValueError, "Invalid lr_decay value: -1"),
    (lambda m, p: m.optim.Adagrad([p], initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value value: -1"),
    (lambda m, p: m.optim.Adadelta([p], rho=1.5), ValueError, "Invalid rho value: 1.5"),
]


@pytest.mark.parametrize("make,exc,msg", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_match_torch(make, exc, msg):
    for lib in (tg, torch):  # same exception type and message in both
        p = lib.tensor([1.0], requires_grad=True)
        with pytest.raises(exc, match=re.escape(msg)):
            make(lib, p)


def test_differentiable_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        tg.optim.SGD([tg.tensor([1.0], requires_grad=True)], differentiable=True)


def test_load_state_dict_checks_group_sizes():
    a, b = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0], requires_grad=True)
    saved = tg.optim.SGD([a, b]).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        tg.optim.SGD([a]).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        tg.optim.SGD([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)


# --- gradient clipping ------------------------------------------------------------------------------------------
def _with_grads(lib, arrays, dtype=np.float64):
    params = _params(lib, [np.zeros_like(a) for a in arrays], dtype)
    _feed(params, arrays, lib)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, -math.inf, 0, 3.5, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    arrays = _arrays(6, steps=1)[1][0]
    ours, theirs = _with_grads(tg, arrays), _with_grads(torch, arrays)
    n1 = tg.nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(n1, tg.Tensor) and n1.shape == ()
    np.testing.assert_allclose(float(n1), float(n2), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_float32_and_nonfinite():
    arrays = _arrays(7, steps=1)[1][0]
    ours, theirs = _with_grads(tg, arrays, np.float32), _with_grads(torch, arrays, np.float32)
    n1, n2 = tg.nn.utils.clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert n1.dtype == tg.float32 and ours[0].grad.dtype == tg.float32
    np.testing.assert_allclose(float(n1), float(n2), rtol=1e-6)
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-6)
    bad = _with_grads(tg, [np.array([1.0, np.inf])])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        tg.nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    assert float(tg.nn.utils.clip_grad_norm_([tg.tensor([1.0], requires_grad=True)], 1.0)) == 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tg.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert any("empty generator" in str(w.message) for w in caught)


def test_clip_grad_value_matches_torch():
    arrays = _arrays(8, steps=1)[1][0]
    ours, theirs = _with_grads(tg, arrays), _with_grads(torch, arrays)
    tg.nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_repr_matches_torch():
    for name in ("SGD", "Adam", "RMSprop"):
        ours = getattr(tg.optim, name)([tg.ones(1, requires_grad=True)], lr=0.1)
        theirs = getattr(torch.optim, name)([torch.ones(1, requires_grad=True)], lr=0.1)
        assert repr(ours) == repr(theirs)


def test_trains_an_nn_linear_like_torch():
    """Module parameters (tg.nn.Parameter) + backward + Adam + StepLR, 15 steps, same start as torch."""
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    finals = []
    for lib in (tg, torch):
        model = lib.nn.Linear(4, 3).double()
        with lib.no_grad():
            model.weight.copy_(lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4)))
            model.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
        opt = lib.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.01)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        for _ in range(15):
            opt.zero_grad()
            loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
        finals.append(np.concatenate([_np(model.weight).ravel(), _np(model.bias)]))
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-10, atol=1e-12)
