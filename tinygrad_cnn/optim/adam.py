"""Adam (Kingma & Ba) with AMSGrad, L2 or decoupled weight decay and maximize (torch.optim.Adam)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, addcmul_, bump, check_flags, grad_of, in_chunks, increment, lerp_, scalar,
                        step_tensor, zeros_state)

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam, torch's single-tensor update::

        t += 1;  g = grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled);  -g if maximize
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  (amsgrad: v_max = max(v_max, v))
        p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter: ``step`` (0-d float32 Tensor), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq`` (each shaped like the parameter).

    Raises:
        ValueError: a negative lr, eps or weight_decay; a beta outside [0, 1); betas not both floats.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        check_flags(differentiable, foreach, fused)

    def _init_state(self, p: Tensor, amsgrad: bool) -> dict:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = step_tensor()
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
            if amsgrad:
                state["max_exp_avg_sq"] = zeros_state(p)
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure's loss if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = (scalar(b) for b in group["betas"])
            lr, eps, weight_decay = scalar(group["lr"]), scalar(group["eps"]), scalar(group["weight_decay"])
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p, group["amsgrad"])
                t = increment(state["step"])
                if decoupled and weight_decay != 0:
                    p._data *= 1 - lr * weight_decay
                g = grad_of(p, group["maximize"], 0.0 if decoupled else weight_decay)
                coefs = (beta1, beta2, lr / (1 - beta1 ** t), (1 - beta2 ** t) ** 0.5, eps)
                arrays = [p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data]
                if group["amsgrad"]:
                    arrays.append(state["max_exp_avg_sq"]._data)
                in_chunks(lambda *a: _update(*a, coefs=coefs), *arrays)
                bump(p)
        return loss


def _update(p: np.ndarray, g: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
            max_exp_avg_sq: np.ndarray | None = None, *, coefs: tuple) -> None:
    """One Adam step on arrays of one shape, in place (p and the moments), in torch's order.
    coefs: (beta1, beta2, step_size = lr / (1 - beta1^t), sqrt(1 - beta2^t), eps)."""
    beta1, beta2, step_size, bias_correction2_sqrt, eps = coefs
    lerp_(exp_avg, g, 1 - beta1)
    exp_avg_sq *= beta2
    addcmul_(exp_avg_sq, g, g, 1 - beta2)
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        second = max_exp_avg_sq
        np.maximum(second, exp_avg_sq, out=second)
    denom = np.sqrt(second)
    denom /= bias_correction2_sqrt
    denom += eps
    update = np.multiply(exp_avg, -step_size)  # torch: p.addcdiv_(m, denom, value=-step_size)
    update /= denom
    p += update
