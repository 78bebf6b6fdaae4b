"""The tiny "Kajda" MNIST network: one 2x2 stride-3 convolution and a three-layer perceptron.

Source: the numpy-from-scratch CNN referred to in issue 5 as "Kajda". Its code could not be found in the
reference corpus, so the network follows the issue's description: Conv 2x2 stride 3 with one output channel ->
Flatten -> Linear 30 -> Linear 20 with leaky ReLU -> Linear 10, softmax/cross-entropy. Read here as: a leaky ReLU
after each of the two hidden linear layers (two linear maps in a row would collapse into one), none after the
convolution, raw logits out (train with `F.cross_entropy`).
"""
from __future__ import annotations

from .. import nn
from .recipe import Recipe

KAJDA_MNIST_RECIPE = Recipe(
    optimizer="adam", lr=0.01, batch_size=64, epochs=20, loss="cross_entropy", input_size=(1, 28, 28),
    scale=(0.0, 1.0), mean=(0.1307,), std=(0.3081,), val_fraction=1 / 6,
    scheduler="steplr", step_size=8, gamma=0.3,
    source="issue 5's description of the Kajda numpy CNN (original code not found)",
    notes="Optimizer, learning rate, schedule, batch size, epochs and input standardisation are ours (the "
          "source's are unknown), the best of a small search; the net tops out near 95.7% validation accuracy "
          "with training accuracy 97.5% (81 features, 30 and 20 hidden units), see docs/results.md.",
)


def kajda_mnist() -> nn.Sequential:
    """Conv 2x2/3 (1 map) -> 81 features -> 30 -> 20 -> 10 logits.

    Shape: (N, 1, 28, 28) -> conv (N, 1, 9, 9) [floor((28 - 2) / 3) + 1 = 9] -> (N, 81) -> (N, 30) -> (N, 20)
    -> (N, 10) logits (train with `F.cross_entropy`).
    """
    return nn.Sequential(
        nn.Conv2d(1, 1, 2, stride=3),     # 0: (N, 1, 9, 9)
        nn.Flatten(),                     # 1: (N, 81)
        nn.Linear(81, 30),                # 2
        nn.LeakyReLU(),
        nn.Linear(30, 20),                # 4
        nn.LeakyReLU(),
        nn.Linear(20, 10),                # 6: (N, 10) logits
    )
