"""CIFAR-10 from the "python version" archive: pickled dict batches, read with a restricted unpickler.

Pickle is used only because it is this data set's distribution format. The unpickler refuses every global except
the few numpy constructors an array needs, so a tampered file cannot run code; files are also md5-checked against
torchvision's published digests before they are unpickled.
"""
from __future__ import annotations

import codecs
import io
import os
import pickle
import tarfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import _download as dl
from .vision import VisionDataset

__all__ = ["CIFAR10", "load_cifar_batch"]

try:  # numpy >= 2 moved the internals; old pickles name numpy.core, new ones numpy._core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]

_SAFE_GLOBALS = {
    ("multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("multiarray", "scalar"): _multiarray.scalar,
    ("numeric", "_frombuffer"): getattr(_numeric, "_frombuffer", None),
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _BatchUnpickler(pickle.Unpickler):
    """Builds only dicts, lists, str/bytes, numbers and numpy arrays; any other global is an error.

    `_codecs.encode` is allowed too: Python 3 writes bytes that way in protocol-2 pickles (a pure data function).
    """

    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file, encoding="bytes")
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("_codecs", "encode"):
            return codecs.encode
        key = (module if module == "numpy" else module.rsplit(".", 1)[-1], name)
        found = _SAFE_GLOBALS.get(key) if module.split(".")[0] == "numpy" else None
        if found is None:
            raise pickle.UnpicklingError(f"{self._path}: refusing to load global {module}.{name}: a CIFAR batch "
                                         f"holds only dicts, lists, bytes and numpy arrays")
        return found


def load_cifar_batch(path: str | os.PathLike) -> dict:
    """Unpickle one CIFAR batch file (keys are bytes, e.g. b'data', b'labels') with the restricted unpickler."""
    path = Path(path)
    obj = _BatchUnpickler(io.BytesIO(path.read_bytes()), path).load()
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return obj


class CIFAR10(VisionDataset):
    """CIFAR-10: 50 000 training and 10 000 test colour images, 32x32, ten classes.

    Args as MNIST. The data root holds `cifar-10/cifar-10-batches-py/` (data_batch_1..5, test_batch,
    batches.meta); `download=True` fetches `cifar-10-python.tar.gz` into `cifar-10/`, checks its md5 and sha256
    and extracts it. `transform` receives the uint8 (32, 32, 3) numpy image; None gives float32 (3, 32, 32) in
    [0, 1]. Attributes as torchvision: `data` uint8 numpy (N, 32, 32, 3), `targets` list of int, `classes`.
    """

    folder = "cifar-10"
    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    tgz_sha256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    channels_last = True

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, download: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        files = self.train_list if train else self.test_list
        folder = self._locate([name for name, _ in files] + [self.meta["filename"]], download)
        images, labels = [], []
        for name, md5 in files:
            path = folder / name
            dl.check_file(type(self).__name__, path, "md5", md5)
            batch = load_cifar_batch(path)
            data, lab = self._fields(batch, path)
            images.append(data)
            labels.extend(lab)
        self.data = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
        self.data = np.ascontiguousarray(self.data)
        self.targets = labels
        meta_path = folder / self.meta["filename"]
        dl.check_file(type(self).__name__, meta_path, "md5", self.meta["md5"])
        names = load_cifar_batch(meta_path).get(self.meta["key"].encode())
        if names is None:
            raise ValueError(f"{meta_path}: no {self.meta['key']!r} entry")
        self.classes = [n.decode() if isinstance(n, bytes) else str(n) for n in names]

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    @staticmethod
    def _fields(batch: dict, path: Path) -> tuple:
        data = batch.get(b"data")
        labels = batch.get(b"labels", batch.get(b"fine_labels"))
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
            raise ValueError(f"{path}: b'data' should be a uint8 array (N, 3072), got {got}")
        if labels is None or len(labels) != data.shape[0]:
            raise ValueError(f"{path}: b'labels' should hold {data.shape[0]} labels, got "
                             f"{'none' if labels is None else len(labels)}")
        return data, [int(v) for v in labels]

    def _locate(self, names: list, download: bool) -> Path:
        """The `cifar-10-batches-py` folder of the first root holding all files; else download and extract."""
        roots = dl.data_roots(self.root)
        for r in roots:
            folder = r / self.folder / self.base_folder
            if all((folder / n).is_file() for n in names):
                return folder
        if not download:
            raise dl.missing_error(type(self).__name__, [f"{self.base_folder}/{n}" for n in names], self.folder,
                                   roots)
        target = roots[0] / self.folder
        archive = target / self.filename
        if archive.is_file():
            dl.check_file(type(self).__name__, archive, "sha256", self.tgz_sha256)
        else:
            dl.download(type(self).__name__, [self.url], archive, "sha256", self.tgz_sha256)
        dl.check_file(type(self).__name__, archive, "md5", self.tgz_md5)
        _extract(archive, target)
        return target / self.base_folder


def _extract(archive: Path, target: Path) -> None:
    """Extract a .tar.gz refusing members that would land outside `target` (absolute paths, '..', links)."""
    with tarfile.open(archive, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
            return
        root = target.resolve()
        for member in tar.getmembers():  # pragma: no cover - Pythons without extraction filters
            dest = (target / member.name).resolve()
            if root not in dest.parents and dest != root or member.issym() or member.islnk():
                raise ValueError(f"{archive}: refusing to extract {member.name!r} outside {target}")
        tar.extractall(target)  # pragma: no cover
