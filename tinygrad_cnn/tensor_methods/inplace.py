"""Tensor in-place methods (`add_`, `fill_`, `copy_`, `uniform_`, `masked_fill_`, ..., `+=`): recorded through
ops/inplace.py, which checks leaves and views and bumps the version counter."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import grad_mode
from ..ops.selection import Where
from ._common import _as_tensor, _raw, wrap

if TYPE_CHECKING:
    from ..tensor import Tensor


class InplaceMixin:
    """In-place methods; each is the out-of-place op handed to `ops.inplace.inplace`, which rebinds the history."""

    def add_(self, other: Any, alpha: Any = 1) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s + (other * alpha if alpha != 1 else other), "add_")

    def sub_(self, other: Any, alpha: Any = 1) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s - (other * alpha if alpha != 1 else other), "sub_")

    def mul_(self, other: Any) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s * other, "mul_")

    def div_(self, other: Any) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s / other, "div_")

    def pow_(self, other: Any) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s ** other, "pow_")

    def clamp_(self, min: Any = None, max: Any = None) -> "Tensor":  # noqa: A002
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.clamp(min, max), "clamp_")

    def relu_(self) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.relu(), "relu_")

    def abs_(self) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.abs(), "abs_")

    def neg_(self) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.neg(), "neg_")

    def exp_(self) -> "Tensor":
        return _float_unary_(self, "exp")

    def log_(self) -> "Tensor":
        return _float_unary_(self, "log")

    def sqrt_(self) -> "Tensor":
        return _float_unary_(self, "sqrt")

    def sigmoid_(self) -> "Tensor":
        return _float_unary_(self, "sigmoid")

    def tanh_(self) -> "Tensor":
        return _float_unary_(self, "tanh")

    def masked_fill_(self, mask: "Tensor", value: Any) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.masked_fill(mask, value), "masked_fill_")

    def scatter_(self, dim: int, index: "Tensor", src: Any = None, value: Any = None) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.scatter(dim, index, src, value), "scatter_")

    def scatter_add_(self, dim: int, index: "Tensor", src: "Tensor") -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.scatter_add(dim, index, src), "scatter_add_")

    def index_add_(self, dim: int, index: "Tensor", source: "Tensor", *, alpha: Any = 1) -> "Tensor":
        from ..ops.inplace import inplace

        return inplace(self, lambda s: s.index_add(dim, index, source, alpha=alpha), "index_add_")

    def zero_(self) -> "Tensor":
        from ..ops.inplace import check_inplace

        check_inplace(self, "zero_")  # so a refusal names zero_, not the fill_ it is made of
        return self.fill_(0)

    def fill_(self, value: Any) -> "Tensor":
        from ..ops.inplace import inplace

        v = _raw(value)
        return inplace(self, lambda s: _overwrite(s, wrap(np.full(s._data.shape, v, s._data.dtype))), "fill_")

    def copy_(self, src: "Tensor") -> "Tensor":
        from ..ops.inplace import inplace

        src = _as_tensor(src, self)
        return inplace(self, lambda s: _overwrite(s, src.to(s.dtype).expand(*s.shape)), "copy_")

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> "Tensor":
        from ..random import rng_of

        return self._fill_random(rng_of(generator).uniform(a, b, self._data.shape), "uniform_")

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> "Tensor":
        from ..random import rng_of

        return self._fill_random(rng_of(generator).normal(mean, std, self._data.shape), "normal_")

    def _fill_random(self, values: np.ndarray, op: str) -> "Tensor":
        from ..ops.inplace import check_inplace, inplace

        if grad_mode._enabled[0] and self.requires_grad:  # a non-leaf: the old value's gradient becomes zero
            new = wrap(values.astype(self._data.dtype))
            return inplace(self, lambda s: _overwrite(s, new), op)
        check_inplace(self, op)
        self._data[...] = values
        self._version_box[0] += 1
        return self

    def __iadd__(self, other: Any) -> "Tensor":
        return self.add_(other)

    def __isub__(self, other: Any) -> "Tensor":
        return self.sub_(other)

    def __imul__(self, other: Any) -> "Tensor":
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> "Tensor":
        return self.div_(other)


def _float_unary_(t: Tensor, name: str) -> Tensor:
    """t.<name>_(): the float result cannot be stored in an integer tensor, so torch refuses (no truncation)."""
    from ..ops.inplace import inplace

    if t._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}_: result type Float can't be cast to the desired output type {t.dtype} "
                           f"(shape {tuple(t.shape)})")
    return inplace(t, lambda s: getattr(s, name)(), f"{name}_")


def _overwrite(old: Tensor, new: Tensor) -> Tensor:
    """`new` as the next version of `old`: recorded as a where() so old's history gets a zero gradient."""
    if not old.requires_grad and not new.requires_grad:
        return new
    return Where.apply(np.zeros(old._data.shape, dtype=bool), old, new)
