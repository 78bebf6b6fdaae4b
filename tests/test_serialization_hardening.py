"""tg.load on malformed and hostile files: one RuntimeError naming the file and the problem (never a raw
AttributeError / StopIteration / TypeError / RecursionError), no non-numeric arrays as tensors, and no member
decompressed unless the checkpoint references it (a small file must not cost hundreds of MiB)."""
import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.training import load_checkpoint

FORMAT = "tinygrad_cnn-checkpoint-1"


def npz(tmp_path, structure, name="bad.npz", **arrays):
    """An npz with `structure` (a JSON-able object, or raw bytes) as its __structure__ entry."""
    raw = structure if isinstance(structure, bytes) else json.dumps(structure).encode()
    path = tmp_path / name
    np.savez(path, __structure__=np.frombuffer(raw, np.uint8), **arrays)
    return path


def nested(levels):
    node = 1
    for _ in range(levels):
        node = {"list": [node]}
    return node


MALFORMED = {
    "a JSON list as structure": ([1, 2], {}, "__structure__ is a JSON list"),
    "an empty root": ({"format": FORMAT, "root": {}}, {}, "root is an empty JSON object"),
    "no root": ({"format": FORMAT}, {}, "no 'root'"),
    "a root that is a list": ({"format": FORMAT, "root": [1]}, {}, "root is a JSON list"),
    "an unhashable key": ({"format": FORMAT, "root": {"dict": [[{"dict": []}, 1]]}}, {}, "cannot be a dict key"),
    "a list key": ({"format": FORMAT, "root": {"dict": [[{"list": [{"dict": []}]}, 1]]}}, {}, "cannot be a dict key"),
    "an unknown dtype": ({"format": FORMAT, "root": {"dtype": "float99"}}, {}, "'float99' is not a valid dtype"),
    "a string dtype": ({"format": FORMAT, "root": {"dtype": "U5"}}, {}, "'U5' is not a tensor dtype"),
    "an unknown kind": ({"format": FORMAT, "root": {"pickle": "x"}}, {}, "unknown keys ['pickle']"),
    "a bad pair": ({"format": FORMAT, "root": {"dict": [[1]]}}, {}, "not a [key, value] pair"),
    "a missing member": ({"format": FORMAT, "root": {"tensor": "t7"}}, {}, "member 't7' is missing"),
    "a bad int": ({"format": FORMAT, "root": {"int": "12x"}}, {}, "'12x' is not a valid int"),
    "a non-string reference": ({"format": FORMAT, "root": {"tensor": 3}}, {}, "must name an array member"),
    "deep nesting": ({"format": FORMAT, "root": nested(150)}, {}, "nested deeper than 100 levels"),
    "JSON nesting beyond the parser": (b'{"format": "%s", "root": ' % FORMAT.encode() + b"[" * 100000
                                       + b"]" * 100000 + b"}", {}, "nested too deeply"),
    "a string tensor": ({"format": FORMAT, "root": {"tensor": "t0"}}, {"t0": np.array(["ab", "c"])},
                        "only numeric arrays"),
    "a datetime tensor": ({"format": FORMAT, "root": {"tensor": "t0"}},
                          {"t0": np.array(["2020-01-01"], dtype="datetime64[D]")}, "only numeric arrays"),
    "a void array": ({"format": FORMAT, "root": {"ndarray": "t0"}}, {"t0": np.zeros(2, dtype=[("a", "i4")])},
                     "only numeric arrays"),
    "a complex tensor": ({"format": FORMAT, "root": {"tensor": "t0"}}, {"t0": np.zeros(2, complex)},
                         "which no tensor can hold"),
    "an int tensor requiring grad": ({"format": FORMAT, "root": {"tensor": "t0", "requires_grad": True}},
                                     {"t0": np.arange(3)}, "int64 tensor cannot require grad"),
    "a non-scalar npscalar": ({"format": FORMAT, "root": {"npscalar": "t0"}}, {"t0": np.arange(3)},
                              "is not a scalar"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_structure_is_one_runtime_error_naming_file_and_problem(tmp_path, case):
    structure, arrays, problem = MALFORMED[case]
    path = npz(tmp_path, structure, **arrays)
    with pytest.raises(RuntimeError) as e:
        tg.load(path)
    assert type(e.value) is RuntimeError
    assert str(e.value).startswith(f"tg.load: {path} ") and problem in str(e.value), str(e.value)


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "obj.npz"
    with zipfile.ZipFile(path, "w") as z:  # np.savez would pickle it; write the member by hand
        z.writestr("__structure__.npy", _npy(np.frombuffer(json.dumps(
            {"format": FORMAT, "root": {"ndarray": "t0"}}).encode(), np.uint8)))
        header = b"\x93NUMPY\x01\x00" + _padded_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }")
        z.writestr("t0.npy", header + b"\x80\x04N.")
    with pytest.raises(RuntimeError, match=r"member 't0' has dtype '\|O'.*only numeric arrays"):
        tg.load(path)


def _padded_header(text):
    text = text.encode()
    pad = 64 - (10 + len(text) + 1) % 64
    body = text + b" " * pad + b"\n"
    return len(body).to_bytes(2, "little") + body


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_unreferenced_members_are_never_decompressed(tmp_path):
    """A small file with a 100 MiB unreferenced member loads with a few MiB of memory."""
    path = tmp_path / "bomb.npz"
    tg.save({"w": tg.ones(3)}, path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("junk.npy", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(100):
                f.write(chunk)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        loaded = tg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded["w"].tolist() == [1.0, 1.0, 1.0]
    assert peak < 8 << 20, f"loading took {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("lie", ["more", "less"])
def test_a_member_whose_header_disagrees_with_its_size_is_refused(tmp_path, lie):
    """The header declares the shape; a member holding more (a bomb behind a small shape) or less is refused
    before its data are read."""
    path = tmp_path / "lie.npz"
    real = np.zeros(1000 if lie == "more" else 10, np.float32)
    declared = _npy(np.zeros(10 if lie == "more" else 1000, np.float32))
    header_len = len(declared) - (10 if lie == "more" else 1000) * 4
    structure = _npy(np.frombuffer(json.dumps({"format": FORMAT, "root": {"tensor": "t0"}}).encode(), np.uint8))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("__structure__.npy", structure)
        z.writestr("t0.npy", declared[:header_len] + real.tobytes())
    with pytest.raises(RuntimeError, match=r"member 't0' declares shape \((10|1000),\) of float32"):
        tg.load(path)


def test_save_refuses_a_container_that_holds_itself(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"tg\.save: obj(\[0\])+ is nested deeper than 100 levels"):
        tg.save(loop, tmp_path / "loop.npz")
    assert not list(tmp_path.iterdir())


def test_training_checkpoint_with_a_malformed_structure_names_the_file(tmp_path):
    path = npz(tmp_path, {"format": FORMAT, "root": {"list": [{}]}}, name="last.npz")
    with pytest.raises(RuntimeError, match=rf"{path}.*root\[0\] is an empty JSON object"):
        load_checkpoint(path)


@pytest.mark.parametrize("bad", [{"epoch": 1}, {"model": {}, "epoch": "one", "batch": 0}])
def test_training_checkpoint_missing_fields_is_a_value_error(tmp_path, bad):
    from tinygrad_cnn.training.checkpoint import FORMAT as TRAIN_FORMAT

    path = tmp_path / "last.npz"
    tg.save({"format": TRAIN_FORMAT, **bad}, path)
    with pytest.raises(ValueError, match=rf"{path} is not a complete training checkpoint"):
        load_checkpoint(path)
