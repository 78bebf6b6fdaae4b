"""tg.datasets: the real MNIST / Fashion-MNIST files, IDX parsing, integrity errors, root search, downloads
(through a fake opener: no network), CIFAR-10 pickles written here, and SyntheticDigits."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.datasets import _download as dl
from tinygrad_cnn.datasets import cifar as cifar_mod
from tinygrad_cnn.datasets.mnist import parse_idx, read_idx
from tinygrad_cnn.utils.data import DataLoader, default_collate

D = tg.datasets


def _real_root() -> Path | None:
    for cand in (os.environ.get(dl.ENV_VAR), Path(__file__).resolve().parents[1].parent / "shared" / "data"):
        if cand and (Path(cand) / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file():
            return Path(cand)
    return None


REAL = _real_root()
needs_real = pytest.mark.skipif(REAL is None, reason="MNIST files not found ($TINYGRAD_CNN_DATA or ../shared/data)")


@pytest.fixture(autouse=True)
def _isolated_roots(tmp_path, monkeypatch):
    """No test reads the user's cache or environment by accident, and none can reach the network."""
    monkeypatch.delenv(dl.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))

    def no_network(url, timeout=None):
        raise AssertionError(f"test tried to open {url}")

    monkeypatch.setattr(dl, "urlopen", no_network)


# --- the real files -------------------------------------------------------------------------------------------
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # published class sizes
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist_train():
    return D.MNIST(REAL, train=True, download=False) if REAL else None


@needs_real
def test_real_mnist_shapes_dtypes_histograms_and_statistics(mnist_train):
    test = D.MNIST(REAL, train=False, download=False)
    for ds, n, counts in ((mnist_train, 60000, MNIST_TRAIN_COUNTS), (test, 10000, MNIST_TEST_COUNTS)):
        assert len(ds) == n and tuple(ds.data.shape) == (n, 28, 28) and tuple(ds.targets.shape) == (n,)
        assert ds.data.dtype == tg.uint8 and ds.targets.dtype == tg.int64
        assert np.bincount(ds.targets.numpy(), minlength=10).tolist() == counts
    pixels = mnist_train.data.numpy().ravel().astype(np.float32) / 255
    mean = pixels.mean(dtype=np.float64)
    std = np.sqrt(np.dot(pixels, pixels) / pixels.size - mean ** 2)  # E[x^2] - E[x]^2: no big temporaries
    assert abs(mean - 0.1307) < 5e-5 and abs(std - 0.3081) < 5e-5  # the usual Normalize constants
    assert mnist_train.targets[0].item() == 5 and test.targets[0].item() == 7
    assert mnist_train.classes[3] == "3 - three" and mnist_train.class_to_idx["9 - nine"] == 9


@needs_real
def test_real_fashion_mnist():
    ds = D.FashionMNIST(REAL, train=False, download=False)
    assert tuple(ds.data.shape) == (10000, 28, 28)
    assert np.bincount(ds.targets.numpy()).tolist() == [1000] * 10
    assert ds.classes[9] == "Ankle boot" and ds.targets[0].item() == 9  # the first test image is an ankle boot


@needs_real
def test_hard_coded_digests_agree_with_sha256sums_file():
    listed = dict(reversed(line.split()) for line in (REAL / "SHA256SUMS").read_text().splitlines() if line)
    for cls in (D.MNIST, D.FashionMNIST):
        for name, (gz_sha, _) in cls.resources.items():
            assert listed[f"{cls.folder}/{name}.gz"] == gz_sha


@needs_real
def test_raw_digests_match_the_decompressed_real_files(tmp_path):
    for name, (_, raw_sha) in D.MNIST.resources.items():
        if "labels" in name:
            assert hashlib.sha256(gzip.open(REAL / "mnist" / f"{name}.gz").read()).hexdigest() == raw_sha


