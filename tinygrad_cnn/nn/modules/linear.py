"""Linear and Identity (torch.nn.Linear, torch.nn.Identity)."""
from __future__ import annotations

from typing import Any

from .. import functional as F
from .. import init
from ...tensor import Tensor
from ._utils import check_features, empty_parameter, factory_dtype
from .module import Module

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Returns its input unchanged; takes (and ignores) any constructor arguments, as torch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,).

    Shape:
        input (*, in_features) -> (*, out_features).

    Init as torch: weight ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in_features), 1/sqrt(in_features)),
    bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).

    Raises:
        RuntimeError: "Linear(in_features=120) got input with 84 features, shape (50, 84)".
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dt = factory_dtype(dtype, device, "Linear")
        self.weight = empty_parameter((out_features, in_features), dt)
        if bias:
            self.bias = empty_parameter(out_features, dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._reset_weight_and_bias_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        check_features(f"Linear(in_features={self.in_features})", self.in_features, input)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
