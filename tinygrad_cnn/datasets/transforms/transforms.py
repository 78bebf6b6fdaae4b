"""Transform classes with torchvision's names, arguments, formulas and error messages.

Two image kinds, as torchvision's PIL images and tensors:
  * a numpy array (H, W) or (H, W, C), typically uint8: what the data sets hand to `transform` (our PIL image);
  * a Tensor (..., H, W), e.g. (C, H, W) after ToTensor, or a whole batch (N, C, H, W).
Geometric transforms keep the kind they are given. Random transforms draw from the global generator when called
(seeded by `tg.manual_seed`), one draw per call, so a batch passed whole gets one crop or flip, as in torchvision
(see batch.py for per-sample draws). Except Normalize, transforms are not recorded by autograd.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

import numpy as np

from ...random import default_rng
from ...tensor import Tensor
from . import functional as F

__all__ = ["Compose", "Lambda", "ToTensor", "Normalize", "Pad", "CenterCrop", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip"]

_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


class Compose:
    """Apply transforms in order: Compose([t1, t2])(x) == t2(t1(x))."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(" + "".join(f"\n    {t!r}" for t in self.transforms) + "\n)"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


class ToTensor:
    """numpy (H, W) or (H, W, C) -> Tensor (C, H, W); uint8 values are divided by 255 into float32 [0, 1].

    Other dtypes are transposed but keep their values and dtype (torchvision's rule for non-byte arrays).
    """

    def __call__(self, pic: np.ndarray) -> Tensor:
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))  # (C, H, W)
        if arr.dtype == np.uint8:
            arr = arr.astype(np.float32)
            arr /= np.float32(255)  # float32 division, as torch's img.float().div(255)
        return Tensor._wrap(arr)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """out[c] = (x[c] - mean[c]) / std[c] over a float tensor (..., C, H, W); differentiable.

    Raises TypeError for a non-Tensor or non-float input, ValueError for a std of zero or a channel mismatch.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        if not tensor.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                             f"{tuple(tensor.shape)}")
        dtype = tensor._data.dtype
        mean = np.asarray(self.mean, dtype=dtype).reshape(-1)
        std = np.asarray(self.std, dtype=dtype).reshape(-1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by "
                             f"zero.")
        channels = tensor.shape[-3]
        for name, v in (("mean", mean), ("std", std)):
            if v.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {v.size} values but the image has {channels} channels "
                                 f"(shape {tuple(tensor.shape)})")
        m, s = Tensor._wrap(mean.reshape(-1, 1, 1)), Tensor._wrap(std.reshape(-1, 1, 1))  # (C, 1, 1)
        return tensor.sub_(m).div_(s) if self.inplace else (tensor - m) / s

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Pad:
    """Pad the borders: padding p (all sides), (left/right, top/bottom) or (left, top, right, bottom).

    E.g. Pad(2) turns MNIST's 28x28 into LeNet-5's 32x32. padding_mode: constant (with `fill`), edge, reflect,
    symmetric.
    """

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in _PAD_MODES:
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                             f"tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class CenterCrop:
    """The central (h, w) window (zero-padded first when the image is smaller)."""

    def __init__(self, size: Any) -> None:
        self.size = F._size_pair(size, "CenterCrop")

    def __call__(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """A random (h, w) window, after optional padding; top and left are uniform over the valid positions.

    As torchvision: pad by `padding` first (Pad's forms), then, with `pad_if_needed`, pad a too-small side up to
    the crop size; top = randint(0, H - h + 1), then left = randint(0, W - w + 1).
    Raises ValueError when the crop is larger than the (padded) image.
    """

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False, fill: Any = 0,
                 padding_mode: str = "constant") -> None:
        self.size = F._size_pair(size, "RandomCrop")
        if padding_mode not in _PAD_MODES:
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, h, w) of a random crop, drawn from the global generator."""
        h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        rng = default_rng()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return i, j, th, tw

    def __call__(self, img: Any) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        h, w = F.get_dimensions(img)
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = F.pad(img, [tw - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = F.pad(img, [0, th - h], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability p (one uniform draw per call: flip when it is < p)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        return F.hflip(img) if default_rng().random() < self.p else img

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomVerticalFlip:
    """Mirror top-bottom with probability p."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        return F.vflip(img) if default_rng().random() < self.p else img

    def __repr__(self) -> str:
        return f"RandomVerticalFlip(p={self.p})"
