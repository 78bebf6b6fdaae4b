"""The restricted unpickler for PyTorch checkpoints: torch's `weights_only=True` rule, without torch.

`find_class` hands out only the names in `_ALLOWED` (tensor and Parameter rebuilders, storage types, dtypes,
OrderedDict, torch.Size, torch.device, a few builtins), each mapped to a function of this module that builds
numpy-backed Tensors; any other global (os.system, builtins.eval, a module class, ...) raises
`UnsafeCheckpointError` naming it before anything is called. Storage ids are accepted only in torch's
('storage', type, key, location, numel) form, and a tensor's size/stride/offset must lie inside its storage.
The file layouts (zip archive, legacy stream) are read by _torch_format.py.
"""
from __future__ import annotations

import collections
import io
import pickle
from typing import Any, Callable

import numpy as np

from .tensor import Tensor

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "BFloat16Storage": "bf16",
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_, "ComplexFloatStorage": np.complex64,
    "ComplexDoubleStorage": np.complex128, "UntypedStorage": np.uint8,
}
_DTYPES = {"float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
           "float16": np.float16, "half": np.float16, "bfloat16": "bf16", "int64": np.int64, "long": np.int64,
           "int32": np.int32, "int": np.int32, "int16": np.int16, "short": np.int16, "int8": np.int8,
           "uint8": np.uint8, "bool": np.bool_, "complex64": np.complex64, "complex128": np.complex128}


class UnsafeCheckpointError(pickle.UnpicklingError, RuntimeError):
    """A torch checkpoint refused: a global outside the allowlist, or data that cannot be a tensor. A
    pickle.UnpicklingError (as torch raises) and a RuntimeError (as every other damaged file in tg.load)."""


class StorageType:
    """What `torch.FloatStorage` & co. unpickle to: the element dtype of a storage."""

    def __init__(self, name: str, dtype: Any) -> None:
        self.name, self.dtype = name, dtype


class Storage:
    """A storage's bytes as a flat numpy array of its element type (bfloat16 widened to float32)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


def _bf16(raw: bytes) -> np.ndarray:
    """bfloat16 is the upper half of a float32: widen it exactly."""
    halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
    return (halves << 16).view(np.float32)


def elements(raw: bytes, dtype: Any, numel: int | None, where: str) -> np.ndarray:
    """raw little-endian bytes as a flat array; ValueError when they cannot hold `numel` elements (damage)."""
    if dtype == "bf16":
        arr = _bf16(raw[:len(raw) - len(raw) % 2])
    else:
        dt = np.dtype(dtype).newbyteorder("<")
        if len(raw) % dt.itemsize:
            raise ValueError(f"storage {where}: {len(raw)} bytes is not a whole number of {dt}")
        arr = np.frombuffer(raw, dtype=dt)
    if numel is not None and arr.size < numel:
        raise ValueError(f"storage {where} holds {arr.size} elements, the checkpoint says {numel}")
    return arr


def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any, requires_grad: Any = False,
                    hooks: Any = None, metadata: Any = None, dtype: Any = None) -> Tensor:
    """torch._utils._rebuild_tensor_v2 (and v3 with an explicit dtype over an untyped storage)."""
    if not isinstance(storage, Storage):
        raise UnsafeCheckpointError(f"a tensor must be built on a storage, got {type(storage).__name__}")
    data = storage.data
    if data is None:
        return None  # the legacy reader's first pass: storages not read yet
    if dtype is not None and not isinstance(dtype, StorageType):
        raise UnsafeCheckpointError("_rebuild_tensor_v3: the dtype is not a torch dtype")
    if dtype is not None and dtype.dtype != data.dtype:  # v3: typed view of untyped bytes
        data = elements(data.tobytes(), dtype.dtype, None, "(v3)")
    size, stride, offset = tuple(int(s) for s in size), tuple(int(s) for s in stride), int(offset)
    if len(size) != len(stride) or min(size + stride + (offset,), default=0) < 0:
        raise UnsafeCheckpointError(f"tensor geometry size={size} stride={stride} offset={offset} is invalid")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
    if last >= data.size:
        raise UnsafeCheckpointError(f"tensor size={size} stride={stride} offset={offset} reaches past its storage "
                                     f"of {data.size} elements")
    view = np.lib.stride_tricks.as_strided(data[offset:], size, [s * data.itemsize for s in stride]) \
        if all(size) else np.zeros(size, data.dtype)
    return Tensor._wrap(np.array(view, copy=True))


def _rebuild_tensor_v3(storage: Any, offset: int, size: Any, stride: Any, requires_grad: Any, hooks: Any,
                       dtype: Any, metadata: Any = None) -> Tensor:
    return _rebuild_tensor(storage, offset, size, stride, requires_grad, hooks, metadata, dtype)


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any = None, state: Any = None) -> Any:
    from .nn.parameter import Parameter

    if data is None:
        return None  # the legacy reader's first pass
    if not isinstance(data, Tensor):
        raise UnsafeCheckpointError(f"a Parameter must wrap a tensor, got {type(data).__name__}")
    return Parameter(data, requires_grad=bool(requires_grad))


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    """torch._tensor._rebuild_from_type_v2: only tensors and parameters (no arbitrary subclasses)."""
    if func not in (_rebuild_tensor, _rebuild_tensor_v3, _rebuild_parameter) or new_type not in ("Tensor",
                                                                                                 "Parameter"):
        raise UnsafeCheckpointError("_rebuild_from_type_v2 is allowed only for torch.Tensor and Parameter")
    t = func(*args)
    return _rebuild_parameter(t, True) if new_type == "Parameter" else t


def _codecs_encode(obj: Any, encoding: str = "utf-8") -> bytes:
    """How pickle protocol 2 stores bytes; only text-to-bytes encodings are allowed."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise UnsafeCheckpointError(f"_codecs.encode is allowed only for str with latin1/utf-8, got {encoding!r}")
    return obj.encode(encoding)


