"""`tg.datasets.transforms`: torchvision-style transforms for numpy images and Tensors (see transforms.py)."""
from . import functional  # noqa: F401
from .batch import BatchRandomCrop, BatchRandomHorizontalFlip
from .transforms import (CenterCrop, Compose, Lambda, Normalize, Pad, RandomCrop, RandomHorizontalFlip,
                         RandomVerticalFlip, ToTensor)

__all__ = ["BatchRandomCrop", "BatchRandomHorizontalFlip", "CenterCrop", "Compose", "Lambda", "Normalize", "Pad",
           "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "ToTensor", "functional"]
