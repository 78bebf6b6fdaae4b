"""safetensors both ways: a file written by tg.save loads with safetensors.torch.load_file into the torch twin and
gives our outputs, and a file written by safetensors.torch loads with tg.load; metadata, errors, atomic writes."""
from __future__ import annotations

import io
import os
import sys
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.models import cifar_zoo

st_torch = pytest.importorskip("safetensors.torch")
torch = pytest.importorskip("torch")
from cifar_twins import randomised_state, torch_zoo  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pair() -> tuple:
    """(our MobileNetV2, its torch twin with other weights, an input): depthwise convs, BatchNorm buffers."""
    tg.manual_seed(0)
    ours = cifar_zoo.mobilenet_v2_cifar().eval()
    twin = torch_zoo()["mobilenet_v2_cifar"]().eval()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in randomised_state(twin, 1, np.float32).items()})
    return ours, twin, np.random.default_rng(0).normal(size=(2, 3, 32, 32)).astype(np.float32)


def outputs(ours: Any, twin: Any, x: np.ndarray) -> tuple:
    with tg.no_grad():
        a = ours(tg.tensor(x)).numpy()
    with torch.no_grad():
        b = twin(torch.from_numpy(x)).numpy()
    return a, b


def test_written_here_loads_in_torch(pair: tuple, tmp_path: Any) -> None:
    ours, twin, x = pair
    randomise = randomised_state(twin, 2, np.float32)
    ours.load_state_dict(randomise)
    path = tmp_path / "model.safetensors"
    tg.save(ours.state_dict(), path, metadata={"epoch": "7"})
    twin.load_state_dict(st_torch.load_file(str(path)))
    a, b = outputs(ours, twin, x)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert tg.safetensors.load_metadata(path) == {"epoch": "7"}


def test_written_by_torch_loads_here(pair: tuple, tmp_path: Any) -> None:
    ours, twin, x = pair
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in randomised_state(twin, 3, np.float32).items()})
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(twin.state_dict(), str(path), metadata={"source": "torch"})
    loaded = tg.load(path)
    assert set(loaded) == set(twin.state_dict())
    ours.load_state_dict(loaded)
    a, b = outputs(ours, twin, x)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert tg.safetensors.load_metadata(path) == {"source": "torch"}
    assert loaded["bn1.num_batches_tracked"].dtype == tg.int64


def test_module_mirrors_safetensors_torch(tmp_path: Any) -> None:
    sd = {"w": tg.randn(3, 2), "i": tg.tensor([1, 2, 3]), "h": tg.randn(2).half()}
    tg.safetensors.save_file(sd, tmp_path / "a.safetensors")
    back = tg.safetensors.load_file(tmp_path / "a.safetensors")
    for k, v in sd.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    assert tg.safetensors.load_metadata(tmp_path / "a.safetensors") == {"format": "pt"}
    blob = tg.safetensors.save(sd)
    np.testing.assert_array_equal(tg.safetensors.load(blob)["w"].numpy(), sd["w"].numpy())
    np.testing.assert_array_equal(st_torch.load(blob)["i"].numpy(), sd["i"].numpy())
    buf = io.BytesIO()
    buf.name = "x.safetensors"
    tg.save(sd, buf)
    buf.seek(0)
    assert set(tg.load(buf)) == set(sd)


def test_writes_are_atomic_and_leave_no_temporary(tmp_path: Any, monkeypatch: Any) -> None:
    path = tmp_path / "m.safetensors"
    tg.save({"v": tg.tensor([1.0])}, path)
    import safetensors.numpy as st_numpy

    def broken(*a: Any, **k: Any) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(st_numpy, "save", broken)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"v": tg.tensor([2.0])}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.safetensors"] and tg.load(path)["v"].item() == 1.0


def test_errors_name_the_problem(tmp_path: Any, monkeypatch: Any) -> None:
    path = tmp_path / "e.safetensors"
    with pytest.raises(TypeError, match=r"'opt'.*flat name -> tensor"):
        tg.save({"w": tg.ones(2), "opt": {"lr": 0.1}}, path)
    w = tg.ones(4)
    with pytest.raises(RuntimeError, match=r"'b' shares memory with 'a'"):
        tg.save({"a": w, "b": w[:2]}, path)
    with pytest.raises(TypeError, match="metadata must map str to str"):
        tg.save({"w": w}, path, metadata={"epoch": 3})
    with pytest.raises(ValueError, match="only in .safetensors"):
        tg.save({"w": w}, tmp_path / "e.npz", metadata={"a": "b"})
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(RuntimeError, match=r"e\.safetensors.*not a safetensors file"):
        tg.load(path)
    assert not os.path.exists(tmp_path / "e.npz")


def test_missing_extra_is_named(monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"'safetensors' extra"):
        tg.save({"w": tg.ones(1)}, tmp_path / "m.safetensors")
