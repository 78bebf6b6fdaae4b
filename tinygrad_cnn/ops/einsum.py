"""einsum: sums of products over labelled axes (torch.einsum), and the equation parser that validates it.

The gradient of operand i is itself an einsum: grad_out contracted with every other operand, into operand i's
labels. Two cases need care: a label only operand i has (summed away, `ij->i`) is broadcast back (expand), and a
label repeated within operand i (a diagonal, `ii->i`) is written back into the diagonal of zeros by
EinsumDiagonalScatter, the adjoint of that diagonal read (which is an Einsum again). Backwards use ops/_dual.py
calls only, so they are differentiable to any order under create_graph.
"""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from ._dual import call, expand, reshape
from ._primitive import Primitive

_LETTERS = string.ascii_letters


def parse_equation(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit per-operand labels and output labels, one letter per axis (no '...', no implicit output).

    Ellipses become fresh letters (right-aligned, broadcast like numpy); a size-1 axis broadcast against a larger
    size of the same label is renamed to a fresh letter, so every label has one size and gradients need no
    special case for it. torch's implicit output: the ellipsis axes, then the labels seen once, sorted.

    Raises:
        RuntimeError: wrong operand count, label count vs ndim, mismatched sizes, bad output labels.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): the equation '{equation}' has {len(terms)} operand(s) but {len(shapes)} "
                           f"were given (shapes {[tuple(s) for s in shapes]})")
    used = set(c for c in eq if c in _LETTERS)
    for c in eq:
        if c not in _LETTERS and c not in ",.->":
            raise RuntimeError(f"einsum(): invalid subscript given in the equation '{equation}': '{c}' (only "
                               f"letters a-z, A-Z are labels)")
    for part in terms + [rhs]:
        if part.count("...") > 1 or "." in part.replace("...", "", 1) or "-" in part or ">" in part:
            raise RuntimeError(f"einsum(): found '.' or '->' that is not part of one '...' ellipsis or one arrow "
                               f"in the equation '{equation}'")
    fresh = [c for c in _LETTERS if c not in used]
    counts = [len(t.replace("...", "")) for t in terms]
    for i, (term, shape, n) in enumerate(zip(terms, shapes, counts)):
        if "..." in term and n > len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) is more than the number "
                               f"of dimensions ({len(shape)}) for operand {i} (shape {tuple(shape)})")
        if "..." not in term and n != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does not match the number "
                               f"of dimensions ({len(shape)}) for operand {i} (shape {tuple(shape)}) and no "
                               f"ellipsis was given")
    ell_n = max([len(s) - n for t, s, n in zip(terms, shapes, counts) if "..." in t], default=0)
    ell = "".join(fresh[len(fresh) - ell_n:]) if ell_n else ""  # ellipsis axes: right-aligned, as numpy broadcasts
    subs = [t.replace("...", ell[ell_n - (len(s) - n):]) if "..." in t else t
            for t, s, n in zip(terms, shapes, counts)]
    if arrow:
        out = rhs.replace("...", ell)  # ellipsis axes an explicit output leaves out are summed, as in torch
    else:
        seen = "".join(subs)
        out = ell + "".join(sorted(c for c in set(seen) if c not in ell and seen.count(c) == 1))
    return _check_sizes(equation, subs, out, shapes)


def _check_sizes(equation: str, subs: list[str], out: str, shapes: list) -> tuple[list[str], str]:
    size: dict[str, int] = {}
    for term, shape in zip(subs, shapes):
        for c, n in zip(term, shape):
            if term.count(c) > 1 and len({m for d, m in zip(term, shape) if d == c}) > 1:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for an operand but the sizes don't match "
                                   f"(equation '{equation}', shapes {[tuple(s) for s in shapes]})")
            if c not in size or size[c] == 1:
                size[c] = n
            elif n not in (1, size[c]):
                raise RuntimeError(f"einsum(): operands do not broadcast: subscript '{c}' has size {size[c]} and "
                                   f"{n} (equation '{equation}', shapes {[tuple(s) for s in shapes]})")
    for c in out:
        if out.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output "
                               f"(equation '{equation}')")
        if c not in size:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                               f"operand (equation '{equation}')")
    spare = [c for c in _LETTERS if c not in set("".join(subs) + out)]
    renamed = []
    for term, shape in zip(subs, shapes):
        # a size-1 axis broadcast against a larger one: its own (size-1, summed) label
        renamed.append("".join(spare.pop() if n == 1 and size[c] > 1 and term.count(c) == 1 else c
                               for c, n in zip(term, shape)))
    return renamed, out


class Einsum(Primitive):
    """einsum(subs[0],...,subs[k-1] -> out) over k arrays, labels already explicit (see parse_equation).

    Called as Einsum.apply(subs, out, *operands). Shapes: operand i has one axis per letter of subs[i]; the
    output has one axis per letter of out, each of that label's size.
    """

    @staticmethod
    def forward(ctx, subs, out, *xs):
        ctx.subs, ctx.out = subs, out
        ctx.save_for_backward(*xs)
        return np.asarray(np.einsum(",".join(subs) + "->" + out, *xs, optimize=len(xs) > 1))

    @staticmethod
    def backward(ctx, g):
        xs = ctx.saved_tensors
        grads = []
        for i, x in enumerate(xs):
            if not ctx.needs_input_grad[2 + i]:
                grads.append(None)
                continue
            grads.append(_operand_grad(g, ctx.out, ctx.subs, xs, i))
        return (None, None, *grads)


def _operand_grad(g: Any, out: str, subs: list[str], xs: tuple, i: int) -> Any:
    """d(sum(g * einsum))/d xs[i]: g contracted with every other operand, into xs[i]'s labels."""
    term, shape = subs[i], tuple(xs[i].shape)
    labels = "".join(dict.fromkeys(term))                      # xs[i]'s distinct labels, first-seen order
    others = [s for j, s in enumerate(subs) if j != i]
    present = set(out + "".join(others))
    kept = "".join(c for c in labels if c in present)          # labels the contraction can produce
    ops = [g] + [x for j, x in enumerate(xs) if j != i]
    grad = g if len(ops) == 1 and kept == out else call(Einsum, [out] + others, kept, *ops)
    size = dict(zip(term, shape))
    # labels only xs[i] has were summed in forward: each of their entries gets the same gradient
    grad = expand(reshape(grad, tuple(size[c] if c in kept else 1 for c in labels)),
                  tuple(size[c] for c in labels))             # (*labels)
    if labels == term:
        return grad
    return call(EinsumDiagonalScatter, grad, labels, term, shape)


class EinsumDiagonalScatter(Primitive):
    """zeros(shape) with v written on the diagonal that labels `term` name (term has a repeated label, labels its
    distinct labels): the adjoint of reading that diagonal, einsum(term -> labels), which is its backward.

    Shapes: v (one axis per letter of labels) -> (*shape), one axis per letter of term.
    """

    @staticmethod
    def forward(ctx, v, labels, term, shape):
        ctx.labels, ctx.term = labels, term
        full = np.zeros(shape, dtype=v.dtype)
        np.einsum(term + "->" + labels, full)[...] = v         # the diagonal view of a repeated label is writeable
        return full

    @staticmethod
    def backward(ctx, g):
        return call(Einsum, [ctx.term], ctx.labels, g), None, None, None
