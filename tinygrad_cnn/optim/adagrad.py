"""Adagrad (Duchi et al.) with lr decay, L2 weight decay and maximize (torch.optim.Adagrad)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, addcdiv_, addcmul_, bump, check_flags, grad_of, increment, scalar, step_tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, torch's single-tensor update::

        t += 1;  g = grad (+ weight_decay * p);  -g if maximize
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g;  p -= clr * g / (sqrt(s) + eps)

    State per parameter (created at construction, as in torch): ``step`` and ``sum`` (starts at
    initial_accumulator_value).

    Raises:
        ValueError: a negative lr, lr_decay, weight_decay, initial_accumulator_value or eps.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_flags(differentiable, foreach, fused)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        if len(state) == 0:  # torch takes the value from the defaults, not from the group
            state["step"] = step_tensor()
            state["sum"] = Tensor._wrap(np.full_like(p._data, self.defaults["initial_accumulator_value"]))
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure's loss if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = scalar(group["lr"]), scalar(group["lr_decay"]), scalar(group["eps"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p)
                t = increment(state["step"])
                g = grad_of(p, group["maximize"], scalar(group["weight_decay"]))
                clr = lr / (1 + (t - 1) * lr_decay)
                state_sum = state["sum"]._data
                addcmul_(state_sum, g, g, 1)
                std = np.sqrt(state_sum)
                std += eps
                addcdiv_(p._data, g, std, -clr)
                bump(p)
        return loss
