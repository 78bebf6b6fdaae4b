"""Reading single arrays out of an .npz archive without trusting it (what `tg.load` uses instead of `np.load`).

`np.load` reads a member when asked, but a loader that asks for every member decompresses all of them: a small file
can hold a member that inflates to hundreds of MiB without being part of the checkpoint. `NpzArchive` opens only the
members it is asked for, reads each member's .npy header first, and refuses before reading any data when:

- the dtype is not numeric (strings, datetimes, void records, objects: never tensors; objects would need pickle),
- the header's shape and dtype do not account for exactly the member's size in the zip directory (a member that
  claims more or less than it holds is truncated, padded or lying).

zipfile stops decompressing a member at its recorded size, and the recorded size equals what the header declares,
so the bytes decompressed are bounded by the declared shapes of the referenced members.
"""
from __future__ import annotations

import math
import zipfile
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex


class ArchiveError(ValueError):
    """A member is missing, malformed or not numeric; the message says which and why."""


class NpzArchive:
    """A read-only view of an .npz file: `names` (member names without `.npy`) and `array(name)`."""

    def __init__(self, f: "str | IO[bytes]") -> None:
        self._zip = zipfile.ZipFile(f)  # BadZipFile for anything that is not a zip archive
        self._infos = {info.filename[:-4] if info.filename.endswith(".npy") else info.filename: info
                       for info in self._zip.infolist()}
        self.names = set(self._infos)

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._zip.close()

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype, bool, int]:
        """(shape, dtype, fortran_order, header length) of member `name`, read without its data."""
        if name not in self._infos:
            raise ArchiveError(f"member {name!r} is missing")
        with self._zip.open(self._infos[name]) as fp:
            version = npy_format.read_magic(fp)
            reader = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
            shape, fortran, dtype = reader(fp)
            return tuple(shape), dtype, fortran, fp.tell()

    def array(self, name: str) -> np.ndarray:
        """Member `name` as an array, after checking its header against the zip directory (see module doc)."""
        shape, dtype, _, header_len = self.header(name)
        if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
            raise ArchiveError(f"member {name!r} has dtype {dtype.str!r} ({dtype}); only numeric arrays (bool, "
                               f"integer, float, complex) can be loaded")
        declared = math.prod(shape) * dtype.itemsize
        stored = self._infos[name].file_size
        if header_len + declared != stored:
            raise ArchiveError(f"member {name!r} declares shape {shape} of {dtype} ({declared} bytes) but holds "
                               f"{stored - header_len} bytes of data")
        with self._zip.open(self._infos[name]) as fp:
            arr = npy_format.read_array(fp, allow_pickle=False)
            if fp.read(1):  # also makes zipfile check the member's CRC (it does so at the member's end)
                raise ArchiveError(f"member {name!r} has bytes after its data")
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return arr


__all__ = ["NpzArchive", "ArchiveError", "NUMERIC_KINDS"]