@needs_real
def test_real_items_transforms_and_batches(mnist_train):
    img, label = mnist_train[0]
    assert isinstance(label, int) and img.dtype == tg.float32 and tuple(img.shape) == (1, 28, 28)
    np.testing.assert_array_equal(img.numpy()[0], mnist_train.data.numpy()[0].astype(np.float32) / 255)
    seen = []
    ds = D.MNIST(REAL, train=False, download=False, transform=lambda x: seen.append(x) or x.shape,
                 target_transform=lambda y: -y)
    assert ds[1] == ((28, 28), -2) and seen[0].dtype == np.uint8
    fast = next(iter(DataLoader(mnist_train, batch_size=7)))
    slow = next(iter(DataLoader(mnist_train, batch_size=7, collate_fn=lambda b: default_collate(b))))
    assert [tuple(t.shape) for t in fast] == [(7, 1, 28, 28), (7,)]
    np.testing.assert_array_equal(fast[0].numpy(), slow[0].numpy())
    np.testing.assert_array_equal(fast[1].numpy(), slow[1].numpy())


@needs_real
def test_real_tensor_dataset_epoch_under_a_second(mnist_train):
    norm = D.transforms.Normalize((0.1307,), (0.3081,))
    tds = mnist_train.as_tensor_dataset(transform=norm)
    x, y = tds.tensors
    assert x.dtype == tg.float32 and tuple(x.shape) == (60000, 1, 28, 28) and y.dtype == tg.int64
    sample = x.numpy()[::20]  # every 20th image: enough for the moments, cheap to reduce
    assert abs(float(sample.mean())) < 0.05 and abs(float(sample.std()) - 1) < 0.05
    start = time.perf_counter()
    batches = sum(1 for _ in DataLoader(tds, batch_size=50, shuffle=True))
    assert batches == 1200 and time.perf_counter() - start < 1.0


@needs_real
def test_download_serves_real_bytes_through_the_opener(tmp_path, monkeypatch):
    requested = []

    def opener(url, timeout=None):
        requested.append(url)
        if "ossci" in url:
            raise OSError("mirror down")
        return io.BytesIO((REAL / "mnist" / url.rsplit("/", 1)[-1]).read_bytes())

    monkeypatch.setattr(dl, "urlopen", opener)
    ds = D.MNIST(tmp_path, train=False, download=True)
    assert len(ds) == 10000 and np.bincount(ds.targets.numpy()).tolist() == MNIST_TEST_COUNTS
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                                      "t10k-labels-idx1-ubyte.gz"]
    assert len(requested) == 4 and requested[1].startswith("http://yann.lecun.com/")
    monkeypatch.setattr(dl, "urlopen", lambda url, timeout=None: pytest.fail("re-downloaded an existing file"))
    assert len(D.MNIST(tmp_path, train=False, download=True)) == 10000


@needs_real
def test_truncated_real_file_names_path_and_both_digests(tmp_path):
    (tmp_path / "mnist").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(REAL / "mnist" / name, tmp_path / "mnist" / name)
    bad = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    os.chmod(bad, 0o644)
    bad.write_bytes(bad.read_bytes()[:1000])
    with pytest.raises(D.IntegrityError) as info:
        D.MNIST(tmp_path, train=False, download=False)
    msg = str(info.value)
    assert str(bad) in msg and D.MNIST.resources["t10k-labels-idx1-ubyte"][0] in msg
    assert hashlib.sha256(bad.read_bytes()).hexdigest() in msg and "Delete" in msg and dl.ENV_VAR in msg


