"""Reading PyTorch checkpoints (`torch.save` files) without torch and without running code from the file.

Two layouts are read:
- the zip archive torch writes since 1.6: `<root>/data.pkl` (the object tree, pickled) and `<root>/data/<key>`
  (the raw bytes of each storage);
- the legacy stream (`_use_new_zipfile_serialization=False`): magic number, protocol, system info, the object
  pickle, the storage keys, then each storage as an int64 element count and its bytes.
Every pickle is read by _torch_pickle's restricted unpickler (torch's weights_only=True rule).
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from typing import Any, Callable

import numpy as np

from ._torch_pickle import SafeUnpickler, Storage, UnsafeCheckpointError, elements, unpickle

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def load_zip(f: Any, where: str) -> Any:
    """A torch.save zip archive (f a path or a binary file object)."""
    with zipfile.ZipFile(f) as z:
        pkl = [n for n in z.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
        if not pkl:
            raise UnsafeCheckpointError(f"tg.load: {where} is a zip archive without a torch data.pkl")
        root = pkl[0][:-len("data.pkl")]
        order = z.read(root + "byteorder").decode().strip() if root + "byteorder" in z.namelist() else "little"
        if order != "little":
            raise UnsafeCheckpointError(f"tg.load: {where} was written big-endian; only little-endian is read")
        cache: dict[str, Storage] = {}

        def storage(dtype: Any, key: str, numel: int | None) -> Storage:
            if key not in cache:
                name = f"{root}data/{key}"
                if name not in z.namelist():
                    raise UnsafeCheckpointError(f"tg.load: {where} lacks the storage record {name}")
                cache[key] = Storage(elements(z.read(name), dtype, numel, name))
            return cache[key]

        return unpickle(z.read(pkl[0]), storage, where)


def load_legacy(raw: bytes, where: str) -> Any:
    """The pre-1.6 stream: magic, protocol, system info, the object pickle, the storage keys, then each storage
    (int64 element count + data). The storages come after the objects that use them, so the object pickle is
    read twice: first to learn each storage's dtype (tensors not built), then with the storages read."""
    stream = io.BytesIO(raw)

    def next_pickle(load_storage: Callable = lambda *a: Storage(None)) -> Any:
        return SafeUnpickler(stream, load_storage, where).load()

    if next_pickle() != _LEGACY_MAGIC:
        raise UnsafeCheckpointError(f"tg.load: {where} is not a torch checkpoint (bad magic number)")
    next_pickle()  # protocol version
    info = next_pickle()
    if isinstance(info, dict) and not info.get("little_endian", True):
        raise UnsafeCheckpointError(f"tg.load: {where} was written big-endian; only little-endian is read")
    dtypes: dict[str, Any] = {}
    def note_dtype(dtype: Any, key: str, numel: int | None) -> Storage:
        dtypes.setdefault(key, dtype)
        return Storage(None)

    start = stream.tell()
    next_pickle(note_dtype)
    end = stream.tell()
    keys = next_pickle()
    storages: dict[str, Storage] = {}
    for key in keys if isinstance(keys, list) else []:
        if key not in dtypes:
            raise UnsafeCheckpointError(f"tg.load: {where} lists a storage {key!r} no tensor uses")
        (count,) = struct.unpack("<q", stream.read(8))
        itemsize = 2 if dtypes[key] == "bf16" else np.dtype(dtypes[key]).itemsize
        storages[key] = Storage(elements(stream.read(max(count, 0) * itemsize), dtypes[key], count, key))

    def storage(dtype: Any, key: str, numel: int | None) -> Storage:
        if key not in storages:
            raise UnsafeCheckpointError(f"tg.load: {where} lacks the data of storage {key!r}")
        return storages[key]

    return unpickle(raw[start:end], storage, where)


def sniff(f: Any) -> str | None:
    """'zip' for a torch zip archive, 'legacy' for a pickle stream starting with torch's magic number, else None."""
    head = _peek(f, 64)
    if head[:4] == b"PK\x03\x04":
        pos = None if isinstance(f, (str, os.PathLike)) else f.tell()
        try:
            with zipfile.ZipFile(f) as z:
                return "zip" if any(n.endswith("/data.pkl") for n in z.namelist()) else None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return None  # a damaged archive: the npz reader names the damage
        finally:
            if pos is not None:
                f.seek(pos)
    if head[:1] == b"\x80" and head[2:3] == b"\x8a":  # PROTO, then LONG1: the magic number
        return "legacy"
    return None


def _peek(f: Any, n: int) -> bytes:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read(n)
    pos = f.tell()
    head = f.read(n)
    f.seek(pos)
    return head


def load(f: Any, kind: str, where: str) -> Any:
    """Read a torch checkpoint of the kind `sniff` found; damage is reported as RuntimeError naming the file,
    a refused global as pickle.UnpicklingError."""
    try:
        if kind == "zip":
            return load_zip(f, where)
        if isinstance(f, (str, os.PathLike)):
            with open(f, "rb") as fh:
                return load_legacy(fh.read(), where)
        return load_legacy(f.read(), where)
    except UnsafeCheckpointError:
        raise
    except pickle.UnpicklingError as e:  # the pickle itself is broken
        raise RuntimeError(f"tg.load: {where} is a truncated or corrupt torch checkpoint ({e})") from e
    except (zipfile.BadZipFile, EOFError, struct.error, ValueError, KeyError, IndexError, TypeError,
            AttributeError, OSError, RecursionError) as e:
        raise RuntimeError(f"tg.load: {where} is a truncated or corrupt torch checkpoint ({type(e).__name__}: "
                           f"{e})") from e
