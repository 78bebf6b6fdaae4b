"""Functional forms of the transforms (torchvision.transforms.functional): pad, crop, center_crop, flips.

Images are numpy arrays (H, W) or (H, W, C) (our stand-in for PIL images) or Tensors (..., H, W); each function
returns the kind it was given. They work on the arrays, so they are not recorded by autograd.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from ...tensor import Tensor

__all__ = ["pad", "crop", "center_crop", "hflip", "vflip", "get_dimensions"]


def _array(img: Any) -> tuple[np.ndarray, int, bool]:
    """(array, axis of H, is_tensor): Tensors are (..., H, W); numpy images (H, W) or (H, W, C)."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"expected a tensor image (..., H, W), got shape {tuple(img.shape)}")
        return img._data, img.ndim - 2, True
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"expected a numpy image (H, W) or (H, W, C), got shape {img.shape}")
        return img, 0, False
    raise TypeError(f"img should be a Tensor or a numpy array. Got {type(img)}")


def _size_pair(size: Any, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{name}: please provide only two dimensions (h, w) for size, got {size!r}")


def _ltrb(padding: Any) -> tuple[int, int, int, int]:
    """torchvision's padding forms: p, (p,), (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        return (int(padding),) * 4
    if len(padding) == 1:
        return (int(padding[0]),) * 4
    if len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    return tuple(int(p) for p in padding)  # type: ignore[return-value]


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """Pad the H and W axes: numpy's modes equal torchvision's (reflect omits the edge, symmetric repeats it).

    Negative padding crops that side, as torchvision does for tensors.
    """
    arr, h_axis, is_tensor = _array(img)
    left, top, right, bottom = _ltrb(padding)
    widths = [(0, 0)] * arr.ndim
    widths[h_axis], widths[h_axis + 1] = (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))
    if padding_mode == "constant":
        fill_is_seq = isinstance(fill, Sequence)
        out = np.pad(arr, widths, mode="constant", constant_values=0 if fill_is_seq else fill)
        if fill_is_seq and out.ndim == 3 and not is_tensor:  # a colour per channel, as for PIL RGB images
            mask = np.ones(out.shape[:2], bool)
            mask[widths[0][0]:out.shape[0] - widths[0][1], widths[1][0]:out.shape[1] - widths[1][1]] = False
            out[mask] = np.asarray(fill, dtype=out.dtype)
    else:
        out = np.pad(arr, widths, mode=padding_mode)
    crop = [slice(None)] * out.ndim
    crop[h_axis] = slice(max(-top, 0), out.shape[h_axis] - max(-bottom, 0))
    crop[h_axis + 1] = slice(max(-left, 0), out.shape[h_axis + 1] - max(-right, 0))
    out = out[tuple(crop)]
    return Tensor._wrap(out) if is_tensor else out


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """img[..., top:top+height, left:left+width] (a copy)."""
    arr, h_axis, is_tensor = _array(img)
    idx = [slice(None)] * arr.ndim
    idx[h_axis], idx[h_axis + 1] = slice(top, top + height), slice(left, left + width)
    out = arr[tuple(idx)].copy()
    return Tensor._wrap(out) if is_tensor else out


def _flip(img: Any, axis_offset: int) -> Any:
    arr, h_axis, is_tensor = _array(img)
    out = np.flip(arr, axis=h_axis + axis_offset).copy()
    return Tensor._wrap(out) if is_tensor else out


def hflip(img: Any) -> Any:
    """Mirror left-right (reverse the W axis)."""
    return _flip(img, 1)


def vflip(img: Any) -> Any:
    """Mirror top-bottom (reverse the H axis)."""
    return _flip(img, 0)


def get_dimensions(img: Any) -> tuple[int, int]:
    """(H, W) of an image of either kind."""
    arr, h_axis, _ = _array(img)
    return arr.shape[h_axis], arr.shape[h_axis + 1]


def center_crop(img: Any, output_size: Any) -> Any:
    """The central (h, w) window; an image smaller than that is first zero-padded around (torchvision's rule)."""
    th, tw = _size_pair(output_size, "center_crop")
    h, w = get_dimensions(img)
    if th > h or tw > w:
        ltrb = ((tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0)
        img = pad(img, ltrb, fill=0)
        h, w = get_dimensions(img)
        if th == h and tw == w:
            return img
    return crop(img, int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)