# --- tiny IDX files written here -------------------------------------------------------------------------------
def _idx(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _tiny_mnist(folder: Path, n: int, offset: int = 0, gz: bool = True) -> dict:
    """Write 4 IDX files (train: n images, test: 3) into folder; return resources with their digests."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n + offset)
    resources = {}
    for prefix, count in (("train", n), ("t10k", 3)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = ((np.arange(count) + offset) % 10).astype(np.uint8)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            raw = _idx(arr)
            packed = gzip.compress(raw, mtime=0)
            (folder / (name + (".gz" if gz else ""))).write_bytes(packed if gz else raw)
            resources[name] = (hashlib.sha256(packed).hexdigest(), hashlib.sha256(raw).hexdigest())
    return resources


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_on_tiny_files(tmp_path, gz):
    arrays = [np.arange(24, dtype=np.uint8).reshape(2, 3, 4), np.array([-5, 7, 1 << 20], np.int32),
              np.linspace(0, 1, 6, dtype=np.float32).reshape(3, 2)]
    for k, arr in enumerate(arrays):
        path = tmp_path / f"a{k}.idx"
        path.write_bytes(gzip.compress(_idx(arr)) if gz else _idx(arr))
        out = read_idx(path)
        assert out.dtype == arr.dtype.newbyteorder("=") and out.flags.writeable
        np.testing.assert_array_equal(out, arr)


def test_idx_magic_and_size_errors_name_the_file():
    with pytest.raises(ValueError, match=r"bad\.idx: not an IDX file \(magic number 0x1f8b0800"):
        parse_idx(b"\x1f\x8b\x08\x00rest", "bad.idx")
    good = _idx(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"short\.idx: the IDX header declares shape \(2, 28, 28\).*1567 bytes"):
        parse_idx(good[:-1], "short.idx")


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_class_on_tiny_files(tmp_path, monkeypatch, gz):
    monkeypatch.setattr(D.MNIST, "resources", _tiny_mnist(tmp_path / "mnist", 12, gz=gz))
    ds = D.MNIST(tmp_path, download=False)
    assert len(ds) == 12 and ds.targets.tolist() == [i % 10 for i in range(12)]
    assert "Split: Train" in repr(ds) and str(tmp_path) in repr(ds)
    assert len(D.MNIST(tmp_path, train=False, download=False)) == 3


def test_labels_file_in_place_of_images_is_rejected(tmp_path, monkeypatch):
    res = _tiny_mnist(tmp_path / "mnist", 5)
    folder = tmp_path / "mnist"
    shutil.copy(folder / "train-labels-idx1-ubyte.gz", folder / "train-images-idx3-ubyte.gz")
    res["train-images-idx3-ubyte"] = res["train-labels-idx1-ubyte"]
    monkeypatch.setattr(D.MNIST, "resources", res)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: magic number 0x00000801, expected "
                                         r"0x00000803"):
        D.MNIST(tmp_path, download=False)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_file_error(tmp_path, monkeypatch, damage):
    res = _tiny_mnist(tmp_path / "mnist", 6)
    monkeypatch.setattr(D.MNIST, "resources", res)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0xFF
    else:
        blob = blob[:-10]
    path.write_bytes(bytes(blob))
    with pytest.raises(D.IntegrityError) as info:
        D.MNIST(tmp_path, download=False)
    msg = str(info.value)
    assert str(path) in msg and res["train-images-idx3-ubyte"][0] in msg
    assert hashlib.sha256(bytes(blob)).hexdigest() in msg and "download=True" in msg


def test_missing_file_names_file_and_searched_roots(tmp_path, monkeypatch):
    env_root = tmp_path / "env-root"
    monkeypatch.setenv(dl.ENV_VAR, str(env_root))
    with pytest.raises(D.DatasetNotFoundError) as info:
        D.MNIST(train=False, download=False)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert str(env_root / "mnist") in msg and str(tmp_path / "xdg-cache" / "tinygrad_cnn" / "mnist") in msg
    assert isinstance(info.value, RuntimeError)


def test_root_resolution_order(tmp_path, monkeypatch):
    cache = tmp_path / "xdg-cache" / "tinygrad_cnn"
    assert dl.data_roots() == [cache]
    monkeypatch.setenv(dl.ENV_VAR, str(tmp_path / "env"))
    assert dl.data_roots() == [tmp_path / "env", cache]
    assert dl.data_roots(tmp_path / "explicit") == [tmp_path / "explicit"]
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dl.data_roots()[-1] == tmp_path / "home" / ".cache" / "tinygrad_cnn"


def test_env_root_wins_over_cache_and_cache_fills_in(tmp_path, monkeypatch):
    env_root, cache = tmp_path / "env", tmp_path / "xdg-cache" / "tinygrad_cnn"
    monkeypatch.setenv(dl.ENV_VAR, str(env_root))
    res_cache = _tiny_mnist(cache / "mnist", 4, offset=1)
    monkeypatch.setattr(D.MNIST, "resources", res_cache)
    assert D.MNIST(download=False).targets.tolist() == [1, 2, 3, 4]  # only the cache has the files
    res_env = _tiny_mnist(env_root / "mnist", 5, offset=0)
    monkeypatch.setattr(D.MNIST, "resources", res_env)
    assert D.MNIST(download=False).targets.tolist() == [0, 1, 2, 3, 4]  # the env root comes first
    with pytest.raises(D.DatasetNotFoundError, match=str(tmp_path / "nowhere")):
        D.MNIST(tmp_path / "nowhere", download=False)  # an explicit root is the only one searched


def _serve(files: dict, log: list):
    def opener(url, timeout=None):
        log.append(url)
        name = url.rsplit("/", 1)[-1]
        if url.startswith("http://dead/") or name not in files:
            raise OSError(f"cannot reach {url}")
        return io.BytesIO(files[name])
    return opener


def test_download_is_atomic_and_verified(tmp_path, monkeypatch):
    src = tmp_path / "src"
    res = _tiny_mnist(src, 8)
    files = {p.name: p.read_bytes() for p in src.iterdir()}
    monkeypatch.setattr(D.MNIST, "resources", res)
    monkeypatch.setattr(D.MNIST, "mirrors", ["http://dead/", "http://good/"])
    log = []
    monkeypatch.setattr(dl, "urlopen", _serve(files, log))
    ds = D.MNIST(tmp_path / "root", download=True)
    assert ds.targets.tolist() == [i % 10 for i in range(8)]
    assert log == ["http://dead/train-images-idx3-ubyte.gz", "http://good/train-images-idx3-ubyte.gz",
                   "http://dead/train-labels-idx1-ubyte.gz", "http://good/train-labels-idx1-ubyte.gz"]
    # A mirror serving wrong bytes: the download fails, names the URLs and leaves nothing behind.
    files["t10k-labels-idx1-ubyte.gz"] = files["t10k-labels-idx1-ubyte.gz"][:-3]
    with pytest.raises(D.DatasetNotFoundError) as info:
        D.MNIST(tmp_path / "root", train=False, download=True)
    assert "http://good/t10k-labels-idx1-ubyte.gz" in str(info.value) and "sha256" in str(info.value)
    left = sorted(p.name for p in (tmp_path / "root" / "mnist").iterdir())
    assert "t10k-labels-idx1-ubyte.gz" not in left and not any(n.endswith(".part") for n in left)


# --- CIFAR-10 pickles written here -----------------------------------------------------------------------------
def _write_cifar(folder: Path, n: int = 4) -> dict:
    """Batches in the official layout (protocol 2 pickles of dicts with bytes keys); returns md5s by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    md5 = {}
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        batch = {b"batch_label": name.encode(), b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"labels": [(k + i) % 10 for i in range(n)], b"filenames": [b"x.png"] * n}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names, b"num_vis": 3072}, protocol=2))
    for p in folder.iterdir():
        md5[p.name] = hashlib.md5(p.read_bytes()).hexdigest()
    return md5


