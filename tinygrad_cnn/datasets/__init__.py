"""`tg.datasets`: MNIST, FashionMNIST, CIFAR10 and SyntheticDigits (torchvision's item format); `transforms`.

Files are looked up under a data root (argument, then $TINYGRAD_CNN_DATA, then ~/.cache/tinygrad_cnn) and
verified against hard-coded digests; see docs/data.md.
"""
from . import transforms  # noqa: F401
from ._download import ENV_VAR, DatasetNotFoundError, IntegrityError, data_roots, default_cache_dir
from .cifar import CIFAR10
from .mnist import MNIST, FashionMNIST
from .synthetic import SyntheticDigits
from .vision import VisionDataset

__all__ = ["CIFAR10", "DatasetNotFoundError", "ENV_VAR", "FashionMNIST", "IntegrityError", "MNIST",
           "SyntheticDigits", "VisionDataset", "data_roots", "default_cache_dir", "transforms"]
