"""`default_collate` and `default_convert`, with torch's type rules.

    Tensor (*)           -> Tensor (B, *)        (stacked; shapes must agree)
    numpy array (*)      -> Tensor (B, *)        (dtype kept)
    numpy scalar         -> Tensor (B,)          (dtype kept)
    float                -> float64 Tensor (B,)
    int / bool           -> int64 / bool Tensor (B,)
    str, bytes           -> the list, unchanged
    Mapping              -> same mapping of collated values
    namedtuple           -> same namedtuple of collated fields
    tuple / other seq    -> list (tuple) or same sequence type of collated columns
"""
from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any

import numpy as np

from ...creation import stack, tensor
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_STR_OBJ = re.compile(r"[SaUO]")  # numpy dtype chars of strings and objects, which cannot become tensors
_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(batch: list) -> Tensor:
    """Stack (*) tensors into (B, *); numpy does the copy unless some tensor tracks gradients."""
    if any(t.requires_grad for t in batch):
        return stack(batch, 0)
    first = batch[0].shape
    for i, t in enumerate(batch[1:], 1):
        if t.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                               f"and {list(t.shape)} at entry {i}")
    return Tensor._wrap(np.stack([t._data for t in batch]))


def _collate_sequence(batch: list, elem: Any) -> Any:
    size = len(elem)
    if any(len(e) != size for e in batch):
        raise RuntimeError("each element in list of batch should be of equal size")
    columns = [default_collate(list(samples)) for samples in zip(*batch)]
    if isinstance(elem, tuple):
        return columns  # torch returns a list for tuples (backwards compatibility)
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, col in enumerate(columns):
                clone[i] = col
            return clone
        return type(elem)(columns)
    except TypeError:
        return columns


def _collate_mapping(batch: list, elem: Any) -> Any:
    collated = {key: default_collate([d[key] for d in batch]) for key in elem}
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return type(elem)(collated)
    except TypeError:
        return collated


def default_collate(batch: list) -> Any:
    """Merge a list of samples into a batch, adding a leading batch dim B (see the module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _STR_OBJ.search(elem.dtype.str) is not None:
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([Tensor._wrap(np.asarray(b)) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _collate_mapping(batch, elem)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        return _collate_sequence(batch, elem)
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Turn numpy arrays (also inside tuples, lists, dicts) into Tensors; used when batch_size=None."""
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and type(data).__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _STR_OBJ.search(data.dtype.str) is not None:
            return data
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            clone = copy.copy(data)
            clone.update(converted)
            return clone
        except (TypeError, AttributeError):
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