def _patch_cifar_md5(monkeypatch, md5: dict):
    monkeypatch.setattr(D.CIFAR10, "train_list", [[f"data_batch_{i}", md5[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(D.CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(D.CIFAR10, "meta", {**D.CIFAR10.meta, "md5": md5["batches.meta"]})


def test_cifar10_parser_layout_and_items(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10" / "cifar-10-batches-py"
    _patch_cifar_md5(monkeypatch, _write_cifar(folder))
    ds = D.CIFAR10(tmp_path, download=False)
    raw = cifar_mod.load_cifar_batch(folder / "data_batch_2")[b"data"]
    assert ds.data.shape == (20, 32, 32, 3) and ds.data.dtype == np.uint8 and len(ds.targets) == 20
    # Row layout: 1024 red values, then green, then blue, each row-major over (32, 32).
    c, h, w = 2, 5, 17
    assert ds.data[4 + 1, h, w, c] == raw[1, c * 1024 + h * 32 + w]
    img, label = ds[5]
    assert tuple(img.shape) == (3, 32, 32) and img.dtype == tg.float32 and label == ds.targets[5] == 2
    np.testing.assert_array_equal(img.numpy(), raw[1].reshape(3, 32, 32).astype(np.float32) / 255)
    assert ds.classes[1] == "automobile" and len(D.CIFAR10(tmp_path, train=False, download=False)) == 4
    xb, yb = next(iter(DataLoader(ds, batch_size=6)))
    assert tuple(xb.shape) == (6, 3, 32, 32) and yb.tolist() == ds.targets[:6]


def test_cifar10_refuses_foreign_globals_and_checks_md5(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10" / "cifar-10-batches-py"
    md5 = _write_cifar(folder)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil_batch"
    evil.write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global (posix|os|nt)\.system"):
        cifar_mod.load_cifar_batch(evil)
    assert not marker.exists()
    _patch_cifar_md5(monkeypatch, md5)
    (folder / "data_batch_3").write_bytes(b"junk")
    with pytest.raises(D.IntegrityError, match="data_batch_3 is corrupt or truncated: its md5 is"):
        D.CIFAR10(tmp_path, download=False)


def test_cifar10_download_and_extract(tmp_path, monkeypatch):
    staging = tmp_path / "staging" / "cifar-10-batches-py"
    md5 = _write_cifar(staging, n=2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(staging, arcname="cifar-10-batches-py")
    blob = buf.getvalue()
    _patch_cifar_md5(monkeypatch, md5)
    monkeypatch.setattr(D.CIFAR10, "tgz_md5", hashlib.md5(blob).hexdigest())
    monkeypatch.setattr(D.CIFAR10, "tgz_sha256", hashlib.sha256(blob).hexdigest())
    log = []
    monkeypatch.setattr(dl, "urlopen", _serve({"cifar-10-python.tar.gz": blob}, log))
    ds = D.CIFAR10(tmp_path / "root", train=False)
    assert len(ds) == 2 and log == [D.CIFAR10.url]
    assert (tmp_path / "root" / "cifar-10" / "cifar-10-python.tar.gz").is_file()


# --- SyntheticDigits -------------------------------------------------------------------------------------------
def test_synthetic_digits_format_determinism_and_balance():
    ds = D.SyntheticDigits(n=200, image_size=32, seed=3)
    assert tuple(ds.data.shape) == (200, 32, 32) and ds.data.dtype == tg.uint8 and ds.targets.dtype == tg.int64
    assert np.bincount(ds.targets.numpy()).tolist() == [20] * 10
    img, label = ds[0]
    assert tuple(img.shape) == (1, 32, 32) and img.dtype == tg.float32 and isinstance(label, int)
    again = D.SyntheticDigits(n=200, image_size=32, seed=3)
    np.testing.assert_array_equal(again.data.numpy(), ds.data.numpy())
    test = D.SyntheticDigits(n=200, image_size=32, seed=3, train=False)
    assert not np.array_equal(test.data.numpy(), ds.data.numpy())
    assert len(D.SyntheticDigits(n=30, num_classes=3).classes) == 3
    with pytest.raises(ValueError, match="num_classes should be in 1..10"):
        D.SyntheticDigits(n=5, num_classes=11)


def test_synthetic_digits_are_learnable_by_a_small_cnn():
    """Two quick epochs of a LeNet-style torch CNN on 2000 images, batched by our DataLoader: well above chance
    (typically 0.91-0.97; nearest-centroid and 1-NN on pixels only reach about 0.4 and 0.6)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: threads only add overhead on a shared machine
    try:
        _train_small_cnn(torch)
    finally:
        torch.set_num_threads(threads)


def _train_small_cnn(torch):
    torch.manual_seed(0)
    tg.manual_seed(0)
    train = D.SyntheticDigits(n=2000, seed=5).as_tensor_dataset()
    xt, yt = (torch.from_numpy(t.numpy()) for t in D.SyntheticDigits(n=500, seed=5, train=False)
              .as_tensor_dataset().tensors)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(2):
        for xb, yb in DataLoader(train, batch_size=32, shuffle=True):
            loss = nn.functional.cross_entropy(net(torch.from_numpy(xb.numpy())), torch.from_numpy(yb.numpy()))
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        assert (net(xt).argmax(1) == yt).float().mean().item() > 0.85


def test_unwritable_download_root_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(D.DatasetNotFoundError, match=r"cannot be downloaded into .*a-file/mnist.*writable root="):
        D.MNIST(blocker, download=True)
