"""Base of the built-in primitives: a torch-style Function that works on numpy arrays."""
from __future__ import annotations

from ..autograd.function import Function


class Primitive(Function):
    """forward(ctx, *arrays_or_constants) -> array; backward(ctx, grad_out) -> one array-or-None per argument.

    The node shows as `<Name>Backward0`, like torch's built-ins (`MulBackward0`).
    """

    array_function = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "_backward_name" not in cls.__dict__:  # a class may spell torch's name itself (ReluBackward0)
            cls._backward_name = cls.__name__ + "Backward0"
