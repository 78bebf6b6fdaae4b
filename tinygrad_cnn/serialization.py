"""`tg.save` / `tg.load` (checkpoints without pickle) and `tg.load_torch_state_dict` (weights from torch).

`tg.load` also reads .safetensors files (by the suffix; tg.safetensors) and PyTorch's own checkpoints (by their
content; _torch_format.py, torch's weights_only rule, no code from the file ever runs); `tg.save` to a
.safetensors path writes one. See docs/interop.md.

File format: a numpy .npz archive. Entry `__structure__` holds UTF-8 JSON describing the object (dicts, ordered
dicts, lists, tuples, numbers, strings, None, dtypes) in which every array is a reference to another entry
(`t0`, `t1`, ...). Loading uses `json` and numpy's .npy reader without pickle, so a checkpoint can never run
code; it validates every node of the structure (a malformed file raises RuntimeError naming the file and the node)
and reads only the members the structure references, each checked against its declared shape (_npz_archive.py).
Writes are atomic: a temporary file in the target's directory is written, flushed, fsynced and then moved over the
target with `os.replace`, so an interrupted save leaves the old checkpoint intact.
"""
from __future__ import annotations

import errno
import json
import os
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from . import _torch_format, dtypes
from ._atomic import atomic_write
from ._npz_archive import NUMERIC_KINDS, ArchiveError, NpzArchive
from .tensor import Tensor

__all__ = ["save", "load", "load_torch_state_dict"]

