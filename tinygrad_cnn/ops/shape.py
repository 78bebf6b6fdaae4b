"""Shape primitives: reshape, permute, expand, cat, pad. Their gradients move or sum values; no arithmetic."""
from __future__ import annotations

import numpy as np

from ._dual import call, permute, reshape, sum_to
from ._primitive import Primitive


class Reshape(Primitive):
    """x.reshape(shape) / view / flatten / squeeze / unsqueeze: the gradient is reshaped back."""

    view_op = True  # the output may share the input's memory (see autograd.function._mark_view)

    _backward_name = "ViewBackward0"  # torch's node for a reshape that is a view

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.in_shape), None


class View(Reshape):
    """x.view(shape): like reshape but refuses to copy (torch raises when strides are incompatible)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.reshape(x, shape, copy=False)


class Permute(Primitive):
    """x.permute(dims) / transpose / .T: the gradient is permuted by the inverse permutation."""

    view_op = True  # the output may share the input's memory (see autograd.function._mark_view)

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return permute(g, tuple(int(d) for d in np.argsort(ctx.dims))), None


class Expand(Primitive):
    """x.expand(shape): a broadcast view; the gradient is summed over the expanded dims."""

    view_op = True  # the output may share the input's memory (see autograd.function._mark_view)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape), None


class Cat(Primitive):
    """cat(tensors, dim): the gradient is split back along dim. Called as Cat.apply(dim, *tensors)."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        ends = np.cumsum(ctx.sizes)
        lead = (slice(None),) * ctx.dim
        return (None, *[g[lead + (slice(int(e - n), int(e)),)] if need else None
                        for n, e, need in zip(ctx.sizes, ends, ctx.needs_input_grad[1:])])


class Pad(Primitive):
    """Constant padding: pads is ((before, after), ...) per axis, possibly negative (cropping). Gradient: the crop."""

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        ctx.in_shape = x.shape
        grow = [(max(b, 0), max(a, 0)) for b, a in pads]
        out = np.pad(x, grow, mode="constant", constant_values=value) if any(b or a for b, a in grow) else x
        crop = tuple(slice(-min(b, 0), out.shape[i] + min(a, 0)) for i, (b, a) in enumerate(pads))
        return out[crop]

    @staticmethod
    def backward(ctx, g):
        # the adjoint of padding is the opposite padding: crop what was added, zero-pad what was cropped
        return call(Pad, g, tuple((-b, -a) for b, a in ctx.pads), 0), None, None
