"""Whole-model benchmarks: a training step (zero_grad, forward, nll_loss, backward, optimiser step) and inference
(eval mode, no_grad) of each model, in tinygrad_cnn and in its torch twin, plus FLOPs and one step's memory.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tinygrad_cnn as tg
from tinygrad_cnn.nn import functional as tgF

import _twins
import torch
from _timing import Run, timed


@dataclass(frozen=True)
class ModelCase:
    name: str
    batch: int
    input_shape: tuple[int, int, int]
    optimizer: str  # "adam", "adadelta" or "sgd" (momentum 0.9), with the model's recipe learning rate
    loss: str = "nll_loss"  # the zoo models return logits: cross_entropy

    @property
    def zoo(self) -> bool:
        return self.name in ZOO


ZOO = ("resnet18-cifar", "vgg11-bn-cifar", "mobilenet-v2-cifar", "densenet121-cifar")
MODELS = [
    ModelCase("annt-lenet5", 50, (1, 32, 32), "adam"),
    ModelCase("annt-cifar", 50, (3, 32, 32), "adam"),
    ModelCase("torch-example-mnist", 64, (1, 28, 28), "adadelta"),
] + [ModelCase(name, 32, (3, 32, 32), "sgd", "cross_entropy") for name in ZOO]


def _batch(case: ModelCase, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case.batch, *case.input_shape)).astype(np.float32)  # (N, C, H, W)
    y = rng.integers(0, 10, case.batch)                                           # (N,) int64
    return x, y


def _optimizer(module, params, case: ModelCase):
    lr = tg.models.get_recipe(case.name).lr
    if case.optimizer == "adam":
        return module.optim.Adam(params, lr=lr)
    if case.optimizer == "sgd":
        return module.optim.SGD(params, lr=lr, momentum=0.9)
    return module.optim.Adadelta(params, lr=lr)


class Pair:
    """One model in both frameworks with the same weights, batch and optimiser; Runs for train and inference."""

    def __init__(self, case: ModelCase) -> None:
        self.case = case
        tg.manual_seed(0)
        self.tg_model = tg.models.get_model(case.name)
        self.torch_model = _twins.build(case.name, self.tg_model)
        x, y = _batch(case)
        self.tg_x, self.tg_y = tg.tensor(x), tg.tensor(y)
        self.torch_x, self.torch_y = torch.from_numpy(x), torch.from_numpy(y)
        self.tg_opt = _optimizer(tg, self.tg_model.parameters(), case)
        self.torch_opt = _optimizer(torch, self.torch_model.parameters(), case)

    def check_twins(self) -> float:
        """Largest |difference| of the two models' eval-mode outputs (float32): the twins compute the same."""
        self.tg_model.eval(), self.torch_model.eval()
        with tg.no_grad(), torch.no_grad():
            a = self.tg_model(self.tg_x).numpy()
            b = self.torch_model(self.torch_x).numpy()
        self.tg_model.train(), self.torch_model.train()
        return float(np.abs(a - b).max())

    def tg_step(self) -> None:
        self.tg_opt.zero_grad()
        loss = getattr(tgF, self.case.loss)(self.tg_model(self.tg_x), self.tg_y)
        loss.backward()
        self.tg_opt.step()

    def torch_step(self) -> None:
        self.torch_opt.zero_grad()
        loss = getattr(torch.nn.functional, self.case.loss)(self.torch_model(self.torch_x), self.torch_y)
        loss.backward()
        self.torch_opt.step()

    def train_runs(self) -> dict[str, Run]:
        self.tg_model.train(), self.torch_model.train()
        return {"tinygrad_cnn": timed(self.tg_step), "torch": timed(self.torch_step)}

    def infer_runs(self) -> dict[str, Run]:
        self.tg_model.eval(), self.torch_model.eval()

        def tg_infer() -> None:
            with tg.no_grad():
                self.tg_model(self.tg_x)

        def torch_infer() -> None:
            with torch.no_grad():
                self.torch_model(self.torch_x)
        return {"tinygrad_cnn": timed(tg_infer), "torch": timed(torch_infer)}

    def tracemalloc_peak(self) -> int:
        """Peak bytes numpy allocated during one tinygrad_cnn training step (numpy reports to tracemalloc)."""
        self.tg_model.train()
        self.tg_step()
        tracemalloc.start()
        self.tg_step()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak


def forward_flops(case: ModelCase) -> int:
    """FLOPs (2 per multiply-add) of the convolutions and linear layers for one sample's forward pass.

    A training step costs about 3x this: the forward GEMM plus two GEMMs of the same size in backward (the input
    gradient of the first layer is not needed, which the 3x ignores)."""
    model = _twins.build(case.name, tg.models.get_model(case.name))
    total = [0]

    def hook(m, inputs, out) -> None:
        if isinstance(m, torch.nn.Conv2d):
            k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            total[0] += 2 * k * out[0].numel()
        elif isinstance(m, torch.nn.Linear):
            total[0] += 2 * m.in_features * m.out_features

    for m in model.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        model.eval()(torch.zeros(1, *case.input_shape))
    return total[0]


def rss_step_kib(framework: str, name: str) -> int:
    """Peak RSS growth (KiB) of the second training step (after one warm-up step), in a fresh process."""
    script = Path(__file__).with_name("bench.py")
    out = subprocess.run([sys.executable, str(script), "--rss-child", framework, name], capture_output=True,
                         text=True, check=True)
    return int(json.loads(out.stdout.strip().splitlines()[-1])["kib"])


def rss_child(framework: str, name: str) -> None:
    """Entry of the --rss-child process: build everything, one warm-up step, then reset the peak (VmHWM) and run
    one more step; prints the peak growth."""
    from _system import peak_rss_kib, rss_kib

    case = next(c for c in MODELS if c.name == name)
    pair = Pair(case)
    step = pair.tg_step if framework == "tinygrad_cnn" else pair.torch_step
    step()  # the steady state: a first step also times conv algorithms (cudnn.benchmark) and creates .grad/state
    try:  # hand the freed heap back to the OS, so the next step's peak counts what that step really touches
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS
            f.write("5")
    except OSError:
        pass
    base = rss_kib()
    step()
    print(json.dumps({"kib": peak_rss_kib() - base}))
