"""CyclicLR and CosineAnnealingWarmRestarts against torch: lr (and momentum / beta1) sequences bit-identical over
45+ steps, fractional epochs, state_dict round trips and keys, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

STEPS = 45


def _optimizer(lib, name):
    a = lib.tensor(np.ones(3), requires_grad=True)
    b = lib.tensor(np.ones(2), requires_grad=True)
    kw = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.05}], **kw)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _trace(lib, cls, kwargs, opt_name, steps=STEPS):
    opt = _optimizer(lib, opt_name)
    sched = getattr(lib.optim.lr_scheduler, cls)(opt, **kwargs)
    lrs, moms = [list(sched.get_last_lr())], [_momenta(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        moms.append(_momenta(opt))
    return np.array(lrs), np.array(moms, float), opt, sched


class Halving:
    """A callable object: its state (calls) goes into the scheduler's state_dict, as in torch."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return 0.5 ** x


CASES = [
    ("CosineAnnealingWarmRestarts", {"T_0": 5}, "SGD"),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.01}, "SGD"),
    ("CosineAnnealingWarmRestarts", {"T_0": 1, "T_mult": 3}, "Adam"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}, "SGD"),
    ("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": [0.1, 0.3], "step_size_up": 3, "step_size_down": 5,
                  "mode": "triangular2", "base_momentum": [0.7, 0.8], "max_momentum": 0.95}, "SGD"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "mode": "exp_range", "gamma": 0.95}, "Adam"),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 7, "scale_fn": lambda x: 1 / (1 + x),
                  "cycle_momentum": False}, "Adam"),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 2, "step_size_down": 9, "scale_fn": Halving(),
                  "scale_mode": "iterations"}, "SGD"),
]
IDS = [f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("cls,kwargs,opt_name", CASES, ids=IDS)
def test_sequences_match_torch(cls, kwargs, opt_name):
    lrs, moms, opt, sched = _trace(tg, cls, kwargs, opt_name)
    t_lrs, t_moms, t_opt, t_sched = _trace(torch, cls, kwargs, opt_name)
    np.testing.assert_array_equal(lrs, t_lrs)   # same float formulas: bit-identical
    np.testing.assert_array_equal(moms, t_moms)
    assert len(np.unique(lrs[:, 0])) > 3        # the schedule really moves
    for g, tg_group in zip(opt.param_groups, t_opt.param_groups):
        assert set(g) == set(tg_group)          # 'initial_lr', CyclicLR's 'max_momentum'/'base_momentum'
    assert sorted(sched.state_dict()) == sorted(t_sched.state_dict())


@pytest.mark.parametrize("T_mult", [1, 2])
def test_warm_restarts_fractional_epochs_match_torch(T_mult):
    out = []
    for lib in (tg, torch):
        opt = _optimizer(lib, "SGD")
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=T_mult, eta_min=0.001)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # opt.step() is not called here
            for epoch in range(20):
                for batch in range(3):
                    sched.step(epoch + batch / 3)
                    seq.append((list(sched.get_last_lr()), sched.T_i, sched.T_cur, sched.last_epoch))
            sched.step(2)  # jumping back restarts the first period
            seq.append((list(sched.get_last_lr()), sched.T_i, sched.T_cur, sched.last_epoch))
        out.append(seq)
    assert out[0] == out[1]


@pytest.mark.parametrize("case", [0, 1, 4, 5, 7])
def test_state_dict_round_trip_continues_the_sequence(case):
    cls, kwargs, opt_name = CASES[case]
    straight, straight_m, _, _ = _trace(tg, cls, kwargs, opt_name)
    opt = _optimizer(tg, opt_name)
    sched = getattr(tg.optim.lr_scheduler, cls)(opt, **kwargs)
    for _ in range(17):
        opt.step(), sched.step()
    state, opt_state = sched.state_dict(), opt.state_dict()
    opt2 = _optimizer(tg, opt_name)
    opt2.load_state_dict(opt_state)
    sched2 = getattr(tg.optim.lr_scheduler, cls)(opt2, **kwargs)
    sched2.load_state_dict(state)
    lrs = []
    for _ in range(STEPS - 17):
        opt2.step(), sched2.step()
        lrs.append(list(sched2.get_last_lr()))
    np.testing.assert_array_equal(np.array(lrs), straight[18:])
    np.testing.assert_array_equal(np.array(_momenta(opt2), float), straight_m[-1])


def test_cyclic_state_dict_keeps_callable_object_state_like_torch():
    fn_ours, fn_theirs = Halving(), Halving()
    states = []
    for lib, fn in ((tg, fn_ours), (torch, fn_theirs)):
        opt = _optimizer(lib, "SGD")
        sched = lib.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=fn)
        for _ in range(5):
            opt.step(), sched.step()
        states.append(sched.state_dict())
    assert states[0]["_scale_fn_custom"] == states[1]["_scale_fn_custom"] == {"calls": fn_theirs.calls}
    assert "_scale_fn_ref" not in states[0]
    opt = _optimizer(tg, "SGD")
    sched = tg.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=Halving())
    sched.load_state_dict(states[0])
    assert sched._scale_fn_custom.calls == fn_theirs.calls


def test_errors_match_torch():
    for lib in (tg, torch):
        sched_mod = lib.optim.lr_scheduler
        opt = _optimizer(lib, "SGD")
        for kw, msg in (({"T_0": 0}, "Expected positive integer T_0, but got 0"),
                        ({"T_0": 2.0}, "Expected positive integer T_0"),
                        ({"T_0": 2, "T_mult": 0}, "Expected integer T_mult >= 1, but got 0"),
                        ({"T_0": 2, "eta_min": "0"}, "Expected float or int eta_min")):
            with pytest.raises(ValueError, match=msg):
                sched_mod.CosineAnnealingWarmRestarts(opt, **kw)
        sched = sched_mod.CosineAnnealingWarmRestarts(opt, T_0=2)
        with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
            sched.step(-1)
        with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
            sched_mod.CyclicLR(opt, 0.01, 0.1, mode="sine")
        with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
            sched_mod.CyclicLR(opt, 0.01, [0.1, 0.2, 0.3])
        adagrad = lib.optim.Adagrad([lib.tensor([1.0], requires_grad=True)])
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            sched_mod.CyclicLR(adagrad, 0.01, 0.1)
        with pytest.raises(TypeError, match="is not an Optimizer"):
            sched_mod.CyclicLR(object(), 0.01, 0.1)
