"""`Recipe`: a paper's training protocol as data (optimizer, lr, batch size, epochs, input preprocessing, split).

The CLI (`tinygrad-cnn train`) takes every default from the model's recipe, so `--model annt-lenet5` alone runs
the ANNT protocol; any command-line flag overrides the matching field.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """How a model was trained in its source.

    Input preprocessing, applied once to the whole uint8 data set (``training.data.preprocess``):
    pixels are zero-padded by ``(input_size[-1] - image width) / 2`` on each side (MNIST 28x28 -> 32x32 for LeNet-5),
    then mapped linearly from [0, 255] to ``scale`` (for example (-1.0, 1.0), as ANNT's loaders do), then
    standardised with ``mean``/``std`` when given (per channel, as torchvision's ``Normalize``).
    """

    optimizer: str                      # 'adam' | 'sgd' | 'adadelta' (a tg.optim class, lower case)
    lr: float
    batch_size: int
    epochs: int
    loss: str                           # 'nll_loss' (model ends in LogSoftmax) | 'cross_entropy' (raw logits)
    input_size: tuple[int, int, int]    # (C, H, W) the model expects
    scale: tuple[float, float] = (0.0, 1.0)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    val_fraction: float = 1 / 6         # validation split of the training set (MNIST: 10 000 of 60 000)
    test_batch_size: int = 1000
    momentum: float = 0.0               # sgd only
    scheduler: str | None = None        # None | 'steplr'
    step_size: int = 1                  # steplr: decay every step_size epochs
    gamma: float = 0.1                  # steplr: decay factor
    source: str = ""                    # where the protocol comes from
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return asdict(self)
