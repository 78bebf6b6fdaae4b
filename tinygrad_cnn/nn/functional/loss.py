"""nn.functional: losses (torch.nn.functional names, arguments, defaults and reductions).

Classification losses take input (N, C) or (N, C, d1, ...) (or unbatched (C)) and reduce to () for 'mean'/'sum' or
keep (N, d1, ...) for 'none'. Elementwise losses take input (*) and a target of the same shape and reduce to ()
or keep (*). The legacy size_average/reduce arguments map to `reduction` as in torch (with its warning).
"""
from __future__ import annotations

from typing import Any

from ...ops.activation import LogSigmoid
from ...ops.loss import BinaryCrossEntropy, CrossEntropy, NLLLoss
from ...creation import where
from ...tensor import Tensor
from ._loss_args import (check_float_input, check_no_grad_weight, check_tensor, class_target, class_weight,
                         reduce_tensor, reduction_arg, warn_size_mismatch)
from .activation import log_softmax

__all__ = ["nll_loss", "cross_entropy", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]


def _class_loss(op: Any, input: Tensor, t: Any, w: Any, *opts: Any) -> Tensor:
    """Run a class-index primitive on (N, C, *) data; an unbatched (C) input is treated as N = 1.
    CrossEntropy also outputs its softmax (for its second derivatives): only the loss is returned."""
    if input.ndim == 1:
        out = op.apply(input.reshape(1, -1), t.reshape(1), w, *opts)
        out = out[0] if isinstance(out, tuple) else out
        return out.reshape(()) if out.ndim else out
    out = op.apply(input, t, w, *opts)
    return out[0] if isinstance(out, tuple) else out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (e.g. log_softmax output).

    Shape: input (N, C) or (N, C, d1, ...) or (C); target (N) / (N, d1, ...) / () int64 in [0, C) or ignore_index;
    weight (C). Output () for 'mean' (sum of -w[t] input[t] over the summed w[t] of non-ignored targets) and
    'sum', else target's shape.

    Raises:
        ValueError: bad reduction or batch size. RuntimeError: target dtype/shape or weight shape. IndexError:
        a target outside [0, C), naming it and its position.
    """
    reduction = reduction_arg("nll_loss", size_average, reduce, reduction)
    check_float_input(input, "nll_loss")
    t = class_target(input, target, ignore_index, "nll_loss")
    w = class_weight(weight, input, "nll_loss")
    return _class_loss(NLLLoss, input, t, w, int(ignore_index), reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim followed by nll_loss, fused into one numerically stable primitive.

    Targets are either class indices (int64, shape (N) / (N, d1, ...) / ()) or class probabilities (float, the
    input's shape). label_smoothing eps mixes the target with the uniform distribution: (1 - eps) * target +
    eps / C. Shape: input (N, C) or (N, C, d1, ...) or (C); weight (C). Output () or (N, d1, ...) for 'none'.
    With probability targets 'mean' divides by N * d1 * ... (not by the weights).

    Raises:
        ValueError: bad reduction, batch-size mismatch (naming both shapes). RuntimeError: float target of the
        wrong shape, label_smoothing outside [0, 1], weight shape, ignore_index with probability targets.
        IndexError: a target outside [0, C) ("target 12 is out of bounds for 10 classes (at position 3)").
    """
    reduction = reduction_arg("cross_entropy", size_average, reduce, reduction)
    check_float_input(input, "cross_entropy")
    check_tensor(target, "cross_entropy", "target")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target._data.dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                f"cross_entropy: a float target must hold class probabilities of the input's shape "
                f"{tuple(input.shape)}, got {target.dtype} target of shape {tuple(target.shape)}; class indices "
                f"must be int64 (target.long())")
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction, float(label_smoothing))
    t = class_target(input, target, ignore_index, "cross_entropy")
    w = class_weight(weight, input, "cross_entropy")
    return _class_loss(CrossEntropy, input, t, w, int(ignore_index), reduction,
                       float(label_smoothing))


def _cross_entropy_probs(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                         reduction: str, eps: float) -> Tensor:
    """-sum_c w_c q_c log_softmax(x)_c, composed (so the target gets a gradient too, as in torch)."""
    if ignore_index >= 0:
        raise RuntimeError(f"cross_entropy: ignore_index is not supported for floating point target (got "
                           f"ignore_index={ignore_index}, target shape {tuple(target.shape)})")
    cdim = 1 if input.ndim >= 2 else 0
    C = input.shape[cdim]
    target = target.to(input.dtype)  # computed in the input's precision (float32 stays float32)
    q = target if eps == 0 else target * (1 - eps) + eps / C
    prod = log_softmax(input, cdim) * q                                          # (N, C, *)
    if weight is not None:
        check_tensor(weight, "cross_entropy", "weight")
        if tuple(weight.shape) != (C,):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {C} classes or no "
                               f"classes but got weight tensor of shape {tuple(weight.shape)}")
        prod = prod * weight.to(input.dtype).reshape(C, *([1] * (input.ndim - cdim - 1)))       # (C, 1, ...) broadcasts
    per = -prod.sum(cdim)                                                        # (N, *)
    if reduction == "none":
        return per
    total = per.sum()
    if reduction == "sum":
        return total
    positions = input.numel() // C if C else 0                                   # N * d1 * ...
    return total / float(positions) if positions else total * float("nan")     # empty batch: nan, as torch


