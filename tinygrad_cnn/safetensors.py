"""`tg.safetensors`: safetensors files, mirroring `safetensors.torch` (save_file, load_file, save, load).

A safetensors file is a flat mapping of names to dense tensors plus a string-to-string metadata header; it holds
no code, so loading is safe by construction. `tg.save(sd, "model.safetensors")` and `tg.load("model.safetensors")`
come here by the suffix. The `safetensors` package (the 'safetensors' extra) does the reading and writing.

    tg.safetensors.save_file(model.state_dict(), "model.safetensors", metadata={"epoch": "12"})
    model.load_state_dict(tg.safetensors.load_file("model.safetensors"))   # also safetensors.torch.load_file
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._atomic import atomic_write
from .tensor import Tensor

__all__ = ["save_file", "load_file", "save", "load", "load_metadata"]


def _require() -> Any:
    try:
        import safetensors.numpy as st_numpy
    except ImportError as e:
        raise ImportError("safetensors files need the 'safetensors' extra: pip install 'tinygrad_cnn[safetensors]'"
                          ) from e
    return st_numpy


def _arrays(tensors: Any, what: str) -> dict[str, np.ndarray]:
    """name -> C-contiguous array; refuses nested or non-tensor values and tensors sharing memory (as
    safetensors.torch does: a shared weight must be saved once, under one name)."""
    if not isinstance(tensors, dict):
        raise TypeError(f"{what}: expected a dict of name -> tensor (a state_dict), got {type(tensors).__name__}")
    out: dict[str, np.ndarray] = {}
    owners: dict[int, str] = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"{what}: keys must be strings, got {name!r}")
        arr = value._data if isinstance(value, Tensor) else value
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc":
            raise TypeError(f"{what}: {name!r} is a {type(value).__name__}; safetensors holds only tensors (a flat "
                            f"name -> tensor dict)")
        base = arr.base if arr.base is not None else arr
        if id(base) in owners and arr.size:
            raise RuntimeError(f"{what}: {name!r} shares memory with {owners[id(base)]!r}; safetensors stores "
                               f"each tensor once: save a copy (.clone()) or drop one name")
        owners[id(base)] = name
        out[name] = np.ascontiguousarray(arr)
    return out


def _metadata(metadata: dict | None, what: str) -> dict[str, str]:
    meta = {"format": "pt"} if metadata is None else dict(metadata)  # "pt": what Hugging Face loaders expect
    bad = [k for k, v in meta.items() if not (isinstance(k, str) and isinstance(v, str))]
    if bad:
        raise TypeError(f"{what}: metadata must map str to str; offending keys: {bad}")
    return meta


def save_file(tensors: dict, filename: str | os.PathLike, metadata: dict | None = None) -> None:
    """Write tensors (name -> Tensor or array) and the metadata (str -> str; default {'format': 'pt'}) to
    filename atomically (a temporary file renamed over it)."""
    st = _require()
    arrays, meta = _arrays(tensors, "save_file"), _metadata(metadata, "save_file")
    atomic_write(filename, lambda fh: fh.write(st.save(arrays, metadata=meta)))


def save(tensors: dict, metadata: dict | None = None) -> bytes:
    """The safetensors bytes of tensors (as safetensors.torch.save)."""
    return _require().save(_arrays(tensors, "save"), metadata=_metadata(metadata, "save"))


def load_file(filename: str | os.PathLike, device: Any = "cpu") -> dict[str, Tensor]:
    """name -> Tensor, in the file's order. device: 'cpu' only (as everywhere in tinygrad_cnn)."""
    from ._tensor_args import check_device

    check_device(device, "load_file")
    st = _require()
    if not os.path.exists(filename):
        raise FileNotFoundError(f"load_file: no such file {os.fspath(filename)!r}")
    try:
        arrays = st.load_file(filename)
    except Exception as e:  # the package raises its own SafetensorError for a damaged header
        raise RuntimeError(f"load_file: {os.fspath(filename)} is truncated or not a safetensors file ({e})") from e
    return {k: Tensor._wrap(np.array(v, copy=True)) for k, v in arrays.items()}


def load(data: bytes) -> dict[str, Tensor]:
    """name -> Tensor from safetensors bytes (as safetensors.torch.load)."""
    return {k: Tensor._wrap(np.array(v, copy=True)) for k, v in _require().load(data).items()}


def load_metadata(filename: str | os.PathLike) -> dict[str, str]:
    """The metadata header of a safetensors file ({} when it has none)."""
    _require()
    from safetensors import safe_open

    with safe_open(os.fspath(filename), framework="np") as f:
        return dict(f.metadata() or {})
