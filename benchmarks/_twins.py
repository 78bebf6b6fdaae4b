"""torch twins of the benchmarked tinygrad_cnn models: the same layers in the same order, so the same state_dict
keys, the same FLOPs and (after `copy_weights`) the same outputs.

The twins are written with plain torch.nn (nothing here imports tinygrad_cnn), so the comparison is with what a
PyTorch user would write: LeNet-5's C3 connection table is a (16, 6) mask multiplied into the weight in forward,
exactly as tinygrad_cnn's Conv2d(connection_table=...) does.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class MaskedConv2d(nn.Conv2d):
    """Conv2d whose weight is multiplied by a fixed (C_out, C_in) connection table in forward (LeNet-5's C3)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, table: np.ndarray) -> None:
        super().__init__(in_channels, out_channels, kernel_size)
        self.register_buffer("connection_table", torch.as_tensor(np.asarray(table, dtype=bool)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = self.connection_table[:, :, None, None].to(self.weight.dtype)  # (C_out, C_in, 1, 1)
        return self._conv_forward(x, self.weight * mask, self.bias)


def annt_lenet5(table: np.ndarray) -> nn.Sequential:
    """(N, 1, 32, 32) -> (N, 10) log-probabilities; C3 wired by `table` (16, 6)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.AvgPool2d(2),                # (N, 6, 14, 14)
        MaskedConv2d(6, 16, 5, table), nn.ReLU(), nn.AvgPool2d(2),     # (N, 16, 5, 5)
        nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(),                # (N, 120)
        nn.Linear(120, 10), nn.LogSoftmax(dim=1),
    )


def annt_cifar() -> nn.Sequential:
    """(N, 3, 32, 32) -> (N, 10): 3 x [conv 5x5 'same', max-pool 2, ReLU, BatchNorm2d], FC 1024->64->10."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding="same"), nn.MaxPool2d(2), nn.ReLU(), nn.BatchNorm2d(32),
        nn.Conv2d(32, 32, 5, padding="same"), nn.MaxPool2d(2), nn.ReLU(), nn.BatchNorm2d(32),
        nn.Conv2d(32, 64, 5, padding="same"), nn.MaxPool2d(2), nn.ReLU(), nn.BatchNorm2d(64),
        nn.Flatten(), nn.Linear(1024, 64), nn.ReLU(), nn.BatchNorm1d(64), nn.Linear(64, 10),
        nn.LogSoftmax(dim=1),
    )


class TorchExampleNet(nn.Module):
    """pytorch/examples mnist/main.py's Net: (N, 1, 28, 28) -> (N, 10) log-probabilities."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(self.dropout1(x), 1)                          # (N, 9216)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def build(name: str, tg_model) -> nn.Module:
    """The torch twin of the tinygrad_cnn model `name`, with tg_model's weights and buffers copied in."""
    if name == "annt-lenet5":
        model = annt_lenet5(tg_model[3].connection_table.numpy())
    elif name == "annt-cifar":
        model = annt_cifar()
    elif name == "torch-example-mnist":
        model = TorchExampleNet()
    elif name in ZOO_BUILDERS:
        model = zoo_namespace()[ZOO_BUILDERS[name]]()
    else:
        raise ValueError(f"no torch twin for {name!r}")
    copy_weights(tg_model, model)
    return model


ZOO_BUILDERS = {"resnet18-cifar": "resnet18_cifar", "vgg11-bn-cifar": "vgg11_bn_cifar",
                "mobilenet-v2-cifar": "mobilenet_v2_cifar", "densenet121-cifar": "densenet121_cifar"}


def zoo_namespace() -> dict:
    """tinygrad_cnn/models/cifar_zoo.py is plain torch-API source: run it with its three import lines pointed at
    torch and it builds the same networks in PyTorch (the file itself is the twin; read as text, not imported)."""
    import importlib.util

    path = importlib.util.find_spec("tinygrad_cnn.models.cifar_zoo").origin
    src = open(path).read()
    for line in ("import tinygrad_cnn as torch", "import tinygrad_cnn.nn as nn",
                 "import tinygrad_cnn.nn.functional as F"):
        if line not in src:
            raise RuntimeError(f"cifar_zoo.py no longer has {line!r}: update benchmarks/_twins.py")
        src = src.replace(line, line.replace("tinygrad_cnn", "torch"))
    ns: dict = {"__name__": "cifar_zoo_torch_twin"}
    exec(compile(src, "<cifar_zoo as torch>", "exec"), ns)
    return ns


def copy_weights(tg_model, model: nn.Module) -> None:
    """Load tg_model's state_dict into the twin; the keys must match one to one (same architecture)."""
    ours = {k: torch.from_numpy(np.array(v.numpy())) for k, v in tg_model.state_dict().items()}
    theirs = model.state_dict()
    if set(ours) != set(theirs):
        raise RuntimeError(f"twin keys differ: only tinygrad_cnn {sorted(set(ours) - set(theirs))}, "
                           f"only torch {sorted(set(theirs) - set(ours))}")
    for k, v in ours.items():
        if tuple(v.shape) != tuple(theirs[k].shape):
            raise RuntimeError(f"twin {k}: tinygrad_cnn shape {tuple(v.shape)} vs torch {tuple(theirs[k].shape)}")
    model.load_state_dict({k: v.to(theirs[k].dtype) for k, v in ours.items()})
