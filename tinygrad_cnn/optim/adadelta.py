"""Adadelta (Zeiler) with L2 weight decay and maximize (torch.optim.Adadelta)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, addcmul_, bump, check_flags, grad_of, in_chunks, increment, scalar, step_tensor,
                        zeros_state)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, torch's single-tensor update::

        g = grad (+ weight_decay * p);  -g if maximize
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta;  p -= lr * delta

    State per parameter: ``step``, ``square_avg`` (v) and ``acc_delta`` (u).

    Raises:
        ValueError: a negative lr, eps or weight_decay; rho outside [0, 1].
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)
        check_flags(differentiable, foreach)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = step_tensor()
            state["square_avg"] = zeros_state(p)
            state["acc_delta"] = zeros_state(p)
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure's loss if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = scalar(group["lr"]), scalar(group["rho"]), scalar(group["eps"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p)
                increment(state["step"])
                g = grad_of(p, group["maximize"], scalar(group["weight_decay"]))
                in_chunks(lambda p_, g_, v, u: _update(p_, g_, v, u, lr, rho, eps),
                          p._data, g, state["square_avg"]._data, state["acc_delta"]._data)
                bump(p)
        return loss


def _update(p: np.ndarray, g: np.ndarray, square_avg: np.ndarray, acc_delta: np.ndarray, lr: float, rho: float,
            eps: float) -> None:
    """One Adadelta step on arrays of one shape, in place (p, square_avg, acc_delta), in torch's order."""
    square_avg *= rho
    addcmul_(square_avg, g, g, 1 - rho)
    std, delta = np.empty_like(square_avg), np.empty_like(acc_delta)  # arrays even for 0-d params
    np.sqrt(np.add(square_avg, eps, out=std), out=std)
    np.sqrt(np.add(acc_delta, eps, out=delta), out=delta)
    delta /= std
    delta *= g
    acc_delta *= rho
    addcmul_(acc_delta, delta, delta, 1 - rho)
    delta *= lr
    p -= delta  # torch: p.add_(delta, alpha=-lr)
