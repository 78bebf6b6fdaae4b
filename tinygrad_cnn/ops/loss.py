"""Loss primitives: class-index cross-entropy fused with log-softmax, NLL on log-probabilities, binary cross-entropy.

Shapes: x (N, C, d1, ...) with the classes on axis 1; target (N, d1, ...) integer class indices. Arguments are
validated in nn/functional/loss.py; here target is already in range wherever it differs from ignore_index.
Backwards are written with operators and ops/_dual.py calls (class indices, weights and masks are constants), so
they differentiate again under create_graph; picking x[n, t] and its adjoint are the ClassGather/ClassScatter pair.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Context
from ._dual import call, log, raw, reshape, where
from ._primitive import Primitive
from .selection import Maximum
from .softmax import _shifted, softmax_grad


def _reduce(loss: np.ndarray, reduction: str, denom: np.ndarray | float) -> np.ndarray:
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if 0 < abs(denom) < np.inf:  # the usual case: no 0 / 0 or inf / inf, so no errstate (~2 us) needed
        return total / denom
    with np.errstate(invalid="ignore", divide="ignore"):  # everything ignored: 0 / 0 = nan, as in torch
        return total / denom


def _per_position(g: np.ndarray, reduction: str, denom: np.ndarray | float) -> np.ndarray:
    """The upstream gradient each position's loss receives: g itself ('none'), or the scalar g (/ denom)."""
    if reduction == "mean":
        # all positions ignored: the loss is nan but, as in torch, nothing receives a gradient
        return g / denom if denom != 0 else where(np.False_, g, 0)
    return g


