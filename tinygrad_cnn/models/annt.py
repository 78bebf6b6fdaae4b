"""The two convolutional networks of ANNT (cvsandbox, "Artificial Neural Networks C++ library", 2018).

Both are written as `nn.Sequential`, so their state_dict keys (`0.weight`, `3.bias`, ...) are the keys of the same
network written with torch.nn.Sequential, and torch weights load with `load_state_dict`.
"""
from __future__ import annotations

import math

from .. import nn
from ..autograd import no_grad
from .recipe import Recipe

ANNT_LENET5_RECIPE = Recipe(
    optimizer="adam", lr=0.002, batch_size=50, epochs=20, loss="nll_loss", input_size=(1, 32, 32),
    scale=(-1.0, 1.0), val_fraction=1 / 6,
    source="ANNT examples/cnn_mnist (MNISTParser scales pixels to [-1, 1] and pads 28x28 by 2 with the "
           "background value; the last 10 000 training images are the validation set; Adam 0.002, batch 50, "
           "20 epochs)",
    notes="Here the 50 000/10 000 split is a seeded random split (ANNT takes the last 10 000 images).",
)

ANNT_CIFAR_RECIPE = Recipe(
    optimizer="adam", lr=0.001, batch_size=50, epochs=20, loss="nll_loss", input_size=(3, 32, 32),
    scale=(-1.0, 1.0), val_fraction=1 / 8,
    source="ANNT examples/cnn_cifar10 (pixels scaled to [-1, 1]; 43 750/6 250 train/validation split; "
           "Adam 0.001, batch 50, 20 epochs, negative log-likelihood)",
)


def annt_init_(model: nn.Module) -> nn.Module:
    """ANNT's initialisation (`Randomize()` of its convolution and fully connected layers): weights uniform in
    +-sqrt(3 / fan_in) (variance 1 / fan_in; fan_in = C_in * kh * kw, or in_features), biases zero.

    torch's default is narrower (+-1 / sqrt(fan_in), variance 1 / (3 fan_in)) and draws the biases too. Weights of
    connections absent from a connection table stay zero. Returns the model.
    """
    with no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                bound = math.sqrt(3.0 / fan_in)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)
                table = getattr(m, "connection_table", None)
                if table is not None:
                    m.weight.mul_(table[:, :, None, None].to(m.weight.dtype))
    return model


def annt_lenet5() -> nn.Sequential:
    """LeNet-5 as in ANNT's MNIST example: ReLU and average pooling, C3 with LeCun's connection table.

    Shape: (N, 1, 32, 32) -> (N, 10) log-probabilities (train with `F.nll_loss`).
    Layers: C1 conv 5x5 1->6 (28x28) -> ReLU -> avg-pool 2 (14x14) -> C3 conv 5x5 6->16 with
    `nn.LENET5_C3_TABLE` (10x10) -> ReLU -> avg-pool 2 (5x5) -> C5 conv 5x5 16->120 (1x1) -> ReLU -> flatten ->
    F6 linear 120->10 -> LogSoftmax. Initialised as ANNT does (`annt_init_`).
    """
    return annt_init_(nn.Sequential(
        nn.Conv2d(1, 6, 5),                                           # 0: (N, 6, 28, 28)
        nn.ReLU(),
        nn.AvgPool2d(2),                                              # 2: (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5, connection_table=nn.LENET5_C3_TABLE),     # 3: (N, 16, 10, 10)
        nn.ReLU(),
        nn.AvgPool2d(2),                                              # 5: (N, 16, 5, 5)
        nn.Conv2d(16, 120, 5),                                        # 6: (N, 120, 1, 1)
        nn.ReLU(),
        nn.Flatten(),                                                 # 8: (N, 120)
        nn.Linear(120, 10),                                           # 9: (N, 10)
        nn.LogSoftmax(dim=1),
    ))


def annt_cifar() -> nn.Sequential:
    """ANNT's CIFAR-10 network: 3 x [conv 5x5 'same', max-pool 2, ReLU, BatchNorm2d], FC 1024->64, FC 64->10.

    Shape: (N, 3, 32, 32) -> (N, 10) log-probabilities (train with `F.nll_loss`).
    ANNT applies ReLU after max-pooling (the same result as before it, on a quarter of the values).
    Initialised as ANNT does (`annt_init_`).
    """
    return annt_init_(nn.Sequential(
        nn.Conv2d(3, 32, 5, padding="same"),                          # 0: (N, 32, 32, 32)
        nn.MaxPool2d(2),                                              # 1: (N, 32, 16, 16)
        nn.ReLU(),
        nn.BatchNorm2d(32),                                           # 3
        nn.Conv2d(32, 32, 5, padding="same"),                         # 4: (N, 32, 16, 16)
        nn.MaxPool2d(2),                                              # 5: (N, 32, 8, 8)
        nn.ReLU(),
        nn.BatchNorm2d(32),                                           # 7
        nn.Conv2d(32, 64, 5, padding="same"),                         # 8: (N, 64, 8, 8)
        nn.MaxPool2d(2),                                              # 9: (N, 64, 4, 4)
        nn.ReLU(),
        nn.BatchNorm2d(64),                                           # 11
        nn.Flatten(),                                                 # 12: (N, 1024)
        nn.Linear(1024, 64),                                          # 13
        nn.ReLU(),
        nn.BatchNorm1d(64),                                           # 15
        nn.Linear(64, 10),                                            # 16
        nn.LogSoftmax(dim=1),
    ))
