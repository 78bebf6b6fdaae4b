"""VisionDataset: the shared item logic of the image-classification data sets (MNIST, CIFAR10, SyntheticDigits).

Images are kept as one uint8 numpy array, (N, H, W) or (N, H, W, C); labels as int64. Items follow torchvision with
one deviation (we have no PIL): with `transform=None` an image comes out as a float32 Tensor (C, H, W) in [0, 1],
exactly what torchvision's `ToTensor()` makes of the PIL image. A given `transform` receives the uint8 numpy image
(H, W) or (H, W, C), the stand-in for the PIL image, so `Compose([ToTensor(), Normalize(...)])` works unchanged.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

from ..tensor import Tensor
from ..utils.data.collate import default_collate
from ..utils.data.dataset import Dataset, TensorDataset

__all__ = ["VisionDataset", "to_float_chw"]


def to_float_chw(images: np.ndarray, channels_last: bool) -> np.ndarray:
    """uint8 (*, H, W) -> float32 (*, 1, H, W), or (*, H, W, C) -> (*, C, H, W) when channels_last; in [0, 1].

    The same numbers as torchvision's ToTensor: a float32 division by 255 (not a multiplication by 1/255).
    """
    x = images.astype(np.float32)
    x /= np.float32(255)
    if channels_last:
        return np.moveaxis(x, -1, -3)  # (*, C, H, W), a view
    return x[..., None, :, :]  # (*, 1, H, W)


class VisionDataset(Dataset):
    """Base class: subclasses fill `self.data` ((N, H, W) or (N, H, W, C) uint8) and `self.targets` (N labels).

    `data`/`targets` may be replaced after construction (e.g. `ds.data = ds.data[:1000]`), as with torchvision.
    """

    channels_last = False  # True when data is (N, H, W, C) (CIFAR), False for grey (N, H, W)
    classes: Sequence[str] = ()

    def __init__(self, root: str | os.PathLike | None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = root
        self.transform = transform
        self.target_transform = target_transform
        self._labels_cache: tuple = (None, None)

    # --- storage --------------------------------------------------------------------------------------------
    def _images(self) -> np.ndarray:
        data = self.data
        return data._data if isinstance(data, Tensor) else np.asarray(data)

    def _labels(self) -> np.ndarray:
        """The targets as int64 numpy, converted once per `targets` object (CIFAR's are a Python list)."""
        src, arr = self._labels_cache
        if src is not self.targets:
            t = self.targets
            arr = t._data if isinstance(t, Tensor) else np.asarray(t, dtype=np.int64)
            self._labels_cache = (self.targets, arr)
        return arr

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    # --- items ----------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple:
        """(image, target): image float32 (C, H, W) in [0, 1], or `transform(uint8 image)`; target an int."""
        img = self._images()[index]
        target = int(self._labels()[index])
        if self.transform is None:
            img = Tensor._wrap(to_float_chw(img, self.channels_last))
        else:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        """The collated batch [images (B, C, H, W), targets (B,)]; vectorised when there are no transforms."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.transform is None and self.target_transform is None:
            images = to_float_chw(self._images()[idx], self.channels_last)  # (B, C, H, W)
            return [Tensor._wrap(images), Tensor._wrap(self._labels()[idx].astype(np.int64))]
        return default_collate([self[i] for i in idx.tolist()])

    def as_tensor_dataset(self, transform: Callable | None = None) -> TensorDataset:
        """All images as one float32 Tensor (N, C, H, W) in [0, 1] plus int64 labels (N,), for fast batching.

        `transform`, if given, is applied once to the whole image tensor (so it must accept (N, C, H, W), as
        Normalize and Pad do); the dataset's own transform and target_transform are not used here.
        """
        images = Tensor._wrap(to_float_chw(self._images(), self.channels_last))
        if transform is not None:
            images = transform(images)
        return TensorDataset(images, Tensor._wrap(self._labels().astype(np.int64)))

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"    Root location: {self.root}")
        lines += ["    " + line for line in self.extra_repr().splitlines()]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)