def _picked(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """x[n, t[n, ...], ...]: shape (N, d1, ...)."""
    if x.ndim == 2:  # (N, C): one fancy index (take_along_axis builds its index grid in Python, ~10 us)
        return x[np.arange(len(t)), t]
    return np.take_along_axis(x, t[:, None], axis=1)[:, 0]


def _with_class_axis(v):
    """v (N, *) -> (N, 1, *), broadcasting against (N, C, *)."""
    return reshape(v, (v.shape[0], 1, *v.shape[1:])) if len(v.shape) else v


class ClassScatter(Primitive):
    """v (N, *) -> (N, C, *) = shape: zeros with v[n, ...] at class t[n, ...]. The adjoint of ClassGather."""

    @staticmethod
    def forward(ctx: Context, v: np.ndarray, t: np.ndarray, shape: tuple) -> np.ndarray:
        ctx.save_for_backward(t)
        out = np.zeros(shape, dtype=v.dtype)
        if len(shape) == 2:  # (N, C): one fancy assignment (put_along_axis builds its index grid in Python)
            out[np.arange(len(t)), t] = v
        else:
            np.put_along_axis(out, t[:, None], np.expand_dims(v, 1), axis=1)
        return out

    @staticmethod
    def backward(ctx: Context, g):
        (t,) = ctx.saved_tensors
        return call(ClassGather, g, t), None, None


class ClassGather(Primitive):
    """x (N, C, *) -> (N, *): x[n, t[n, ...], ...], the target class's entry. The adjoint of ClassScatter."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(t)
        ctx.shape = x.shape
        return _picked(x, t)

    @staticmethod
    def backward(ctx: Context, g):
        (t,) = ctx.saved_tensors
        return call(ClassScatter, g, t, ctx.shape), None


def _class_weights(x: np.ndarray, weight: np.ndarray | None, t: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """weight[target] per position, 0 where ignored: shape (N, d1, ...), in x's dtype."""
    if weight is None:
        return valid.astype(x.dtype)
    return np.where(valid, weight[t], 0).astype(x.dtype, copy=False)


class CrossEntropy(Primitive):
    """cross_entropy with class-index targets: log_softmax and NLL in one pass (x (N, C, *) -> () or (N, *)).

    With label smoothing eps the per-position loss is (1 - eps) * nll + eps / C * (-sum_c w_c log p_c); 'mean'
    divides by the summed target weights of the non-ignored positions. Backward with p = softmax(x):
    grad_x = gi * [(1 - eps) w_t (p - onehot) + eps / C * (p * sum(w) - w)], gi the per-position upstream grad.

    p is a differentiable function of x, so it is a second output (nn.functional returns only the loss): saved as
    an output, it comes back under create_graph attached to this node, and a second derivative through p arrives
    as p's gradient g_p (softmax_grad). Saving x instead would make an in-place change of the logits after the
    loss an error, which torch (saving log_softmax's output) does not raise.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                reduction: str, label_smoothing: float) -> tuple[np.ndarray, np.ndarray]:
        C = x.shape[1]
        s = _shifted(x, 1)                                     # (N, C, *), <= 0: exp cannot overflow
        e = np.exp(s)
        sumexp = e.sum(axis=1, keepdims=True)                  # (N, 1, *)
        lse = np.log(sumexp)[:, 0]                             # (N, *)
        valid = target != ignore_index                         # (N, *)
        t = np.where(valid, target, 0)
        w_t = _class_weights(x, weight, t, valid)              # (N, *)
        loss = -(1 - label_smoothing) * w_t * (_picked(s, t) - lse)
        if label_smoothing > 0:
            if weight is None:
                sum_logp = s.sum(axis=1) - C * lse             # sum_c log p_c, (N, *)
            else:
                wb = weight.reshape((1, C) + (1,) * (x.ndim - 2))
                sum_logp = (s * wb).sum(axis=1) - weight.sum() * lse
            loss = loss - (label_smoothing / C) * sum_logp * valid
        denom = w_t.sum()
        p = e / sumexp                                         # (N, C, *) softmax(x), the second output
        ctx.save_for_backward(p, t, valid, w_t, weight)
        ctx.opts = (reduction, label_smoothing, denom)
        ctx.set_materialize_grads(False)                       # p's gradient is None unless p is differentiated
        return _reduce(loss, reduction, denom), p

    @staticmethod
    def backward(ctx: Context, g: np.ndarray | None, g_p: np.ndarray | None = None) -> tuple:
        p, t, valid, w_t, weight = ctx.saved_tensors
        grad = None if g is None else _cross_entropy_grad(ctx, g, p, t, valid, w_t, weight)
        if g_p is not None:  # only when a gradient of this loss is itself differentiated (through p)
            gp = softmax_grad(p, g_p, (1,))
            grad = gp if grad is None else grad + gp
        return grad, None, None, None, None, None


def _cross_entropy_grad(ctx: Context, g, p, t: np.ndarray, valid: np.ndarray, w_t: np.ndarray,
                        weight: np.ndarray | None):
    """The loss's gradient with respect to x (N, C, *) from p = softmax(x) (an array, or the output Tensor)."""
    reduction, eps, denom = ctx.opts
    C, dtype = raw(p).shape[1], raw(p).dtype
    gi = _per_position(g, reduction, denom)                    # () or (N, *)
    hard = gi * ((1 - eps) * w_t)                              # (N, *)
    coef = hard
    if eps > 0:
        smooth = gi * ((eps / C) * valid.astype(dtype))        # (N, *)
        coef = hard + smooth * (C if weight is None else weight.sum())  # sum_c w_c
    grad = p * _with_class_axis(coef) - call(ClassScatter, hard, t, raw(p).shape)
    if eps > 0:
        wb = 1 if weight is None else weight.reshape((1, -1) + (1,) * (p.ndim - 2))
        grad = grad - _with_class_axis(smooth) * wb
    return grad


class NLLLoss(Primitive):
    """nll_loss on log-probabilities x (N, C, *): -w_t x[n, t]; 'mean' divides by the summed target weights.

    Backward: -w_t * gi scattered into zeros at the target class of each position.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                reduction: str) -> np.ndarray:
        valid = target != ignore_index                         # (N, *)
        t = np.where(valid, target, 0)
        w_t = _class_weights(x, weight, t, valid)              # (N, *)
        loss = -w_t * _picked(x, t)
        denom = w_t.sum()
        ctx.save_for_backward(t, w_t)
        ctx.opts = (reduction, denom, x.shape)
        return _reduce(loss, reduction, denom)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        t, w_t = ctx.saved_tensors
        reduction, denom, shape = ctx.opts
        gi = _per_position(g, reduction, denom)
        return call(ClassScatter, gi * -w_t, t, shape), None, None, None, None


class BinaryCrossEntropy(Primitive):
    """-(t log x + (1 - t) log(1 - x)) elementwise, each log clamped at -100 as torch (so x = 0 or 1 stays finite).

    Backward: grad_x = g (x - t) / max(x (1 - x), 1e-12); grad_t = g (log(1 - x) - log x), torch's -logit(x);
    written with _dual calls, so the second derivatives are the exact derivatives of these.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / call(Maximum, x * (1 - x), 1e-12)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gt = g * (log(1 - x) - log(x))
        return gx, gt
