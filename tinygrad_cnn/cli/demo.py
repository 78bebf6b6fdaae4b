"""`tinygrad-cnn demo`: the main job of `make demo`."""
from __future__ import annotations

import argparse
from typing import Sequence


def _demo(args: argparse.Namespace) -> int:
    """Until the training stack lands: a two-layer MLP on a synthetic two-spirals problem, trained with plain SGD."""
    import numpy as np

    import tinygrad_cnn as tg

    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 400
    t = rng.uniform(0.25, 3.0, n) * np.pi
    label = rng.integers(0, 2, n)
    r = t / (3 * np.pi)
    xy = np.stack([r * np.cos(t + np.pi * label), r * np.sin(t + np.pi * label)], 1) + rng.normal(0, 0.02, (n, 2))
    x = tg.tensor(xy, dtype=tg.float32)
    y = tg.tensor(label)
    w1 = (tg.randn(2, 64) * 0.5).requires_grad_()
    b1 = tg.zeros(64, requires_grad=True)
    w2 = (tg.randn(64, 2) * 0.1).requires_grad_()
    b2 = tg.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2]
    for step in range(2000):
        logits = (x @ w1 + b1).tanh() @ w2 + b2
        logp = logits - logits.exp().sum(1, keepdim=True).log()
        loss = -logp[tg.arange(n), y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in params:
                p -= 0.5 * p.grad
        if step % 500 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    acc = (logits.argmax(1) == y).float().mean().item()
    print(f"two-spirals MLP train accuracy: {acc:.1%}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("demo", help="the main job of `make demo`").set_defaults(func=_demo)
