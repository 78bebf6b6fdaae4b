"""MNIST and Fashion-MNIST from their original IDX files (gzip-compressed or raw), checked by sha256.

IDX format (big-endian): two zero bytes, a type byte (0x08 = uint8, ...), the number of dims, then one uint32 per
dim, then the values. MNIST images have magic 0x00000803, dims (N, 28, 28); labels 0x00000801, dims (N,).
"""
from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path
from typing import Callable

import numpy as np

from ..tensor import Tensor
from . import _download as dl
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "parse_idx", "read_idx"]

_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


def parse_idx(data: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Decode an uncompressed IDX byte string into a (writable, native-endian) numpy array.

    Raises ValueError naming `path` when the magic number is not an IDX one or the size disagrees with the header.
    """
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_TYPES:
        magic = int.from_bytes(data[:4].ljust(4, b"\x00"), "big")
        raise ValueError(f"{path}: not an IDX file (magic number 0x{magic:08x}; expected 0x000008NN with a known "
                         f"type byte, e.g. 0x{IMAGES_MAGIC:08x} for images, 0x{LABELS_MAGIC:08x} for labels)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, {ndim} dims need {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: the IDX header declares shape {dims} of {dtype.name} ({expected} bytes) but "
                         f"{len(data) - header} bytes follow it (truncated or corrupt file)")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))  # a native-endian, writable copy


def idx_magic(data: bytes) -> int:
    return int.from_bytes(data[:4], "big")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gunzipping it when it starts with the gzip magic bytes (whatever its name)."""
    raw = Path(path).read_bytes()
    return parse_idx(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw, path)


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60 000 training and 10 000 test images, 28x28 grey, labels 0..9.

    Args:
        root: data root holding `mnist/` (see `tinygrad_cnn.datasets._download` for the search order when None).
        train: the training split (True) or the test split.
        download: fetch missing files from the mirrors (existing files are never re-downloaded).
        transform: applied to the uint8 (28, 28) numpy image; None gives a float32 Tensor (1, 28, 28) in [0, 1].
        target_transform: applied to the int label.

    Attributes: `data` uint8 Tensor (N, 28, 28), `targets` int64 Tensor (N,), `classes`, `class_to_idx`.
    Raises DatasetNotFoundError (a RuntimeError) naming the files and roots when a file is missing, and
    IntegrityError (a RuntimeError) naming the file and both sha256 digests when a file is corrupt.
    """

    folder = "mnist"
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    # file name -> (sha256 of the .gz as distributed, sha256 of the uncompressed IDX file)
    resources = {
        "train-images-idx3-ubyte": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels-idx1-ubyte": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "t10k-images-idx3-ubyte": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                                   "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                                   "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, download: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        prefix = "train" if train else "t10k"
        images_path, labels_path = self._locate([f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"],
                                                download)
        images = self._load(images_path, IMAGES_MAGIC, 3)
        labels = self._load(labels_path, LABELS_MAGIC, 1)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{type(self).__name__}: {images_path} holds {images.shape[0]} images but "
                             f"{labels_path} holds {labels.shape[0]} labels")
        self.data = Tensor._wrap(images)  # (N, 28, 28) uint8
        self.targets = Tensor._wrap(labels.astype(np.int64))  # (N,)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def _locate(self, names: list, download: bool) -> list:
        """The path of each file (`name.gz`, else the raw `name`) in the first root holding it; downloads the
        missing ones into the first root when allowed."""
        roots = dl.data_roots(self.root)
        found, missing = [], []
        for name in names:
            hits = [r / self.folder / f for r in roots for f in (name + ".gz", name) if (r / self.folder / f).is_file()]
            found.append(hits[0] if hits else None)
            if not hits:
                missing.append(name + ".gz")
        if missing and not download:
            raise dl.missing_error(type(self).__name__, missing, self.folder, roots)
        for i, name in enumerate(names):
            if found[i] is None:
                dest = roots[0] / self.folder / (name + ".gz")
                found[i] = dl.download(type(self).__name__, [m + name + ".gz" for m in self.mirrors], dest,
                                       "sha256", self.resources[name][0])
        return found

    def _load(self, path: Path, magic: int, ndim: int) -> np.ndarray:
        """Read, verify (sha256 of the file as stored), decompress and parse one IDX file."""
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        gz_sha, raw_sha = self.resources[name]
        compressed = path.name.endswith(".gz")
        raw = dl.check_bytes(type(self).__name__, path, path.read_bytes(), "sha256", gz_sha if compressed else raw_sha)
        data = gzip.decompress(raw) if compressed else raw
        if idx_magic(data) != magic:
            raise ValueError(f"{path}: magic number 0x{idx_magic(data):08x}, expected 0x{magic:08x} "
                             f"({'images' if magic == IMAGES_MAGIC else 'labels'})")
        arr = parse_idx(data, path)
        if arr.ndim != ndim or (ndim == 3 and arr.shape[1:] != (28, 28)):
            raise ValueError(f"{path}: shape {arr.shape}, expected {'(N, 28, 28)' if ndim == 3 else '(N,)'}")
        return arr


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing. Same arguments as MNIST."""

    folder = "fashion-mnist"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = {
        "train-images-idx3-ubyte": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train-labels-idx1-ubyte": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "t10k-images-idx3-ubyte": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                                   "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t10k-labels-idx1-ubyte": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                                   "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
