"""The vectorised data pipeline: a whole data set preprocessed once into float32 arrays, batches by fancy indexing.

`load_split` reads a data set through `tg.datasets` (which finds or downloads the files), takes its raw uint8
images, and `preprocess` turns them into the (N, C, H, W) float32 array the model expects. Training batches then
come from `DataLoader(TensorDataset(x, y))`, whose fast path gathers a batch with one fancy index, so an epoch's time
is the model's time.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from .. import datasets as tg_datasets
from ..random import Generator
from ..tensor import Tensor
from ..utils.data import random_split

DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10", "synthetic": "SyntheticDigits"}


class Arrays(NamedTuple):
    """A preprocessed split: images (N, C, H, W) float32, labels (N,) int64, class names."""

    x: np.ndarray
    y: np.ndarray
    classes: list[str]


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach"):          # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def dataset_class(name: str) -> type:
    """The `tg.datasets` class behind a command-line data set name (ValueError listing the valid names)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    cls = getattr(tg_datasets, DATASETS[name], None)
    if cls is None:
        raise RuntimeError(f"tg.datasets.{DATASETS[name]} is not available in this build")
    return cls


def raw_arrays(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """The raw images as (N, C, H, W) and labels as (N,) int64 of a torchvision-style data set (`.data`,
    `.targets`); MNIST-like (N, H, W) gets a channel axis and CIFAR-like (N, H, W, 3) is transposed."""
    images = _numpy(dataset.data)
    labels = _numpy(dataset.targets).astype(np.int64)
    if images.ndim == 3:
        images = images[:, None]                                  # (N, 1, H, W)
    elif images.ndim == 4 and images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
        images = images.transpose(0, 3, 1, 2)                     # (N, H, W, C) -> (N, C, H, W)
    return images, labels


def preprocess(images: np.ndarray, input_size: Sequence[int], scale: Sequence[float] = (0.0, 1.0),
               mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> np.ndarray:
    """Raw images (N, C, h, w) (uint8 in [0, 255], or floats in [0, 1]) -> float32 (N, C, H, W) model inputs.

    Zero-pads (with the background value) by (H - h) / 2 on each side, maps [0, 255] linearly onto `scale`, then
    standardises per channel with `mean` / `std` when given.
    Raises ValueError when the channels differ or the image is larger than the model's input or the margin is odd.
    """
    c, height, width = input_size
    n, ci, h, w = images.shape
    if ci != c or h > height or w > width or (height - h) % 2 or (width - w) % 2:
        raise ValueError(f"the model expects {c}x{height}x{width} inputs but the data set has {ci}x{h}x{w} images")
    x = images.astype(np.float32)
    if images.dtype == np.uint8:
        x /= np.float32(255.0)
    lo, hi = (np.float32(v) for v in scale)
    x = x * (hi - lo) + lo                                        # background (0) becomes lo
    ph, pw = (height - h) // 2, (width - w) // 2
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=lo)  # (N, C, H, W)
    if mean is not None and std is not None:
        m = np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
        s = np.asarray(std, np.float32).reshape(1, -1, 1, 1)
        x = (x - m) / s
    return np.ascontiguousarray(x, dtype=np.float32)


def load_split(name: str, train: bool, root: str | None = None, download: bool = True,
               **dataset_kwargs: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raw (images (N, C, h, w), labels (N,), class names) of one split of a named data set."""
    cls = dataset_class(name)
    kwargs: dict[str, Any] = dict(train=train, **dataset_kwargs)
    if name != "synthetic":             # drawn, not read: no files
        kwargs["download"] = download
        if root is not None:
            kwargs["root"] = root
    ds = cls(**kwargs)
    images, labels = raw_arrays(ds)
    classes = list(getattr(ds, "classes", None) or [str(i) for i in range(int(labels.max()) + 1)])
    return images, labels, classes


def split_train_val(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/validation index split (`random_split` with its own generator, so the global RNG and
    the model's initialisation do not depend on it). val_fraction 1/6 of MNIST's 60 000 gives 50 000/10 000."""
    n_val = int(round(n * val_fraction))
    if n_val <= 0:
        return np.arange(n), np.arange(0)
    parts = random_split(range(n), [n - n_val, n_val], generator=Generator().manual_seed(seed))
    return np.asarray(parts[0].indices, np.int64), np.asarray(parts[1].indices, np.int64)


def limit(indices: np.ndarray, count: int | None) -> np.ndarray:
    """The first `count` indices (all when count is None): a quick run on a subset."""
    return indices if count is None else indices[:count]
