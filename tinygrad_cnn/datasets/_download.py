"""Where data files live, how they are checked, and how missing ones are fetched.

Root resolution: an explicit `root` argument is the only root searched; without one, `$TINYGRAD_CNN_DATA` (when
set) and then the user cache `$XDG_CACHE_HOME/tinygrad_cnn` (default `~/.cache/tinygrad_cnn`). A data root holds one
folder per data set with the original file names: `mnist/`, `fashion-mnist/`, `cifar-10/`. Downloads go to the
first root. Every file is checked against a hard-coded digest before it is parsed; a download is written to a
temporary file in the target folder, checked, and only then renamed into place, so a broken transfer never leaves a
file that looks complete.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence
from urllib.request import urlopen

ENV_VAR = "TINYGRAD_CNN_DATA"
_CHUNK = 1 << 20


class DatasetNotFoundError(RuntimeError):
    """A data file is absent from every root searched and downloading was not allowed (or failed)."""


class IntegrityError(RuntimeError):
    """A data file's digest differs from the published one (truncated, corrupt or a different file)."""


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/tinygrad_cnn`, or `~/.cache/tinygrad_cnn`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tinygrad_cnn"


def data_roots(root: str | os.PathLike | None = None) -> list[Path]:
    """The roots to search, in order: [root] if given, else [$TINYGRAD_CNN_DATA (if set), the user cache dir]."""
    if root is not None:
        return [Path(root).expanduser()]
    roots = []
    env = os.environ.get(ENV_VAR)
    if env:
        roots.append(Path(env).expanduser())
    roots.append(default_cache_dir())
    return roots


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def integrity_error(name: str, path: Path, algorithm: str, expected: str, actual: str) -> IntegrityError:
    """The error for a file whose digest is wrong: it names the file, both digests and the ways out."""
    return IntegrityError(
        f"{name}: {path} is corrupt or truncated: its {algorithm} is {actual} but the published file's is "
        f"{expected}. Delete {path} and load again with download=True to fetch a fresh copy, or set "
        f"{ENV_VAR} to a data root that holds a good copy.")


def check_bytes(name: str, path: Path, data: bytes, algorithm: str, expected: str) -> bytes:
    """Return `data` (the content of `path`) if its digest is `expected`; raise IntegrityError otherwise."""
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != expected:
        raise integrity_error(name, path, algorithm, expected, actual)
    return data


def check_file(name: str, path: Path, algorithm: str, expected: str) -> None:
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise integrity_error(name, path, algorithm, expected, actual)


def download(name: str, urls: Sequence[str], dest: Path, algorithm: str, expected: str,
             timeout: float = 60.0) -> Path:
    """Fetch the first of `urls` that yields bytes with the expected digest into `dest` (atomically).

    Raises DatasetNotFoundError listing every URL tried and why it failed.
    """
    failures = []
    for url in urls:
        print(f"Downloading {url} to {dest}", file=sys.stderr)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
        except OSError as e:
            raise DatasetNotFoundError(f"{name}: {dest.name} is missing and cannot be downloaded into "
                                       f"{dest.parent} ({e}). Pass a writable root= or set {ENV_VAR}.") from e
        try:
            h = hashlib.new(algorithm)
            with os.fdopen(fd, "wb") as out, urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != expected:
                raise IntegrityError(f"the downloaded bytes have {algorithm} {h.hexdigest()}, expected {expected}")
            os.replace(tmp, dest)
            return dest
        except Exception as e:  # try the next mirror; every failure is reported below
            failures.append(f"{url}: {type(e).__name__}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise DatasetNotFoundError(
        f"{name}: could not download {dest.name}. Tried:\n  " + "\n  ".join(failures) +
        f"\nPut the file at {dest} yourself, or set {ENV_VAR} to a data root that holds {dest.parent.name}/.")


def missing_error(name: str, files: Sequence[str], folder: str, roots: Sequence[Path]) -> DatasetNotFoundError:
    searched = ", ".join(str(r / folder) for r in roots)
    return DatasetNotFoundError(
        f"{name}: {', '.join(files)} not found; searched {searched}. Use download=True to download it, pass "
        f"root= a directory holding {folder}/, or set {ENV_VAR}.")
