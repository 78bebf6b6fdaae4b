"""Hessian-vector product of LeNet-5 (double backward over all parameters) against a first-order training step,
in tinygrad_cnn and torch, one thread each, interleaved windows (see _timing.py).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_hvp.py [--window 0.5] [--repeats 7]

An HVP here is: forward, loss, grads = autograd.grad(loss, params, create_graph=True), then
autograd.grad(grads, params, v) for a fixed random v. Results: docs/benchmarks.md.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.nn import functional as tgF  # noqa: E402

import _models  # noqa: E402
from _timing import interleave, timed  # noqa: E402


def hvp_runs(pair: "_models.Pair") -> dict:
    rng = np.random.default_rng(1)
    tg_params = list(pair.tg_model.parameters())
    th_params = list(pair.torch_model.parameters())
    v_np = [rng.standard_normal(tuple(p.shape)).astype(np.float32) for p in tg_params]
    tg_v = [tg.tensor(v) for v in v_np]
    th_v = [torch.from_numpy(v) for v in v_np]

    def tg_hvp() -> list:
        loss = tgF.nll_loss(pair.tg_model(pair.tg_x), pair.tg_y)
        grads = tg.autograd.grad(loss, tg_params, create_graph=True)
        return tg.autograd.grad(grads, tg_params, tg_v)

    def th_hvp() -> list:
        loss = torch.nn.functional.nll_loss(pair.torch_model(pair.torch_x), pair.torch_y)
        grads = torch.autograd.grad(loss, th_params, create_graph=True)
        return torch.autograd.grad(grads, th_params, th_v)

    a, b = tg_hvp(), th_hvp()
    worst = max(float(np.abs(x.numpy() - y.numpy()).max() / (np.abs(y.numpy()).max() + 1e-30)) for x, y in zip(a, b))
    return {"tinygrad_cnn hvp": timed(tg_hvp), "torch hvp": timed(th_hvp)}, worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    pair = _models.Pair(_models.MODELS[0])  # annt-lenet5, batch 50
    pair.tg_model.train(), pair.torch_model.train()
    runs, worst = hvp_runs(pair)
    runs.update({"tinygrad_cnn step": timed(pair.tg_step), "torch step": timed(pair.torch_step)})
    t = interleave(runs, args.window, args.repeats)
    for name, sec in t.items():
        print(f"{name:20s} {sec * 1e3:8.2f} ms")
    print(f"tinygrad_cnn hvp / own training step : {t['tinygrad_cnn hvp'] / t['tinygrad_cnn step']:.2f}x")
    print(f"torch hvp / own training step        : {t['torch hvp'] / t['torch step']:.2f}x")
    print(f"hvp time tinygrad_cnn / torch        : {t['tinygrad_cnn hvp'] / t['torch hvp']:.2f}x")
    print(f"largest relative difference of H v (float32): {worst:.2e}")


if __name__ == "__main__":
    main()
