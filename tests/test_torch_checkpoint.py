"""tg.load on PyTorch's own checkpoint format, without torch doing the reading: real `torch.save` files (zip and
legacy) load and give torch's outputs; malicious pickles are refused and execute nothing."""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.models import cifar_zoo

torch = pytest.importorskip("torch")
from cifar_twins import randomised_state, torch_zoo  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_resnet18_state_dict_saved_by_torch_loads_and_gives_torch_outputs(tmp_path: Any) -> None:
    twin = torch_zoo()["resnet18_cifar"]()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in randomised_state(twin, 0, np.float32).items()})
    path = tmp_path / "resnet18.pth"
    torch.save(twin.state_dict(), path)
    ours = cifar_zoo.resnet18_cifar()
    result = ours.load_state_dict(tg.load(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in twin.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    x = np.random.default_rng(0).normal(size=(2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = twin.eval()(torch.from_numpy(x)).numpy()
    with tg.no_grad():
        got = ours.eval()(tg.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("zipfile_format", [True, False], ids=["zip", "legacy"])
def test_checkpoint_contents_round_trip(tmp_path: Any, zipfile_format: bool) -> None:
    """Views, transposes, every common dtype, Parameters, nested containers and plain values, both layouts."""
    base = torch.arange(24.0).reshape(4, 6)
    obj = {"t": base.t(), "view": base[1:, 2:4], "half": base.half(), "bf16": base.bfloat16(),
           "double": base.double(), "int": torch.tensor([1, -2], dtype=torch.int32), "bool": base > 3,
           "empty": torch.zeros(0, 3), "scalar": torch.tensor(5.0), "param": torch.nn.Parameter(torch.ones(2)),
           "epoch": 3, "name": "run", "nested": [torch.ones(2), (1, 2.5, None)], "size": torch.Size([2, 3])}
    path = tmp_path / "c.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=zipfile_format)
    got = tg.load(path)
    for k in ("t", "view", "half", "double", "int", "bool", "empty", "scalar"):
        assert got[k].numpy().dtype == obj[k].numpy().dtype, k
        np.testing.assert_array_equal(got[k].numpy(), obj[k].numpy(), err_msg=k)
    np.testing.assert_array_equal(got["bf16"].numpy(), obj["bf16"].float().numpy())  # widened exactly
    assert isinstance(got["param"], tg.nn.Parameter) and got["param"].requires_grad
    assert (got["epoch"], got["name"], got["nested"][1], tuple(got["size"])) == (3, "run", (1, 2.5, None), (2, 3))
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    assert tg.load(buf)["epoch"] == 3  # a file object too


def test_load_torch_state_dict_reads_a_path_without_torch_load(tmp_path: Any, monkeypatch: Any) -> None:
    lin = torch.nn.Linear(3, 2)
    torch.save({"model_state_dict": lin.state_dict(), "epoch": 1}, tmp_path / "ckpt.pt")
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load must not be used"))
    ours = tg.nn.Linear(3, 2)
    tg.load_torch_state_dict(ours, tmp_path / "ckpt.pt")
    np.testing.assert_array_equal(ours.weight.detach().numpy(), lin.weight.detach().numpy())


# --- malicious files ---------------------------------------------------------------------------------------------
def torch_zip(path: Any, data_pkl: bytes, storages: dict | None = None) -> Any:
    """A file laid out exactly like torch.save's archive, with the given data.pkl."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)
    return path


class SystemCall:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


class EvalCall:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (eval, (f"open({self.marker!r}, 'w').close()",))


def getattr_chain(marker: str) -> bytes:
    """builtins.getattr(builtins.__import__('os'), 'system')('touch marker'), in raw pickle opcodes."""
    return (b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(Vos\ntRVsystem\ntR(V" + f"touch {marker}".encode()
            + b"\ntR.")


def torch_namespace_call() -> bytes:
    """torch.hub.load('evil'): a global from torch's own namespace that is not a tensor rebuilder (network + code)."""
    return b"\x80\x02ctorch.hub\nload\nq\x00X\x04\x00\x00\x00evilq\x01\x85q\x02Rq\x03."


@pytest.fixture
def marker(tmp_path: Any) -> Any:
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a malicious checkpoint ran code"


@pytest.mark.parametrize("kind", ["os.system", "eval", "getattr_chain", "torch.hub.load", "whole_model"])
def test_malicious_pickles_are_refused_and_execute_nothing(tmp_path: Any, marker: Any, kind: str) -> None:
    payloads = {
        "os.system": lambda: pickle.dumps({"w": SystemCall(str(marker))}, protocol=2),
        "eval": lambda: pickle.dumps([EvalCall(str(marker))], protocol=4),
        "getattr_chain": lambda: getattr_chain(str(marker)),
        "torch.hub.load": torch_namespace_call,
        "whole_model": lambda: _whole_model_pickle(),
    }
    names = {"os.system": r"(posix|os)\.system", "eval": r"builtins\.eval", "getattr_chain": r"builtins\.getattr",
             "torch.hub.load": r"torch\.hub\.load", "whole_model": r"torch\.nn\.modules"}
    path = torch_zip(tmp_path / "evil.pt", payloads[kind]())
    with pytest.raises(pickle.UnpicklingError, match=names[kind] + r".*not allowed.*weights_only") as info:
        tg.load(path)
    assert isinstance(info.value, RuntimeError)  # also what tg.load raises for any bad file (one CLI line)
    assert not marker.exists()


def _whole_model_pickle() -> bytes:
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf)  # a pickled module, not a state dict: refused like torch's weights_only
    with zipfile.ZipFile(buf) as z:
        return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


def test_legacy_stream_with_a_malicious_object_is_refused(tmp_path: Any, marker: Any) -> None:
    path = tmp_path / "legacy.pt"
    with open(path, "wb") as f:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(obj, f, protocol=2)
        pickle.dump({"w": SystemCall(str(marker))}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"system.*not allowed"):
        tg.load(path)


def test_tensor_reaching_past_its_storage_is_refused(tmp_path: Any) -> None:
    """A crafted size/stride would make as_strided read foreign memory: the bounds are checked first."""
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    with zipfile.ZipFile(buf) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
        raw = z.read(next(n for n in z.namelist() if n.endswith("data/0")))
    evil = pkl.replace(b"K\x04\x85", b"M\x00\x10\x85", 1)  # size (4,) -> (4096,) on the same 4-element storage
    assert evil != pkl
    path = torch_zip(tmp_path / "oob.pt", evil, {"0": raw})
    with pytest.raises(pickle.UnpicklingError, match="reaches past its storage"):
        tg.load(path)


@pytest.mark.parametrize("zipfile_format", [True, False], ids=["zip", "legacy"])
def test_truncated_torch_checkpoint_names_the_file(tmp_path: Any, zipfile_format: bool) -> None:
    path = tmp_path / "cut.pt"
    torch.save({"w": torch.randn(64, 64)}, path, _use_new_zipfile_serialization=zipfile_format)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 4000])
    with pytest.raises(RuntimeError, match=r"cut\.pt.*(truncated|corrupt|not)"):
        tg.load(path)
