"""parameters_to_vector and vector_to_parameters (torch.nn.utils names and semantics).

    vec = tg.nn.utils.parameters_to_vector(model.parameters())      # (P,), differentiable w.r.t. the parameters
    tg.nn.utils.vector_to_parameters(vec * 0.5, model.parameters())  # each .data becomes a view of the vector
"""
from __future__ import annotations

from typing import Iterable

from ... import creation
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated in order. Shape: -> (sum of numel,).

    Gradients flow back to each parameter (it is view(-1) + cat, as torch).

    Raises:
        ValueError: no parameters (cat of an empty list, as torch).
    """
    return creation.cat([param.view(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set each parameter's .data to the next numel elements of vec, viewed in the parameter's shape (sharing vec's
    memory, as torch). Not recorded by autograd.

    Raises:
        TypeError: vec not a Tensor.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
