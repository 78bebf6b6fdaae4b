"""tg.save / tg.load (npz + JSON, no pickle, atomic writes, clear errors) and tg.load_torch_state_dict."""
from __future__ import annotations

import io
import json
import math
import os
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")


def lenet(lib, dtype=None):
    """A LeNet-like net (conv, batchnorm, pools, linear) built the same way in either library."""
    n = lib.nn
    net = n.Sequential(OrderedDict([
        ("c1", n.Conv2d(1, 6, 5, padding=2)), ("bn1", n.BatchNorm2d(6)), ("a1", n.Tanh()), ("s2", n.MaxPool2d(2)),
        ("c3", n.Conv2d(6, 16, 5)), ("a3", n.ReLU()), ("s4", n.AvgPool2d(2)), ("flat", n.Flatten()),
        ("f5", n.Linear(400, 120)), ("bn5", n.BatchNorm1d(120)), ("a5", n.ReLU()), ("f6", n.Linear(120, 10))]))
    return net.double() if dtype == "double" else net


def test_state_dict_round_trip(tmp_path):
    m = lenet(tg)
    m.bn1.running_mean._data[:] = np.arange(6)
    m.bn1.num_batches_tracked._data[...] = 7
    path = tmp_path / "model.tgc"
    tg.save(m.state_dict(), path)
    loaded = tg.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(m.state_dict())
    for k, v in m.state_dict().items():
        assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape and np.array_equal(loaded[k]._data, v._data)
    assert loaded["bn1.num_batches_tracked"].item() == 7 and loaded["bn1.num_batches_tracked"].dtype == tg.int64
    fresh = lenet(tg)
    fresh.load_state_dict(loaded)
    assert np.array_equal(fresh.c3.weight._data, m.c3.weight._data)
    assert sorted(os.listdir(tmp_path)) == ["model.tgc"]  # no temporary file left behind


def test_nested_optimizer_like_state(tmp_path):
    p = nn.Parameter(tg.randn(3, 2))
    shared = tg.ones(4, dtype=tg.float64)
    state = {
        "state": {0: {"step": tg.tensor(12.0), "exp_avg": shared, "exp_avg_sq": shared, "momentum_buffer": None},
                  1: {}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1], "nesterov": False,
                          "name": "group-α", "maximize": True}],
        "numbers": [2 ** 62 + 1, -3, float("inf"), float("-inf"), float("nan"), 0.1],
        "arrays": (np.arange(5, dtype=np.int16), np.float32(2.5), np.bool_(True)),
        "dtype": tg.float64, "param": p, (1, "tuple-key"): "ok",
    }
    tg.save(state, tmp_path / "opt.ckpt")
    out = tg.load(tmp_path / "opt.ckpt")
    assert out["state"][0]["step"].item() == 12.0 and out["state"][1] == {}
    assert out["state"][0]["momentum_buffer"] is None
    assert out["state"][0]["exp_avg"] is out["state"][0]["exp_avg_sq"]  # one stored entry comes back as one tensor
    assert out["state"][0]["exp_avg"].dtype == tg.float64
    g = out["param_groups"][0]
    assert g == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1], "nesterov": False,
                 "name": "group-α", "maximize": True}
    nums = out["numbers"]
    assert nums[0] == 2 ** 62 + 1 and nums[2] == math.inf and nums[3] == -math.inf and math.isnan(nums[4])
    a, f, b = out["arrays"]
    assert a.dtype == np.int16 and a.tolist() == [0, 1, 2, 3, 4]
    assert isinstance(f, np.float32) and f == 2.5 and isinstance(b, np.bool_) and b
    assert out["dtype"] == tg.float64 and out[(1, "tuple-key")] == "ok"
    assert isinstance(out["param"], nn.Parameter) and out["param"].requires_grad
    assert np.array_equal(out["param"]._data, p._data)


def test_file_objects_and_no_pickle(tmp_path):
    buf = io.BytesIO()
    tg.save({"w": tg.arange(6).reshape(2, 3)}, buf)
    buf.seek(0)
    assert tg.load(buf)["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    path = tmp_path / "plain.npz"
    tg.save({"w": tg.ones(2)}, str(path))
    with np.load(path, allow_pickle=False) as z:  # an ordinary npz: readable without this library, no pickle
        structure = json.loads(z["__structure__"].tobytes().decode())
        assert structure["format"].startswith("tinygrad_cnn") and z["t0"].tolist() == [1.0, 1.0]


def test_unsupported_objects_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save an object of type function at obj\['cfg'\]\['act'\]"):
        tg.save({"cfg": {"act": lambda x: x}}, tmp_path / "x.ckpt")
    with pytest.raises(TypeError, match="set"):
        tg.save([{1, 2}], tmp_path / "x.ckpt")
    assert not os.listdir(tmp_path)


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.tgc"
    tg.save({"v": tg.tensor([1.0])}, path)
    before = path.read_bytes()

    def broken_savez(fh, **entries):
        fh.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt  # interrupted in the middle of writing

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"v": tg.tensor([2.0])}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.tgc"]
    assert tg.load(path)["v"].item() == 1.0
    moves = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (moves.append((a, b)), real_replace(a, b)))
    tg.save({"v": tg.tensor([3.0])}, path)
    (src, dst), = moves
    assert os.path.dirname(src) == str(tmp_path) and dst == str(path)  # the temp file sits beside the target


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty"])
def test_corrupt_files_give_clear_errors(tmp_path, damage):
    path = tmp_path / "bad.ckpt"
    tg.save({"w": tg.randn(50, 50)}, path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"this is not a checkpoint at all" * 10)
    elif damage == "flip":  # corrupt the array payload: the zip CRC check fails
        start = data.index(b"NUMPY", data.index(b"t0.npy")) + 200
        data[start:start + 64] = bytes(64)
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"tg\.load: .*bad\.ckpt.*(truncated or corrupt|not a tinygrad_cnn)"):
        tg.load(path)


