"""`tg.save` / `tg.load` (checkpoints without pickle) and `tg.load_torch_state_dict` (weights from torch).

File format: a numpy .npz archive. Entry `__structure__` holds UTF-8 JSON describing the object (dicts, ordered
dicts, lists, tuples, numbers, strings, None, dtypes) in which every array is a reference to another entry
(`t0`, `t1`, ...). Loading uses `np.load(allow_pickle=False)` and `json`, so a checkpoint can never run code.
Writes are atomic: a temporary file in the target's directory is written, flushed, fsynced and then moved over the
target with `os.replace`, so an interrupted save leaves the old checkpoint intact.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from . import dtypes
from .tensor import Tensor

__all__ = ["save", "load", "load_torch_state_dict"]

_FORMAT = "tinygrad_cnn-checkpoint-1"
_PathLike = "str | os.PathLike | io.IOBase"


class _Encoder:
    """Turns an object tree into JSON-able data plus a dict of arrays; the same Tensor object is stored once."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._seen: dict[int, str] = {}  # id(tensor or array) -> entry name (shared storage stays shared)

    def _entry(self, obj: Any, arr: np.ndarray) -> str:
        if id(obj) not in self._seen:
            name = f"t{len(self.arrays)}"
            self.arrays[name] = arr
            self._seen[id(obj)] = name
        return self._seen[id(obj)]

    def encode(self, obj: Any, where: str) -> Any:
        from .nn.parameter import Parameter

        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return {"int": str(obj)} if abs(obj) >= 2 ** 53 else obj  # JSON loses precision beyond 2**53
        if isinstance(obj, float):
            return obj if np.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            return {"tensor": self._entry(obj, obj._data), "requires_grad": obj.requires_grad,
                    "parameter": isinstance(obj, Parameter)}
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biufc":
                raise TypeError(f"tg.save: cannot save a numpy array of dtype {obj.dtype} at {where}")
            return {"ndarray": self._entry(obj, obj)}
        if isinstance(obj, np.generic):
            return {"npscalar": self._entry(obj, np.asarray(obj))}
        if isinstance(obj, dtypes.DType):
            return {"dtype": obj.name}
        if isinstance(obj, (dict, OrderedDict)):
            items = [[self.encode(k, f"{where} (a key)"), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
            return {"odict" if isinstance(obj, OrderedDict) else "dict": items}
        if isinstance(obj, (list, tuple)):
            seq = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            return {"tuple": seq} if isinstance(obj, tuple) else {"list": seq}
        raise TypeError(f"tg.save: cannot save an object of type {type(obj).__name__} at {where}; checkpoints hold "
                        f"tensors, numpy arrays, numbers, strings, None, dtypes, lists, tuples and dicts (no pickle)")


def _decode(node: Any, arrays: Any, cache: dict) -> Any:
    """Inverse of _Encoder.encode; `cache` makes one stored entry come back as one object."""
    from .nn.parameter import Parameter

    if not isinstance(node, dict):
        return node
    kind, value = next(iter(node.items()))  # the first key names the kind (JSON keeps key order)
    if kind == "tensor":
        if value not in cache:
            t = Tensor._wrap(arrays[value])
            if node.get("parameter"):
                t = Parameter(t, requires_grad=node["requires_grad"])
            elif node.get("requires_grad"):
                t.requires_grad_(True)
            cache[value] = t
        return cache[value]
    if kind in ("ndarray", "npscalar"):
        arr = cache.setdefault(value, arrays[value])
        return arr[()] if kind == "npscalar" else arr
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "dtype":
        return dtypes.from_numpy_dtype(np.dtype(value))
    if kind in ("dict", "odict"):
        pairs = [(_hashable(_decode(k, arrays, cache)), _decode(v, arrays, cache)) for k, v in value]
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    if kind in ("list", "tuple"):
        seq = [_decode(v, arrays, cache) for v in value]
        return tuple(seq) if kind == "tuple" else seq
    raise ValueError(f"unknown entry kind {kind!r}")


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def save(obj: Any, f: _PathLike) -> None:
    """Save a state dict (or any tree of dicts/lists/tuples of tensors, arrays, numbers, strings) to f.

    f is a path (written atomically) or a binary file object. Tensors keep dtype, shape and requires_grad;
    Parameters come back as Parameters. Raises TypeError naming the place of an unsupported object.
    """
    enc = _Encoder()
    structure = {"format": _FORMAT, "root": enc.encode(obj, "obj")}
    blob = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    entries = {"__structure__": blob, **enc.arrays}
    if not isinstance(f, (str, os.PathLike)):
        np.savez(f, **entries)
        return
    path = os.fspath(f)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".tmp-",
                               suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **entries)  # a file object: numpy does not append ".npz" to the name
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows: readers see the old or the new file, never half
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(f: _PathLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Load what `save` wrote. map_location may be None/'cpu' (the only device); weights_only is always true.

    Raises:
        FileNotFoundError: no such file.
        RuntimeError: the file is truncated, corrupt, not a tinygrad_cnn checkpoint, or a torch .pt file (with a
            hint to use tg.load_torch_state_dict); the message names the file.
    """
    from ._tensor_args import check_device

    check_device(map_location, "tg.load")
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    try:
        with np.load(f, allow_pickle=False) as archive:
            members = set(archive.files)
            if "__structure__" not in members:
                raise _not_ours(name, members)
            structure = json.loads(archive["__structure__"].tobytes().decode("utf-8"))
            if not isinstance(structure, dict) or structure.get("format") != _FORMAT:
                raise RuntimeError(f"tg.load: {name} has an unknown format {structure.get('format')!r} "
                                   f"(expected {_FORMAT!r})")
            arrays = {k: archive[k] for k in members if k != "__structure__"}
            return _decode(structure["root"], arrays, {})
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError, zipfile.LargeZipFile,
            NotImplementedError) as e:
        # numpy reads unknown bytes as a pickle and suggests allow_pickle=True: never advice to give for a
        # damaged checkpoint, so name what the file is not instead
        detail = "it is not a zip (.npz) archive" if "pickled" in str(e) else f"{type(e).__name__}: {e}"
        raise RuntimeError(f"tg.load: {name} is truncated or corrupt, or not a tinygrad_cnn checkpoint "
                           f"({detail})") from e


def _not_ours(name: str, members: set) -> RuntimeError:
    if any(m.endswith("data.pkl") or m.endswith("data") for m in members) or not members:
        hint = "; for a torch checkpoint use tg.load_torch_state_dict(module, path)"
    else:
        hint = ""
    return RuntimeError(f"tg.load: {name} is not a tinygrad_cnn checkpoint (no __structure__ entry){hint}")


def _to_numpy(value: Any) -> Any:
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def load_torch_state_dict(module: Any, path_or_dict: Any, strict: bool = True) -> Any:
    """Copy a torch state dict into `module` (same architecture, torch's key names).

    path_or_dict: a mapping of names to torch tensors / numpy arrays / Tensors, or the path of a torch .pt/.pth
    file (needs torch; read with `torch.load(weights_only=True)`; a checkpoint dict with a 'state_dict' or
    'model_state_dict' entry is unwrapped). Values are cast to the module's dtypes. Returns load_state_dict's
    (missing_keys, unexpected_keys); with strict=True mismatches raise RuntimeError naming the keys and shapes.
    """
    sd = path_or_dict
    if isinstance(sd, (str, os.PathLike)):
        try:
            import torch
        except ImportError as e:
            raise ImportError(f"tg.load_torch_state_dict: reading {os.fspath(sd)} needs torch installed; "
                              f"or pass a dict of numpy arrays") from e
        sd = torch.load(os.fspath(sd), map_location="cpu", weights_only=True)
        for key in ("state_dict", "model_state_dict"):
            if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
                sd = sd[key]
    if not isinstance(sd, dict):
        raise TypeError(f"tg.load_torch_state_dict: expected a state dict (mapping) or a path, got "
                        f"{type(sd).__name__}")
    return module.load_state_dict(OrderedDict((k, _to_numpy(v)) for k, v in sd.items()), strict=strict)
