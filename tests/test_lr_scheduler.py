"""tg.optim.lr_scheduler against torch.optim.lr_scheduler: lr (and momentum) sequences over 30+ steps, state_dict
round trips, ReduceLROnPlateau on metric sequences, warnings and errors."""
from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

STEPS = 35


def _optimizer(lib, name="SGD", **kw):
    a = lib.tensor(np.ones(3), requires_grad=True)
    b = lib.tensor(np.ones(2), requires_grad=True)
    kw = kw or ({"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.01})
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.05}], **kw)


def _scheduler(lib, opt, cls, kwargs):
    kw = dict(kwargs)
    if cls == "LambdaLR":
        kw["lr_lambda"] = [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]
    if cls == "MultiplicativeLR":
        kw["lr_lambda"] = lambda e: 0.9 if e % 3 else 1.05
    if cls == "SequentialLR":
        kw["schedulers"] = [lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=5),
                            lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=1e-3),
                            lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)]
    if cls == "ChainedScheduler":
        kw["schedulers"] = [lib.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=4),
                            lib.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)]
    return getattr(lib.optim.lr_scheduler, cls)(opt, **kw) if cls != "ChainedScheduler" else \
        lib.optim.lr_scheduler.ChainedScheduler(kw["schedulers"])


def _trace(lib, cls, kwargs, opt_name="SGD", steps=STEPS, opt_kw=None):
    opt = _optimizer(lib, opt_name, **(opt_kw or {}))
    sched = _scheduler(lib, opt, cls, kwargs)
    lrs, moms = [list(sched.get_last_lr())], [_momenta(opt)]
    for _ in range(steps):
        opt.step()  # no gradients: a no-op that still counts as "optimizer stepped first"
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        moms.append(_momenta(opt))
    return lrs, moms, opt, sched


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


CASES = [
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 8, 8, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LambdaLR", {}),
    ("MultiplicativeLR", {}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 8}),
    ("ConstantLR", {"factor": 0.4, "total_iters": 6}),
    ("PolynomialLR", {"total_iters": 20, "power": 2.0}),
    ("SequentialLR", {"milestones": [5, 17]}),
    ("ChainedScheduler", {}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": [1.0, 0.4], "total_steps": STEPS + 5, "anneal_strategy": "linear",
                    "pct_start": 0.25, "div_factor": 10.0}),
    ("OneCycleLR", {"max_lr": 0.5, "epochs": 5, "steps_per_epoch": 7, "three_phase": True,
                    "base_momentum": 0.7, "max_momentum": 0.9}),
]
IDS = [f"{c}-{i}" for i, (c, _) in enumerate(CASES)]


@pytest.mark.parametrize("cls,kwargs", CASES, ids=IDS)
def test_lr_sequence_matches_torch(cls, kwargs):
    ours, our_moms, opt, _ = _trace(tg, cls, kwargs)
    theirs, their_moms, topt, _ = _trace(torch, cls, kwargs)
    np.testing.assert_array_equal(np.array(ours), np.array(theirs))  # same float formulas: bit-identical
    if cls == "OneCycleLR":
        np.testing.assert_array_equal(np.array(our_moms, float), np.array(their_moms, float))
    for g, tgroup in zip(opt.param_groups, topt.param_groups):
        assert set(g) == set(tgroup)  # 'initial_lr' (and OneCycle's max_lr/min_lr/momenta) added like torch
        assert g.get("initial_lr") == pytest.approx(tgroup.get("initial_lr"), rel=1e-15)