def test_missing_file_and_torch_file_reads(tmp_path):
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "nope.ckpt")
    pt = tmp_path / "model.pt"
    theirs = torch.nn.Linear(2, 2)
    torch.save(theirs.state_dict(), pt)
    loaded = tg.load(pt)  # torch's own format, read without torch (tests/test_torch_checkpoint.py has the rest)
    assert list(loaded) == ["weight", "bias"]
    np.testing.assert_array_equal(loaded["weight"].numpy(), theirs.weight.detach().numpy())


# --- torch state dicts -------------------------------------------------------------------------------------------
def test_load_torch_state_dict_from_dict_and_file(tmp_path):
    theirs = lenet(torch)
    ours = lenet(tg)
    r = tg.load_torch_state_dict(ours, theirs.state_dict())
    assert r.missing_keys == [] and r.unexpected_keys == []
    for k, v in theirs.state_dict().items():
        assert np.array_equal(ours.state_dict()[k]._data, v.numpy())
        assert ours.state_dict()[k].dtype == (tg.int64 if k.endswith("num_batches_tracked") else tg.float32)
    ours2 = lenet(tg)
    tg.load_torch_state_dict(ours2, {k: v.numpy() for k, v in theirs.state_dict().items()})
    assert np.array_equal(ours2.f6.weight._data, theirs.f6.weight.detach().numpy())
    pt = tmp_path / "lenet.pth"
    torch.save({"epoch": 3, "model_state_dict": theirs.state_dict()}, pt)
    ours3 = lenet(tg)
    tg.load_torch_state_dict(ours3, pt)
    assert np.array_equal(ours3.c1.bias._data, theirs.c1.bias.detach().numpy())


def test_load_torch_state_dict_strictness():
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    ours = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 5))
    with pytest.raises(RuntimeError) as e:
        tg.load_torch_state_dict(ours, theirs.state_dict())
    assert "size mismatch for 1.weight" in str(e.value) and "[2, 3]" in str(e.value) and "[5, 3]" in str(e.value)
    sd = theirs.state_dict()
    del sd["1.bias"]
    ours = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "1.bias"'):
        tg.load_torch_state_dict(ours, sd)
    assert tg.load_torch_state_dict(ours, sd, strict=False).missing_keys == ["1.bias"]
    with pytest.raises(TypeError, match="expected a state dict"):
        tg.load_torch_state_dict(ours, [1, 2])


def test_lenet_outputs_match_torch_after_loading_its_weights():
    """The same LeNet-like net in both frameworks (float64): equal outputs in train and eval mode."""
    torch.manual_seed(0)
    theirs = lenet(torch).double()
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28))
    with torch.no_grad():  # a training step moves torch's BatchNorm running statistics away from 0/1
        theirs(torch.from_numpy(x))
    ours = lenet(tg, "double")
    tg.load_torch_state_dict(ours, theirs.state_dict())
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        out_t = theirs(torch.from_numpy(x)).detach().numpy()
        out_o = ours(tg.tensor(x)).numpy(force=True)
        assert out_o.dtype == np.float64
        np.testing.assert_allclose(out_o, out_t, atol=1e-10, rtol=0)
    for k, v in theirs.state_dict().items():  # the train-mode forward updated the same running statistics
        np.testing.assert_allclose(ours.state_dict()[k]._data, v.numpy(), atol=1e-12, rtol=0)


def test_resuming_from_a_checkpoint_continues_identically(tmp_path):
    """Model + optimizer state saved mid-training and loaded into fresh objects: the next steps are identical."""
    if not hasattr(tg, "optim") or not hasattr(tg.optim, "Adam"):
        pytest.skip("tg.optim.Adam not available")
    x, y = tg.randn(16, 4), tg.randint(0, 3, (16,))

    def make():
        tg.manual_seed(1)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        return model, tg.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)

    def step(model, opt):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()

    model, opt = make()
    for _ in range(3):
        step(model, opt)
    tg.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ckpt")
    for _ in range(2):
        step(model, opt)
    resumed, resumed_opt = make()
    ckpt = tg.load(tmp_path / "ckpt")
    resumed.load_state_dict(ckpt["model"])
    resumed_opt.load_state_dict(ckpt["opt"])
    for _ in range(2):
        step(resumed, resumed_opt)
    for (k, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert np.array_equal(a._data, b._data), k
