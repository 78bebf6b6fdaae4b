"""Atomic file replacement: readers (and a crash) see the old file or the new one, never half of either.

The content is written to a temporary file beside the target (same file system, so the rename is atomic), flushed
and fsynced, then moved over the target with `os.replace`; the directory is fsynced too, so after a power loss the
new name is on disk. A failure at any point removes the temporary file and leaves the target untouched.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import IO, Callable


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> str:
    """Call `write(binary file)` on a temporary file, then rename it to `path`. Returns the path."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> str:
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike) -> str:
    """Copy the bytes of `src` over `dst` atomically."""
    with open(src, "rb") as source:
        return atomic_write(dst, lambda fh: shutil.copyfileobj(source, fh))


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open directories; its rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["atomic_write", "atomic_write_text", "atomic_copy"]
