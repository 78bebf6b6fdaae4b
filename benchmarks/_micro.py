"""Micro benchmarks: conv2d forward and backward at the LeNet-5 and CIFAR layer shapes, max/avg pooling and
log_softmax + nll_loss, each as a pair of Runs (tinygrad_cnn, torch) on the same float32 data.

Backward Runs build the forward untimed and time `out.backward(grad)` alone (input, weight and bias grads).
`conv_gemms_alone` times just the three GEMMs of one conv2d forward + backward, on preallocated operands laid out
as ops/conv.py lays them out: the floor that im2col/col2im overhead is measured against.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import tinygrad_cnn as tg
from tinygrad_cnn.nn import functional as tgF

import torch
from _timing import Run, split_timed, timed


@dataclass(frozen=True)
class ConvCase:
    label: str
    x: tuple[int, int, int, int]   # (N, C, H, W)
    w: tuple[int, int, int, int]   # (O, C, kh, kw)
    padding: int


CONVS = [
    ConvCase("LeNet C1", (50, 1, 32, 32), (6, 1, 5, 5), 0),
    ConvCase("LeNet C3", (50, 6, 14, 14), (16, 6, 5, 5), 0),
    ConvCase("CIFAR conv1", (50, 3, 32, 32), (32, 3, 5, 5), 2),
    ConvCase("CIFAR conv2", (50, 32, 16, 16), (32, 32, 5, 5), 2),
    ConvCase("CIFAR conv3", (50, 32, 8, 8), (64, 32, 5, 5), 2),
]
QUICK_CONVS = ("LeNet C3", "CIFAR conv2")


def _arrays(*shapes: tuple, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _out_shape(c: ConvCase) -> tuple[int, int, int, int]:
    N, _, H, W = c.x
    O, _, kh, kw = c.w
    return (N, O, H + 2 * c.padding - kh + 1, W + 2 * c.padding - kw + 1)


def conv_runs(c: ConvCase) -> dict[str, dict[str, Run]]:
    """{'forward': {...}, 'backward': {...}}: Runs of conv2d forward (no_grad) and backward."""
    x, w, b, g = _arrays(c.x, c.w, (c.w[0],), _out_shape(c))
    tx, tw, tb = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tgg, pg = tg.tensor(g), torch.from_numpy(g)

    def tg_fwd() -> None:
        with tg.no_grad():
            tgF.conv2d(tx, tw, tb, padding=c.padding)

    def torch_fwd() -> None:
        with torch.no_grad():
            torch.nn.functional.conv2d(px, pw, pb, padding=c.padding)

    def tg_graph():
        tx.grad = tw.grad = tb.grad = None
        return tgF.conv2d(tx, tw, tb, padding=c.padding)

    def torch_graph():
        px.grad = pw.grad = pb.grad = None
        return torch.nn.functional.conv2d(px, pw, pb, padding=c.padding)

    return {"forward": {"tinygrad_cnn": timed(tg_fwd), "torch": timed(torch_fwd)},
            "backward": {"tinygrad_cnn": split_timed(tg_graph, lambda out: out.backward(tgg)),
                         "torch": split_timed(torch_graph, lambda out: out.backward(pg))}}


def conv_fwd_bwd_run(c: ConvCase) -> Run:
    """tinygrad_cnn conv2d forward + backward (all three grads), timed together."""
    x, w, b, g = _arrays(c.x, c.w, (c.w[0],), _out_shape(c))
    tx, tw, tb = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    tgg = tg.tensor(g)

    def step() -> None:
        tx.grad = tw.grad = tb.grad = None
        tgF.conv2d(tx, tw, tb, padding=c.padding).backward(tgg)
    return timed(step)


def conv_gemms_alone(c: ConvCase) -> Run:
    """The three GEMMs of conv2d forward + backward with preallocated outputs (numpy, the same BLAS)."""
    N, O, Ho, Wo = _out_shape(c)
    K = c.w[1] * c.w[2] * c.w[3]                        # C*kh*kw
    P = Ho * Wo * N                                     # columns
    w3, cols, g3 = _arrays((O, K), (K, P), (O, P))
    out_y, out_gwt, out_gcols = np.empty((O, P), np.float32), np.empty((K, O), np.float32), np.empty((K, P), np.float32)

    def gemms() -> None:
        np.matmul(w3, cols, out=out_y)                  # forward                  (O, K) @ (K, P)
        np.matmul(cols, g3.T, out=out_gwt)              # weight grad, transposed  (K, P) @ (P, O)
        np.matmul(w3.T, g3, out=out_gcols)              # column grad              (K, O) @ (O, P)
    return timed(gemms)


def pool_runs(kind: str, shape: tuple[int, int, int, int]) -> dict[str, Run]:
    """Forward + backward of 2x2 max or average pooling (stride 2) on an (N, C, H, W) input."""
    (x,) = _arrays(shape)
    N, C, H, W = shape
    (g,) = _arrays((N, C, H // 2, W // 2), seed=1)
    tx, px = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    tgg, pg = tg.tensor(g), torch.from_numpy(g)
    tg_op = tgF.max_pool2d if kind == "max" else tgF.avg_pool2d
    torch_op = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d

    def tg_step() -> None:
        tx.grad = None
        tg_op(tx, 2).backward(tgg)

    def torch_step() -> None:
        px.grad = None
        torch_op(px, 2).backward(pg)
    return {"tinygrad_cnn": timed(tg_step), "torch": timed(torch_step)}


def loss_runs(batch: int = 50, classes: int = 10) -> dict[str, Run]:
    """Forward + backward of nll_loss(log_softmax(x)) on (batch, classes) logits."""
    (x,) = _arrays((batch, classes))
    y = np.random.default_rng(1).integers(0, classes, batch)
    tx, px = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ty, py = tg.tensor(y), torch.from_numpy(y)

    def tg_step() -> None:
        tx.grad = None
        tgF.nll_loss(tgF.log_softmax(tx, dim=1), ty).backward()

    def torch_step() -> None:
        px.grad = None
        torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(px, dim=1), py).backward()
    return {"tinygrad_cnn": timed(tg_step), "torch": timed(torch_step)}