def _size(*args: Any) -> tuple:
    return tuple(*args)


def _device(*args: Any) -> str:
    return ":".join(str(a) for a in args)


def _get_layout(name: str) -> str:
    if name != "torch.strided":
        raise UnsafeCheckpointError(f"only dense (strided) tensors can be loaded, got layout {name}")
    return name


def _allowed() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Tensor"): "Tensor", ("torch.nn.parameter", "Parameter"): "Parameter",
        ("torch", "Size"): _size, ("torch", "device"): _device,
        ("torch.serialization", "_get_layout"): _get_layout,
        ("_codecs", "encode"): _codecs_encode,
        ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "slice"): slice,
        ("builtins", "complex"): complex, ("builtins", "bytearray"): bytearray,
        ("__builtin__", "set"): set,
    }
    table.update({("torch", name): StorageType(name, dt) for name, dt in _STORAGE_DTYPES.items()})
    table.update({("torch", name): StorageType(name, dt) for name, dt in _DTYPES.items()})
    return table


_ALLOWED = _allowed()


class SafeUnpickler(pickle.Unpickler):
    """pickle.Unpickler that resolves only allowlisted globals and torch storage ids."""

    def __init__(self, file: Any, load_storage: Callable[[Any, str, int | None], Storage], where: str) -> None:
        super().__init__(file, encoding="utf-8")
        self._load_storage, self._where = load_storage, where

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafeCheckpointError(
                f"tg.load: {self._where} refers to the global {module}.{name}, which is not allowed: loading reads "
                f"tensors and plain containers only (torch's weights_only=True rule) and never runs code from a "
                f"file. If you trust the file, load it with torch.load and pass the state dict to "
                f"tg.load_torch_state_dict") from None

    def persistent_load(self, pid: Any) -> Storage:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], StorageType) and isinstance(pid[2], (str, int))):
            raise UnsafeCheckpointError(f"tg.load: {self._where} has an unexpected persistent id {pid!r:.100}")
        if len(pid) == 6 and pid[5] is not None:
            raise UnsafeCheckpointError(f"tg.load: {self._where} uses storage views (torch < 0.4), not supported")
        numel = pid[4] if isinstance(pid[4], int) else None
        return self._load_storage(pid[1].dtype, str(pid[2]), numel)


def unpickle(data: bytes, load_storage: Callable, where: str) -> Any:
    return SafeUnpickler(io.BytesIO(data), load_storage, where).load()
