"""torch-level functions for labelled contractions, grids and paired statistics: `tg.einsum`, `tg.meshgrid`,
`tg.std_mean`, `tg.var_mean`, and `tg.diag` / `tg.diff` / `tg.cumprod` / `tg.erf` / `tg.repeat_interleave` (each
the Tensor method of that name)."""
from __future__ import annotations

from typing import Any

from .ops.einsum import Einsum, parse_equation
from .tensor import Tensor

__all__ = ["cumprod", "diag", "diff", "einsum", "erf", "meshgrid", "repeat_interleave", "std_mean", "var_mean"]


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over labelled axes, e.g. einsum('bij,bjk->bik', a, b) (a batched matmul).

    Operands may also be given as one list (`einsum(eq, [a, b])`). Labels are letters; '...' stands for the
    remaining (broadcast) axes; without '->' the output is the ellipsis axes then the labels seen once, sorted.

    Shape: each operand has one axis per label; the output one axis per output label, of that label's size.

    Raises:
        RuntimeError: operand count or label count not matching the equation, sizes that do not broadcast,
            operands of different dtypes.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, got {type(x).__name__}")
        if x.dtype != operands[0].dtype:
            raise RuntimeError(f"einsum(): expected all operands to have the same dtype, but operand 0 is "
                               f"{operands[0].dtype} and operand {i} is {x.dtype}")
    subs, out = parse_equation(equation, [tuple(x.shape) for x in operands])
    return Einsum.apply(subs, out, *operands)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors of sizes n_1..n_k: k tensors of shape (n_1, ..., n_k) for indexing='ij',
    (n_2, n_1, n_3, ...) for 'xy' (the first two swapped, as numpy's default). torch's default (None) is 'ij'.

    Raises:
        RuntimeError: a tensor that is not 0-D or 1-D, or an unknown indexing.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: tensor {i} "
                               f"of shape {tuple(t.shape)}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:  # 'xy' is 'ij' of the first two swapped, with the results swapped back
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    k = len(flat)
    grids = [t.reshape((1,) * i + (-1,) + (1,) * (k - i - 1)).expand(*shape) for i, t in enumerate(flat)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over dim, as torch.var_mean (correction 1 by default)."""
    return (input.var(dim, unbiased, keepdim, correction=correction),
            input.mean(dim=dim, keepdim=keepdim))


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over dim, as torch.std_mean (correction 1 by default)."""
    return (input.std(dim, unbiased, keepdim, correction=correction),
            input.mean(dim=dim, keepdim=keepdim))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.diag(diagonal)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    return input.diff(n, dim, prepend, append)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return input.cumprod(dim, dtype=dtype)


def erf(input: Tensor) -> Tensor:
    return input.erf()


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """input.repeat_interleave(repeats, dim); with one tensor of counts, the indices repeated that often
    (repeat_interleave(tensor([1, 2])) == tensor([0, 1, 1]))."""
    if repeats is None:
        from .creation import arange

        return arange(input.shape[0]).repeat_interleave(input, 0, output_size=output_size)
    return input.repeat_interleave(repeats, dim, output_size=output_size)
