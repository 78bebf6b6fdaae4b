"""Custom Functions computing a**3 for the higher-order tests: one right to every order, one right to first order
only (its backward leaves the tape through .detach()), one marked once_differentiable."""
import tinygrad_cnn as tg


class Cube(tg.autograd.Function):
    """a**3; backward 3 g a^2 written with Tensor ops, so it is recorded under create_graph."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * g * a * a


class LeakyCube(Cube):
    """a**3 whose backward is right to first order but computed off the tape: no second derivative."""

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * g * a.detach() ** 2


class OnceCube(Cube):
    """a**3 with a backward marked @once_differentiable: a second differentiation must raise."""

    @staticmethod
    @tg.autograd.once_differentiable
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * g * a * a