def _elementwise(name: str, input: Tensor, target: Tensor, weight: Tensor | None) -> None:
    check_float_input(input, name)
    check_tensor(target, name, "target")
    warn_size_mismatch(input, target, name)
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: Weights and input must have the same size (weight shape {tuple(weight.shape)}, "
                         f"input shape {tuple(input.shape)})")


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str, mean_over_weights: bool) -> Tensor:
    """torch's weighted elementwise losses: mse/l1 'mean' divide by sum(weight), huber's by the element count."""
    if weight is None:
        return reduce_tensor(loss, reduction)
    loss = loss * weight
    if reduction == "mean" and mean_over_weights:
        return loss.sum() / weight.sum()
    return reduce_tensor(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2, optionally times weight (input's shape; 'mean' then divides by sum(weight)).

    Shape: input (*), target (*) (broadcast with a warning if different). Output () or (*) for 'none'.
    """
    reduction = reduction_arg("mse_loss", size_average, reduce, reduction)
    _elementwise("mse_loss", input, target, weight)
    d = input - target
    return _weighted(d * d, weight, reduction, True)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input - target| (gradient 0 where equal), optionally weighted like mse_loss. Shape: (*) -> () or (*)."""
    reduction = reduction_arg("l1_loss", size_average, reduce, reduction)
    _elementwise("l1_loss", input, target, weight)
    return _weighted((input - target).abs(), weight, reduction, True)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target; beta = 0 is l1_loss).

    Shape: (*) -> () or (*). Raises: RuntimeError for beta < 0.
    """
    reduction = reduction_arg("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got beta={beta})")
    _elementwise("smooth_l1_loss", input, target, None)
    d = input - target
    if beta == 0:
        return reduce_tensor(d.abs(), reduction)
    ad = d.abs()
    small = ad < beta
    dq = where(small, d, 0.0)  # the quadratic branch sees 0 where unused: an inf there would make 0 * inf = NaN
    return reduce_tensor(where(small, dq * dq * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); weighted 'mean' divides by the element count.

    Shape: (*) -> () or (*). Raises: RuntimeError for delta <= 0.
    """
    reduction = reduction_arg("huber_loss", None, None, reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got delta={delta})")
    _elementwise("huber_loss", input, target, weight)
    d = input - target
    ad = d.abs()
    small = ad < delta
    dq = where(small, d, 0.0)  # as in smooth_l1_loss: no inf reaches the unused quadratic branch
    loss = where(small, dq * dq * 0.5, (ad - 0.5 * delta) * delta)
    return _weighted(loss, weight, reduction, False)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]; each log is clamped at -100 as in torch.

    Shape: input (*), target (*) the same shape, weight broadcastable to it. Output () or (*) for 'none'.

    Raises:
        ValueError: target shape differs. RuntimeError: input values outside [0, 1]; weight requires grad.
    """
    reduction = reduction_arg("binary_cross_entropy", size_average, reduce, reduction)
    check_float_input(input, "binary_cross_entropy")
    check_tensor(target, "binary_cross_entropy", "target")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy: Using a target size ({tuple(target.shape)}) that is different to "
                         f"the input size ({tuple(input.shape)}) is deprecated. Please ensure they have the same "
                         f"size.")
    x = input._data
    if x.size and not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 and 1 (got min "
                           f"{x.min():.4g}, max {x.max():.4g}, input shape {tuple(input.shape)}); apply sigmoid "
                           f"first or use binary_cross_entropy_with_logits")
    t = target._data
    if t.size and not ((t >= 0) & (t <= 1)).all():  # torch refuses these too: the loss would be unbounded below
        raise RuntimeError(f"binary_cross_entropy: all elements of target should be between 0 and 1 (got min "
                           f"{t.min():.4g}, max {t.max():.4g}, target shape {tuple(target.shape)})")
    check_no_grad_weight(weight, "binary_cross_entropy", "weight")
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        loss = loss * weight.to(input.dtype)
    return reduce_tensor(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """sigmoid + binary cross-entropy in the stable form (1 - t) x - (1 + (pos_weight - 1) t) log(sigmoid(x)).

    Shape: input (*) logits, target (*) the same shape, weight broadcastable to (*), pos_weight broadcastable to
    (*) (typically (C) for input (N, C)). Output () or (*) for 'none'.

    Raises:
        ValueError: target shape differs. RuntimeError: weight or pos_weight requires grad.
    """
    reduction = reduction_arg("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    check_float_input(input, "binary_cross_entropy_with_logits")
    check_tensor(target, "binary_cross_entropy_with_logits", "target")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy_with_logits: Target size ({tuple(target.shape)}) must be the same "
                         f"as input size ({tuple(input.shape)})")
    check_no_grad_weight(weight, "binary_cross_entropy_with_logits", "weight")
    check_no_grad_weight(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    target = target.to(input.dtype)
    log_sig = LogSigmoid.apply(input)  # log(sigmoid(x)) without overflow for any |x|
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight.to(input.dtype) - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight.to(input.dtype)
    return reduce_tensor(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Pointwise KL divergence target * (log target - input), input being log-probabilities.

    log_target=True takes the target as log-probabilities: exp(target) * (target - input). reduction='batchmean'
    divides the sum by N = input.size(0) (the mathematical KL); 'mean' divides by the element count (torch warns).
    Shape: input (*), target (*). Output () or (*) for 'none'.
    """
    import warnings

    reduction = reduction_arg("kl_div", size_average, reduce, reduction, ("none", "mean", "sum", "batchmean"))
    check_float_input(input, "kl_div")
    check_tensor(target, "kl_div", "target")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        pos = target > 0
        safe = where(pos, target, 1.0)  # 0 log 0 = 0, as torch's xlogy
        loss = where(pos, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return reduce_tensor(loss, reduction)