def test_one_cycle_cycles_adam_beta1_like_torch():
    kw = {"max_lr": 0.1, "total_steps": 30}
    ours, our_moms, opt, _ = _trace(tg, "OneCycleLR", kw, "Adam", steps=30)
    theirs, their_moms, _, _ = _trace(torch, "OneCycleLR", kw, "Adam", steps=30)
    np.testing.assert_array_equal(np.array(ours), np.array(theirs))
    np.testing.assert_array_equal(np.array(our_moms), np.array(their_moms))
    assert opt.param_groups[0]["betas"][1] == 0.999
    with pytest.raises(ValueError, match="Tried to step 31 times. The specified number of total steps is 30"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _trace(tg, "OneCycleLR", kw, "Adam", steps=31)


def test_one_cycle_requires_momentum_and_total_steps():
    opt = tg.optim.Adagrad([tg.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        tg.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match=re.escape("You must define either total_steps OR (epochs AND")):
        tg.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, cycle_momentum=False)


@pytest.mark.parametrize("cls,kwargs", [CASES[i] for i in (0, 3, 5, 10, 12)], ids=[IDS[i] for i in (0, 3, 5, 10, 12)])
def test_state_dict_round_trip(cls, kwargs):
    straight, _, _, _ = _trace(tg, cls, kwargs)
    opt = _optimizer(tg)
    sched = _scheduler(tg, opt, cls, kwargs)
    for _ in range(12):
        opt.step()
        sched.step()
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    topt = _optimizer(torch)
    tsched = _scheduler(torch, topt, cls, kwargs)
    assert set(saved) == set(tsched.state_dict())  # same attribute names as torch's scheduler
    opt2 = _optimizer(tg)
    sched2 = _scheduler(tg, opt2, cls, kwargs)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    resumed = []
    for _ in range(STEPS - 12):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    np.testing.assert_array_equal(np.array(resumed), np.array(straight[13:]))


PLATEAU = [
    {},
    {"patience": 2, "factor": 0.5},
    {"mode": "max", "patience": 1, "threshold": 0.05, "cooldown": 2},
    {"patience": 0, "threshold_mode": "abs", "threshold": 0.1, "min_lr": [0.02, 0.001], "factor": 0.3},
    {"mode": "max", "threshold_mode": "abs", "patience": 3, "min_lr": 0.004, "eps": 1e-3},
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.02 * rng.standard_normal(30),
                              np.linspace(0.5, 0.3, 5), np.full(10, 0.3)])
    runs = []
    for lib in (tg, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(float(m))
            seq.append(sched.get_last_lr() + [sched.num_bad_epochs, sched.cooldown_counter, sched.best])
        runs.append(seq)
    np.testing.assert_array_equal(np.array(runs[0]), np.array(runs[1]))
    assert len({tuple(r[:2]) for r in runs[0]}) > 1 or kwargs == {}  # the lr really changed in these cases


def test_reduce_lr_on_plateau_errors_and_state():
    opt = _optimizer(tg)
    with pytest.raises(ValueError, match=re.escape("Factor should be < 1.0.")):
        tg.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode average is unknown!"):
        tg.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="average")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        tg.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1])
    sched = tg.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max")
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(torch), mode="max")
    assert set(sched.state_dict()) == set(tsched.state_dict())


def test_initial_step_and_last_epoch():
    opt = _optimizer(tg)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2)
    assert sched.last_epoch == 0 and sched._step_count == 1
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    with pytest.raises(KeyError, match=re.escape("param 'initial_lr' is not specified in param_groups[0]")):
        tg.optim.lr_scheduler.StepLR(_optimizer(tg), step_size=2, last_epoch=3)
    resumed = tg.optim.lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)  # initial_lr now present
    assert resumed.last_epoch == 4


def test_warnings_like_torch():
    opt = _optimizer(tg)
    sched = tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match=re.escape("Detected call of `lr_scheduler.step()` before")):
        sched.step()
    with pytest.warns(UserWarning, match=re.escape("please use `get_last_lr()`")):
        sched.get_lr()
    with pytest.warns(UserWarning, match=re.escape("The epoch parameter in `scheduler.step()`")):
        sched.step(5)  # closed form: base_lr * gamma ** 5
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.5 ** 5, 0.05 * 0.5 ** 5], rel=1e-15)


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        tg.optim.lr_scheduler.StepLR([], step_size=1)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        tg.optim.lr_scheduler.LambdaLR(_optimizer(tg), [lambda e: 1.0])
