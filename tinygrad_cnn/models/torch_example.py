"""The network of PyTorch's examples/mnist (`main.py`), with the same attribute names.

Its module names are the example's (`conv1`, `conv2`, `dropout1`, `dropout2`, `fc1`, `fc2`), not Sequential
indices, so a `state_dict` saved by the real PyTorch example loads as is.
"""
from __future__ import annotations

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor
from .recipe import Recipe

TORCH_EXAMPLE_MNIST_RECIPE = Recipe(
    optimizer="adadelta", lr=1.0, batch_size=64, epochs=14, loss="nll_loss", input_size=(1, 28, 28),
    scale=(0.0, 1.0), mean=(0.1307,), std=(0.3081,), val_fraction=1 / 6, test_batch_size=1000,
    scheduler="steplr", step_size=1, gamma=0.7,
    source="pytorch/examples mnist/main.py (Adadelta lr 1.0, StepLR(step_size=1, gamma=0.7), batch 64, "
           "14 epochs, Normalize((0.1307,), (0.3081,)))",
    notes="The example trains on all 60 000 images and reports the test set each epoch; here 10 000 are held out "
          "for validation like the other MNIST recipes.",
)


class TorchExampleNet(nn.Module):
    """Conv 3x3 32 -> ReLU -> Conv 3x3 64 -> ReLU -> MaxPool 2 -> Dropout .25 -> Flatten -> Linear 9216->128 ->
    ReLU -> Dropout .5 -> Linear 128->10 -> log_softmax.

    Shape: (N, 1, 28, 28) -> (N, 32, 26, 26) -> (N, 64, 24, 24) -> (N, 64, 12, 12) -> (N, 9216) -> (N, 128)
    -> (N, 10) log-probabilities (train with `F.nll_loss`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = x.flatten(1)                  # (N, 9216)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def torch_example_mnist() -> TorchExampleNet:
    """The PyTorch examples/mnist network (see `TorchExampleNet`)."""
    return TorchExampleNet()
