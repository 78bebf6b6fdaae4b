"""SGD with momentum, dampening, Nesterov momentum, L2 weight decay and maximize (torch.optim.SGD)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, bump, check_flags, grad_of, scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, torch's update rule::

        g = grad (+ weight_decay * p);  negated first if maximize
        b = g on the first step, else momentum * b + (1 - dampening) * g       (when momentum != 0)
        g = g + momentum * b if nesterov else b
        p = p - lr * g

    State per parameter: ``momentum_buffer`` (only when momentum != 0).

    Raises:
        ValueError: lr, momentum or weight_decay negative; nesterov without momentum or with dampening.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_flags(differentiable, foreach, fused)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure's loss if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, momentum = scalar(group["lr"]), scalar(group["momentum"])
            dampening, weight_decay = scalar(group["dampening"]), scalar(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = grad_of(p, group["maximize"], weight_decay)
                if momentum != 0:
                    g = self._momentum(p, g, momentum, dampening, group["nesterov"])
                p._data -= g * lr  # torch: p.add_(g, alpha=-lr)
                bump(p)
        return loss

    def _momentum(self, p: Tensor, g: np.ndarray, momentum: float, dampening: float, nesterov: bool) -> np.ndarray:
        """Update p's momentum buffer with g; return the direction to step along."""
        state = self.state[p]
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = Tensor._wrap(np.array(g, copy=True))  # g may be p.grad's array
        else:
            b = buf._data
            b *= momentum
            if dampening == 0:
                b += g  # alpha = 1: no rounding of a product
            else:
                b += g * (1 - dampening)
        return g + buf._data * momentum if nesterov else buf._data
