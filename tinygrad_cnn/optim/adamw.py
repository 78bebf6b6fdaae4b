"""AdamW (Loshchilov & Hutter): Adam with decoupled weight decay (torch.optim.AdamW)."""
from __future__ import annotations

from typing import Any, Iterable

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""Adam whose weight decay shrinks the parameter directly (``p *= 1 - lr * weight_decay``) before the Adam
    step, instead of adding ``weight_decay * p`` to the gradient. Default weight_decay is 1e-2.

    Same state (``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) and errors as :class:`Adam`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # a loaded Adam state dict still decays in AdamW's way, as in torch
            group["decoupled_weight_decay"] = True
