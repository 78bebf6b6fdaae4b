"""RMSprop (Hinton) with momentum, centering, L2 weight decay and maximize (torch.optim.RMSprop)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, addcdiv_, addcmul_, bump, check_flags, grad_of, increment, lerp_, scalar,
                        step_tensor, zeros_state)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, torch's single-tensor update::

        g = grad (+ weight_decay * p);  -g if maximize
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - gavg * gavg) + eps  with gavg = lerp(gavg, g, 1 - alpha) when centered, else sqrt(v) + eps
        momentum > 0:  b = momentum * b + g / avg;  p -= lr * b        otherwise:  p -= lr * g / avg

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered).

    Raises:
        ValueError: a negative lr, eps, momentum, weight_decay or alpha.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)
        check_flags(differentiable, foreach)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = step_tensor()
            state["square_avg"] = zeros_state(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = zeros_state(p)
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure's loss if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = scalar(group["lr"]), scalar(group["alpha"]), scalar(group["eps"])
            momentum = scalar(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p, group)
                increment(state["step"])
                g = grad_of(p, group["maximize"], scalar(group["weight_decay"]))
                square_avg = state["square_avg"]._data
                square_avg *= alpha
                addcmul_(square_avg, g, g, 1 - alpha)
                if group["centered"]:
                    grad_avg = state["grad_avg"]._data
                    lerp_(grad_avg, g, 1 - alpha)
                    avg = square_avg.copy()
                    addcmul_(avg, grad_avg, grad_avg, -1)  # torch: square_avg.addcmul(grad_avg, grad_avg, value=-1)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    addcdiv_(buf, g, avg)
                    p._data -= buf * lr  # torch: p.add_(buf, alpha=-lr)
                else:
                    addcdiv_(p._data, g, avg, -lr)
                bump(p)
        return loss
