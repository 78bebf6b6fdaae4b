"""Torch twins of tinygrad_cnn/models/cifar_zoo.py: the module's own source executed with its three import lines
pointed at torch (so the test also proves the file is plain PyTorch), and a helper to copy weights across."""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from tinygrad_cnn.models import cifar_zoo

IMPORTS = ("import tinygrad_cnn as torch", "import tinygrad_cnn.nn as nn", "import tinygrad_cnn.nn.functional as F")


def torch_zoo() -> dict[str, Any]:
    """cifar_zoo's namespace built with torch in place of tinygrad_cnn (needs torch)."""
    src = inspect.getsource(cifar_zoo)
    for line in IMPORTS:
        assert line in src
        src = src.replace(line, line.replace("tinygrad_cnn", "torch"))
    assert "tinygrad_cnn" not in src.split('"""', 2)[2]  # nothing else in the code refers to tinygrad_cnn
    ns: dict[str, Any] = {"__name__": "cifar_zoo_torch_twin"}
    exec(compile(src, "<cifar_zoo as torch>", "exec"), ns)
    return ns


def randomised_state(model: Any, seed: int, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """A torch model's state_dict as arrays, BatchNorm statistics/affine drawn away from their identity defaults."""
    rng = np.random.default_rng(seed)
    state = {}
    for k, v in model.state_dict().items():
        a = v.detach().numpy()
        if a.dtype.kind == "f":
            a = a.astype(dtype)
            if k.endswith("running_mean") or (k.endswith("bias") and a.ndim == 1):
                a = rng.normal(0, 0.1, a.shape).astype(dtype)
            elif k.endswith("running_var"):
                a = rng.uniform(0.5, 1.5, a.shape).astype(dtype)
            elif k.endswith("weight") and a.ndim == 1:
                a = rng.uniform(0.8, 1.2, a.shape).astype(dtype)
        state[k] = a
    return state

