"""Turning a run configuration into objects: the recipe-filled config, optimizer, scheduler and loss function.

A run configuration is a plain dict (it is written to config.json and into every checkpoint, so a run can be
resumed or evaluated from its directory alone). Fields left as None take the model's recipe value.
"""
from __future__ import annotations

import math
import numbers
import os
import platform
import sys
from typing import Any, Callable, NamedTuple

import numpy as np

from .. import models, optim
from ..nn import functional as F
from ..optim import lr_scheduler

OPTIMIZERS = ("adam", "adamw", "sgd", "adadelta", "rmsprop", "adagrad")
SCHEDULERS = ("none", "steplr")

DEFAULTS: dict[str, Any] = {
    "model": "annt-lenet5", "dataset": "mnist", "seed": 1, "out": None,
    # None: take the recipe's value
    "epochs": None, "batch_size": None, "lr": None, "optimizer": None, "momentum": None, "scheduler": None,
    "step_size": None, "gamma": None, "val_fraction": None, "test_batch_size": None,
    # quick runs on subsets
    "train_limit": None, "val_limit": None, "test_limit": None,
    "data_root": None, "download": True, "dataset_kwargs": {},
    "progress": True, "plots": True, "test": True,
}
_FROM_RECIPE = ("epochs", "batch_size", "lr", "optimizer", "momentum", "scheduler", "step_size", "gamma",
                "val_fraction", "test_batch_size")


class Rule(NamedTuple):
    """What a numeric setting accepts: `kind` int or float, `ok(value)`, and `what` for the message."""

    kind: type
    ok: Callable[[Any], bool]
    what: str


_POSITIVE_INT = Rule(int, lambda v: v >= 1, "a positive integer")
_NONNEG = Rule(float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")
_POSITIVE = Rule(float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
RULES: dict[str, Rule] = {
    "epochs": _POSITIVE_INT, "batch_size": _POSITIVE_INT, "test_batch_size": _POSITIVE_INT,
    "step_size": _POSITIVE_INT, "train_limit": _POSITIVE_INT, "val_limit": _POSITIVE_INT,
    "test_limit": _POSITIVE_INT, "seed": Rule(int, lambda v: 0 <= v < 2 ** 63 - 1, "an integer in [0, 2**63 - 2]"),
    "lr": _NONNEG, "momentum": _NONNEG, "gamma": _POSITIVE,
    "val_fraction": Rule(float, lambda v: 0 < v < 1, "a number strictly between 0 and 1"),
}


def check_value(name: str, value: Any) -> None:
    """ValueError naming the setting when `value` breaks RULES[name] (None: not set, always fine)."""
    rule = RULES.get(name)
    if rule is None or value is None:
        return
    kind_ok = isinstance(value, numbers.Integral if rule.kind is int else numbers.Real) and \
        not isinstance(value, bool)
    if not kind_ok or not rule.ok(value):
        raise ValueError(f"{name} must be {rule.what}, got {value!r}")


def check_config(config: dict[str, Any]) -> None:
    """Every numeric setting of a run config within its RULES (ValueError naming the first bad one)."""
    for name in RULES:
        check_value(name, config.get(name))


def resolve_config(**overrides: Any) -> dict[str, Any]:
    """The full run configuration: DEFAULTS, then `overrides`, then the recipe for every field still None.

    Raises ValueError for an unknown model, optimizer or scheduler (listing the valid ones), and for a numeric
    setting outside its RULES (epochs -1, step_size 0, val_fraction 1.5, ...).
    """
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"resolve_config: unknown fields {sorted(unknown)}")
    config = {**DEFAULTS, **overrides}
    recipe = models.get_recipe(config["model"])
    for key in _FROM_RECIPE:
        if config[key] is None:
            config[key] = getattr(recipe, key)
    config["scheduler"] = config["scheduler"] or "none"
    if config["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config['optimizer']!r}; valid optimizers: {', '.join(OPTIMIZERS)}")
    if config["scheduler"] not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {config['scheduler']!r}; valid schedulers: {', '.join(SCHEDULERS)}")
    config["recipe"] = recipe.to_dict()
    check_config(config)
    return config


def build_optimizer(config: dict[str, Any], params: Any) -> optim.Optimizer:
    """The tg.optim optimizer named by config['optimizer'] with config['lr'] (and momentum for SGD)."""
    name, lr = config["optimizer"], float(config["lr"])
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=float(config["momentum"] or 0.0))
    cls = {"adam": "Adam", "adamw": "AdamW", "adadelta": "Adadelta", "rmsprop": "RMSprop",
           "adagrad": "Adagrad"}[name]
    return getattr(optim, cls)(params, lr=lr)


def build_scheduler(config: dict[str, Any], optimizer: optim.Optimizer) -> Any:
    """StepLR(step_size, gamma) for 'steplr', None for 'none'. Stepped once per epoch."""
    if config["scheduler"] == "steplr":
        return lr_scheduler.StepLR(optimizer, step_size=int(config["step_size"]), gamma=float(config["gamma"]))
    return None


def loss_function(config: dict[str, Any]) -> Callable:
    """F.nll_loss for models ending in LogSoftmax, F.cross_entropy for models giving logits (from the recipe)."""
    return {"nll_loss": F.nll_loss, "cross_entropy": F.cross_entropy}[config["recipe"]["loss"]]


def machine_info() -> dict[str, Any]:
    """What results depend on: CPU, core count, Python and numpy versions (recorded in config.json)."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": sys.version.split()[0], "numpy": np.__version__,
            "platform": platform.platform(), "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}