_FORMAT = "tinygrad_cnn-checkpoint-1"
_MAX_DEPTH = 100  # containers in containers; a training checkpoint needs about 6 (deeper: a cycle, a hostile file)
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

    def encode(self, obj: Any, where: str, depth: int = 0) -> Any:
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
        if isinstance(obj, (dict, OrderedDict, list, tuple)) and depth >= _MAX_DEPTH:
            raise ValueError(f"tg.save: {where} is nested deeper than {_MAX_DEPTH} levels (a container that holds "
                             f"itself?)")
        if isinstance(obj, (dict, OrderedDict)):
            items = [[self.encode(k, f"{where} (a key)", depth + 1), self.encode(v, f"{where}[{k!r}]", depth + 1)]
                     for k, v in obj.items()]
            return {"odict" if isinstance(obj, OrderedDict) else "dict": items}
        if isinstance(obj, (list, tuple)):
            seq = [self.encode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
            return {"tuple": seq} if isinstance(obj, tuple) else {"list": seq}
        raise TypeError(f"tg.save: cannot save an object of type {type(obj).__name__} at {where}; checkpoints hold "
                        f"tensors, numpy arrays, numbers, strings, None, dtypes, lists, tuples and dicts (no pickle)")


_KINDS = {"tensor": {"requires_grad", "parameter"}, "ndarray": set(), "npscalar": set(), "int": set(),
          "float": set(), "dtype": set(), "dict": set(), "odict": set(), "list": set(), "tuple": set()}


class _Malformed(Exception):
    """A structure that `save` cannot have written; `load` turns it into RuntimeError naming the file."""


class _Decoder:
    """Inverse of _Encoder.encode, validating every node; one stored entry comes back as one object."""

    def __init__(self, archive: NpzArchive) -> None:
        self.archive = archive
        self.cache: dict[tuple[str, str], Any] = {}

    def decode(self, node: Any, where: str, depth: int = 0) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise _Malformed(f"{where} is a JSON {type(node).__name__}, not an entry")
        if depth > _MAX_DEPTH:
            shown = where if len(where) < 60 else f"{where[:30]}...{where[-20:]}"
            raise _Malformed(f"{shown} is nested deeper than {_MAX_DEPTH} levels")
        if not node:
            raise _Malformed(f"{where} is an empty JSON object (no entry kind)")
        kind, value = next(iter(node.items()))  # the first key names the kind (JSON keeps key order)
        if kind not in _KINDS or set(node) - {kind} - _KINDS[kind]:
            raise _Malformed(f"{where} has unknown keys {sorted(node)}")
        if kind in ("tensor", "ndarray", "npscalar"):
            return self._array(kind, value, node, where)
        if kind in ("int", "float", "dtype"):
            return self._scalar(kind, value, where)
        if not isinstance(value, list):
            raise _Malformed(f"{where}: {kind!r} holds a {type(value).__name__}, not a list")
        if kind in ("list", "tuple"):
            seq = [self.decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
            return tuple(seq) if kind == "tuple" else seq
        pairs = []
        for i, pair in enumerate(value):
            if not isinstance(pair, list) or len(pair) != 2:
                raise _Malformed(f"{where}: item {i} of {kind!r} is not a [key, value] pair")
            key = _hashable(self.decode(pair[0], f"{where} (key {i})", depth + 1))
            try:
                hash(key)
            except TypeError:
                raise _Malformed(f"{where}: key {i} is a {type(key).__name__}, which cannot be a dict key") from None
            pairs.append((key, self.decode(pair[1], f"{where}[{key!r}]", depth + 1)))
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)

    def _scalar(self, kind: str, value: Any, where: str) -> Any:
        if not isinstance(value, str):
            raise _Malformed(f"{where}: {kind!r} holds a {type(value).__name__}, not a string")
        try:
            if kind == "int":
                return int(value)
            if kind == "float":
                return float(value)
            np_dtype = np.dtype(value)
        except (ValueError, TypeError):
            raise _Malformed(f"{where}: {value[:40]!r} is not a valid {kind}") from None
        if np_dtype.kind not in NUMERIC_KINDS:
            raise _Malformed(f"{where}: {value!r} is not a tensor dtype")
        return dtypes.from_numpy_dtype(np_dtype)

    def _array(self, kind: str, value: Any, node: dict, where: str) -> Any:
        from .nn.parameter import Parameter

        if not isinstance(value, str) or value == "__structure__":
            raise _Malformed(f"{where}: {kind!r} must name an array member, got {value!r}")
        key = (kind, value)
        if key not in self.cache:
            try:
                arr = self.archive.array(value)
            except ArchiveError as e:
                raise _Malformed(f"{where}: {e}") from None
            if kind == "npscalar":
                if arr.ndim:
                    raise _Malformed(f"{where}: member {value!r} of shape {arr.shape} is not a scalar")
                self.cache[key] = arr[()]
            elif kind == "ndarray":
                self.cache[key] = arr
            else:
                if arr.dtype not in dtypes._BY_NUMPY:
                    raise _Malformed(f"{where}: member {value!r} has dtype {arr.dtype}, which no tensor can hold")
                flags = [node.get(k, False) for k in ("parameter", "requires_grad")]
                if not all(isinstance(f, bool) for f in flags):
                    raise _Malformed(f"{where}: 'parameter' and 'requires_grad' must be true or false")
                if flags[1] and arr.dtype.kind != "f":
                    raise _Malformed(f"{where}: a {arr.dtype} tensor cannot require grad")
                t = Tensor._wrap(arr)
                if flags[0]:
                    t = Parameter(t, requires_grad=flags[1])
                elif flags[1]:
                    t.requires_grad_(True)
                self.cache[key] = t
        return self.cache[key]


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def save(obj: Any, f: _PathLike, *, metadata: dict | None = None) -> None:
    """Save a state dict (or any tree of dicts/lists/tuples of tensors, arrays, numbers, strings) to f.

    f is a path (written atomically) or a binary file object. Tensors keep dtype, shape and requires_grad;
    Parameters come back as Parameters. Raises TypeError naming the place of an unsupported object.
    A path ending in .safetensors writes a safetensors file instead (a flat name -> tensor dict, plus the
    str -> str `metadata`; needs the 'safetensors' extra); see tg.safetensors.
    """
    if _is_safetensors(f):
        from . import safetensors

        if not isinstance(f, (str, os.PathLike)):
            f.write(safetensors.save(obj, metadata=metadata))
            return None
        return safetensors.save_file(obj, f, metadata=metadata)
    if metadata is not None:
        raise ValueError("tg.save: metadata is stored only in .safetensors files")
    enc = _Encoder()
    structure = {"format": _FORMAT, "root": enc.encode(obj, "obj")}
    blob = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    entries = {"__structure__": blob, **enc.arrays}
    if not isinstance(f, (str, os.PathLike)):
        np.savez(f, **entries)
        return
    atomic_write(f, lambda fh: np.savez(fh, **entries))  # a file object: numpy does not append ".npz"


def load(f: _PathLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Load what `save` wrote, a .safetensors file, or a PyTorch checkpoint (torch.save's zip archive or legacy
    format) without torch. map_location may be None/'cpu' (the only device); weights_only is always true.

    Nothing in a file is ever executed: torch checkpoints are read with torch's weights_only=True rule (tensors,
    dtypes and plain containers; any other pickled global is refused, naming it). See docs/interop.md.

    Raises:
        FileNotFoundError: no such file.
        RuntimeError: the file is truncated, corrupt or not a checkpoint; or its structure is one `save` cannot
            have written (a JSON list, an empty or unknown entry, an unhashable key, an unknown dtype, nesting
            deeper than 100 levels, a missing member, a non-numeric array, a member larger or smaller than its
            declared shape). The message names the file, the place in the structure and the problem.
            A torch checkpoint that refers to a global outside the allowlist (a whole pickled model, a malicious
            file) raises a RuntimeError that is also a pickle.UnpicklingError, naming the global.
    """
    from ._tensor_args import check_device

    check_device(map_location, "tg.load")
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    if isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", name)
    if _is_safetensors(f):
        from . import safetensors

        return safetensors.load_file(f) if isinstance(f, (str, os.PathLike)) else safetensors.load(f.read())
    torch_kind = _torch_format.sniff(f)
    if torch_kind is not None:
        return _torch_format.load(f, torch_kind, name)
    try:
        with NpzArchive(f) as archive:
            if "__structure__" not in archive.names:
                raise _not_ours(name, archive.names)
            structure = _structure(archive)
            return _Decoder(archive).decode(structure["root"], "root")
    except _Malformed as e:
        raise RuntimeError(f"tg.load: {name} is not a valid tinygrad_cnn checkpoint: {e}") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, UnicodeDecodeError, zipfile.LargeZipFile,
            NotImplementedError, RecursionError) as e:
        detail = "it is not a zip (.npz) archive" if isinstance(e, zipfile.BadZipFile) and \
            "not a zip file" in str(e) else f"{type(e).__name__}: {e}"
        raise RuntimeError(f"tg.load: {name} is truncated or corrupt, or not a tinygrad_cnn checkpoint "
                           f"({detail})") from e


def _structure(archive: NpzArchive) -> dict:
    """The parsed `__structure__` entry: {"format": _FORMAT, "root": node}."""
    try:
        blob = archive.array("__structure__")
        structure = json.loads(blob.tobytes().decode("utf-8"))
    except ArchiveError as e:
        raise _Malformed(str(e)) from None
    except RecursionError:
        raise _Malformed("its __structure__ JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise _Malformed(f"its __structure__ entry is not UTF-8 JSON ({e})") from None
    if not isinstance(structure, dict):
        raise _Malformed(f"its __structure__ is a JSON {type(structure).__name__}, not an object")
    if structure.get("format") != _FORMAT:
        raise _Malformed(f"unknown format {structure.get('format')!r} (expected {_FORMAT!r})")
    if "root" not in structure:
        raise _Malformed("its __structure__ has no 'root'")
    return structure


def _not_ours(name: str, members: set) -> RuntimeError:
    return RuntimeError(f"tg.load: {name} is not a tinygrad_cnn checkpoint (no __structure__ entry)")


def _is_safetensors(f: Any) -> bool:
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "")
    return isinstance(name, str) and name.lower().endswith(".safetensors")


def _to_numpy(value: Any) -> Any:
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def load_torch_state_dict(module: Any, path_or_dict: Any, strict: bool = True) -> Any:
    """Copy a torch state dict into `module` (same architecture, torch's key names).

    path_or_dict: a mapping of names to torch tensors / numpy arrays / Tensors, or the path of a torch .pt/.pth
    file (read by `tg.load`, torch not needed; a checkpoint dict with a 'state_dict' or 'model_state_dict' entry
    is unwrapped). Values are cast to the module's dtypes. Returns load_state_dict's
    (missing_keys, unexpected_keys); with strict=True mismatches raise RuntimeError naming the keys and shapes.
    """
    sd = path_or_dict
    if isinstance(sd, (str, os.PathLike)):
        sd = load(sd)  # torch's format read here, without torch and without running code from the file
        for key in ("state_dict", "model_state_dict"):
            if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
                sd = sd[key]
    if not isinstance(sd, dict):
        raise TypeError(f"tg.load_torch_state_dict: expected a state dict (mapping) or a path, got "
                        f"{type(sd).__name__}")
    return module.load_state_dict(OrderedDict((k, _to_numpy(v)) for k, v in sd.items()), strict=strict)
