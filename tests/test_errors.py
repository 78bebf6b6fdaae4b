"""Bad input across the public API: the exception type torch raises, and a message a user can fix the bug from.

Each case runs the same code with m=tinygrad_cnn and (where torch has the same API) m=torch: both must raise the
same exception type, and our message must name the op and the shapes/values involved (the `needles`).
"""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


class Case:
    def __init__(self, fn: Callable[[Any], Any], exc: type, *needles: str, torch_too: bool = True) -> None:
        self.fn, self.exc, self.needles, self.torch_too = fn, exc, needles, torch_too


def _twice_backward(m: Any) -> None:
    y = m.randn(3, requires_grad=True).exp().sum()
    y.backward()
    y.backward()


def _linear_after_flatten(m: Any) -> None:
    net = m.nn.Sequential(m.nn.Conv2d(1, 2, 3), m.nn.Flatten(), m.nn.Linear(10, 3))
    net(m.randn(2, 1, 6, 6))


CASES = {
    # --- convolution and pooling ---
    "conv2d channel mismatch": Case(lambda m: m.nn.functional.conv2d(m.randn(2, 3, 8, 8), m.randn(4, 2, 3, 3)),
                                    RuntimeError, "conv2d", "3 channels", "expects 2", "(2, 3, 8, 8)", "(4, 2, 3, 3)"),
    "Conv2d layer channel mismatch": Case(lambda m: m.nn.Conv2d(3, 4, 3)(m.randn(2, 1, 8, 8)), RuntimeError,
                                          "conv2d", "1 channels", "expects 3", "(2, 1, 8, 8)", "(4, 3, 3, 3)"),
    "conv2d groups not dividing out_channels": Case(
        lambda m: m.nn.functional.conv2d(m.randn(2, 4, 8, 8), m.randn(4, 2, 3, 3), groups=3), RuntimeError,
        "conv2d", "groups=3", "4 output channels", "(4, 2, 3, 3)"),
    "conv2d groups and in_channels": Case(
        lambda m: m.nn.functional.conv2d(m.randn(2, 3, 8, 8), m.randn(4, 1, 3, 3), groups=2), RuntimeError,
        "conv2d", "3 channels", "groups=2", "(2, 3, 8, 8)"),
    "Conv2d in_channels not divisible by groups": Case(lambda m: m.nn.Conv2d(3, 4, 3, groups=2), ValueError,
                                                       "in_channels must be divisible by groups", "in_channels=3",
                                                       "groups=2"),
    "conv2d kernel larger than padded input": Case(
        lambda m: m.nn.functional.conv2d(m.randn(1, 1, 3, 3), m.randn(1, 1, 5, 5), padding=0), RuntimeError,
        "conv2d", "kernel 5 x 5", "padded input 3 x 3", "(1, 1, 3, 3)"),
    "conv2d zero stride": Case(lambda m: m.nn.functional.conv2d(m.randn(1, 1, 5, 5), m.randn(1, 1, 3, 3), stride=0),
                               RuntimeError, "conv2d", "stride=0"),
    "conv2d negative stride": Case(
        lambda m: m.nn.functional.conv2d(m.randn(1, 1, 5, 5), m.randn(1, 1, 3, 3), stride=(1, -2)), RuntimeError,
        "conv2d", "stride=(1, -2)"),
    "conv2d negative padding": Case(
        lambda m: m.nn.functional.conv2d(m.randn(1, 1, 5, 5), m.randn(1, 1, 3, 3), padding=-1), RuntimeError,
        "conv2d", "padding=-1"),
    "conv2d 2-D input": Case(lambda m: m.nn.functional.conv2d(m.randn(5, 5), m.randn(1, 1, 3, 3)), RuntimeError,
                             "conv2d", "3-D", "4-D", "(5, 5)"),
    "Conv2d 5-D input": Case(lambda m: m.nn.Conv2d(1, 2, 3)(m.randn(1, 1, 1, 6, 6)), RuntimeError,
                             "conv2d", "(1, 1, 1, 6, 6)"),
    "conv2d dtype mismatch": Case(
        lambda m: m.nn.functional.conv2d(m.randn(1, 1, 6, 6, dtype=m.float64), m.randn(2, 1, 3, 3)),
        RuntimeError, "conv2d", "float64", "float32", "(1, 1, 6, 6)"),
    "BatchNorm2d 3-D input": Case(lambda m: m.nn.BatchNorm2d(3)(m.randn(3, 5, 5)), ValueError,
                                  "expected 4D input (got 3D input)", "BatchNorm2d", "(3, 5, 5)"),
    "BatchNorm2d channel mismatch": Case(lambda m: m.nn.BatchNorm2d(3)(m.randn(2, 4, 5, 5)), RuntimeError,
                                         "BatchNorm2d", "num_features=3", "4 channels", "(2, 4, 5, 5)"),
    "max_pool2d window larger than input": Case(lambda m: m.nn.functional.max_pool2d(m.randn(1, 1, 2, 2), 3),
                                                RuntimeError, "max_pool2d", "too small", "(1, 1, 2, 2)"),
    "max_pool2d zero stride": Case(lambda m: m.nn.functional.max_pool2d(m.randn(1, 1, 4, 4), 2, stride=0),
                                   RuntimeError, "max_pool2d", "stride=0"),
    "max_pool2d padding over half the kernel": Case(
        lambda m: m.nn.functional.max_pool2d(m.randn(1, 1, 4, 4), 2, padding=2), RuntimeError,
        "max_pool2d", "padding=2", "kernel_size=2"),
    "max_pool2d 1-D input": Case(lambda m: m.nn.functional.max_pool2d(m.randn(5), 2), RuntimeError,
                                 "max_pool2d", "(5,)"),
    # --- linear algebra and broadcasting ---
    "Linear feature mismatch": Case(lambda m: m.nn.Linear(10, 5)(m.randn(3, 8)), RuntimeError,
                                    "Linear", "in_features=10", "8 features", "(3, 8)"),
    "Linear after Flatten (wrong in_features)": Case(_linear_after_flatten, RuntimeError, "Linear",
                                                     "in_features=10", "32 features", "(2, 32)"),
    "F.linear feature mismatch": Case(lambda m: m.nn.functional.linear(m.randn(3, 8), m.randn(5, 10)),
                                      RuntimeError, "linear", "8 features", "(3, 8)", "(5, 10)"),
    "Linear given float64 data": Case(lambda m: m.nn.Linear(2, 2)(m.randn(3, 2, dtype=m.float64)), RuntimeError,
                                      "same dtype", "float64", "float32", "(3, 2)", ".float()"),
    "Linear given integer data": Case(lambda m: m.nn.Linear(2, 2)(m.tensor([[1, 2]])), RuntimeError,
                                      "same dtype", "int64", "(1, 2)"),
    "where operands do not broadcast": Case(
        lambda m: m.where(m.tensor([True, False, True]), m.randn(2), m.randn(3)), RuntimeError,
        "where", "(2,)", "(3,)"),
    "matmul inner dimension": Case(lambda m: m.randn(3, 4) @ m.randn(5, 6), RuntimeError,
                                   "mat1 and mat2 shapes cannot be multiplied", "(3, 4)", "(5, 6)", "4 vs 5"),
    "matmul batch dims": Case(lambda m: m.randn(2, 3, 4) @ m.randn(3, 4, 6), RuntimeError, "matmul",
                              "size of tensor a (2)", "tensor b (3)"),
    "broadcast add": Case(lambda m: m.randn(3, 4) + m.randn(5, 4), RuntimeError,
                          "add", "(3, 4)", "(5, 4)", "dimension 0"),
    "broadcast mul 3-D": Case(lambda m: m.randn(2, 3, 4) * m.randn(2, 4), RuntimeError,
                              "mul", "(2, 3, 4)", "(2, 4)", "dimension 1"),
    "mse_loss shapes do not broadcast": Case(lambda m: m.nn.functional.mse_loss(m.randn(4, 3), m.randn(5, 3)),
                                             RuntimeError, "mse_loss", "(4, 3)", "(5, 3)"),
    # --- losses ---
    "cross_entropy target out of range": Case(
        lambda m: m.nn.functional.cross_entropy(m.randn(4, 3), m.tensor([0, 1, 5, 2])), IndexError,
        "cross_entropy", "target 5", "3 classes", "position 2"),
    "cross_entropy negative target": Case(
        lambda m: m.nn.functional.cross_entropy(m.randn(4, 3), m.tensor([0, -2, 1, 2])), IndexError,
        "target -2", "position 1"),
    "nll_loss spatial target out of range": Case(
        lambda m: m.nn.functional.nll_loss(m.randn(2, 3, 2, 2), m.tensor([[[0, 1], [2, 0]], [[1, 7], [0, 0]]])),
        IndexError, "nll_loss", "target 7", "3 classes", "(1, 0, 1)"),
    "cross_entropy float targets of class-index shape": Case(
        lambda m: m.nn.functional.cross_entropy(m.randn(4, 3), m.tensor([0.0, 1.0, 2.0, 1.0])), RuntimeError,
        "cross_entropy", "float32", "(4,)", "(4, 3)", "long()"),
    "cross_entropy int32 targets": Case(
        lambda m: m.nn.functional.cross_entropy(m.randn(4, 3), m.tensor([0, 1, 2, 1], dtype=m.int32)),
        RuntimeError, "cross_entropy", "Long", "int32", "(4,)"),
    "cross_entropy batch mismatch": Case(
        lambda m: m.nn.functional.cross_entropy(m.randn(4, 3), m.tensor([0, 1, 2])), ValueError,
        "batch_size (4)", "batch_size (3)", "(4, 3)", "(3,)"),
    "loss reduction name": Case(lambda m: m.nn.functional.mse_loss(m.randn(3), m.randn(3), reduction="avg"),
                                ValueError, "mse_loss", "'avg'", "'mean'"),
    "binary_cross_entropy input outside [0, 1]": Case(
        lambda m: m.nn.functional.binary_cross_entropy(m.tensor([0.5, 1.5]), m.tensor([0.0, 1.0])), RuntimeError,
        "binary_cross_entropy", "between 0 and 1", "max 1.5", "sigmoid"),
    # --- shapes and indexing ---
    "reshape to incompatible size": Case(lambda m: m.randn(2, 3).reshape(4, 2), RuntimeError,
                                         "reshape", "[4, 2]", "size 6", "(2, 3)"),
    "reshape with -1 impossible": Case(lambda m: m.randn(2, 3).reshape(-1, 4), RuntimeError,
                                       "[-1, 4]", "size 6"),
    "view of a non-contiguous tensor": Case(lambda m: m.randn(2, 3).t().view(6), RuntimeError,
                                            "view size is not compatible", "(3, 2)", "(1, 3)", "reshape"),
    "index out of range": Case(lambda m: m.randn(3, 4)[1, 7], IndexError, "index 7", "dimension 1", "size 4"),
    "dim out of range": Case(lambda m: m.randn(2, 3).sum(dim=2), IndexError, "sum", "[-2, 1]", "got 2"),
    "cat sizes differ": Case(lambda m: m.cat([m.randn(2, 3), m.randn(2, 4)]), RuntimeError,
                             "cat", "(2, 4)", "tensor number 1"),
    "expand non-singleton": Case(lambda m: m.randn(3).expand(2, 4), RuntimeError,
                                 "expand", "(4)", "(3)", "[2, 4]"),
    "ragged nested list": Case(lambda m: m.tensor([[1, 2], [3]]), ValueError, "length 2", "dim 1", "got 1"),
    "setitem value of the wrong shape": Case(lambda m: m.zeros(3, 4).__setitem__(0, m.ones(5)), RuntimeError,
                                             "__setitem__", "(4)", "(5)", "(3, 4)"),
    "float size": Case(lambda m: m.randn(2.5), TypeError, "size", "float", "2.5"),
    "cat of nothing": Case(lambda m: m.cat([]), ValueError, "cat()", "non-empty"),
    "float index tensor": Case(lambda m: m.randn(3)[m.tensor([0.0, 1.0])], IndexError, "long", "float32"),
    "item of a multi-element tensor": Case(lambda m: m.randn(3).item(), RuntimeError, "3 elements", "(3,)"),
    # --- autograd ---
    "backward on a non-scalar": Case(lambda m: (m.randn(3, requires_grad=True) * 2).backward(), RuntimeError,
                                     "only for scalar outputs", "(3,)"),
    "backward twice": Case(_twice_backward, RuntimeError, "second time", "ExpBackward0", "retain_graph=True"),
    "backward without grad": Case(lambda m: m.randn(3).sum().backward(), RuntimeError,
                                  "does not require grad", "no_grad"),
    "numpy() of a tensor requiring grad": Case(lambda m: m.randn(3, requires_grad=True).numpy(), RuntimeError,
                                               "requires grad", "detach().numpy()"),
    "requires_grad on an integer tensor": Case(lambda m: m.tensor([1, 2]).requires_grad_(), RuntimeError,
                                               "floating point", "int64", "(2,)"),
    "gradient of the wrong shape": Case(lambda m: (m.randn(3, requires_grad=True) * 2).backward(m.ones(4)),
                                        RuntimeError, "Mismatch in shape", "(4,)", "(3,)"),
    "grad of an unused input": Case(
        lambda m: (lambda a, b: m.autograd.grad((a * 2).sum(), [a, b]))(m.randn(2, requires_grad=True),
                                                                          m.randn(2, requires_grad=True)),
        RuntimeError, "not have been used", "input 1", "allow_unused=True"),
    "grad with respect to a non-tensor": Case(
        lambda m: m.autograd.grad(m.randn(2, requires_grad=True).sum(), [1.0]), RuntimeError,
        "Tensors", "float", "input 0"),
    # --- optimisers, modules, state dicts, data ---
    "optimizer given a non-leaf": Case(lambda m: m.optim.SGD([m.randn(3, requires_grad=True) * 2], lr=0.1),
                                       ValueError, "non-leaf", "MulBackward0", "(3,)", "params[0]"),
    "optimizer given an empty list": Case(lambda m: m.optim.SGD([], lr=0.1), ValueError,
                                          "empty parameter list", "SGD", "model.parameters()"),
    "optimizer negative lr": Case(lambda m: m.optim.SGD([m.randn(3, requires_grad=True)], lr=-0.1), ValueError,
                                  "learning rate", "-0.1"),
    "load_state_dict missing key": Case(
        lambda m: m.nn.Linear(2, 3).load_state_dict({"weight": m.zeros(3, 2)}), RuntimeError,
        "Missing key(s)", '"bias"', "Linear"),
    "load_state_dict unexpected key": Case(
        lambda m: m.nn.Linear(2, 3).load_state_dict({**m.nn.Linear(2, 3).state_dict(), "extra": m.zeros(1)}),
        RuntimeError, "Unexpected key(s)", '"extra"'),
    "load_state_dict shape mismatch": Case(
        lambda m: m.nn.Linear(2, 3).load_state_dict(m.nn.Linear(2, 4).state_dict()), RuntimeError,
        "size mismatch for weight", "[4, 2]", "[3, 2]", "size mismatch for bias"),
    "plain tensor assigned to a parameter": Case(lambda m: setattr(m.nn.Linear(2, 3), "weight", m.randn(3, 2)),
                                                 TypeError, "parameter 'weight'", "Parameter"),
    "DataLoader batch_size=0": Case(
        lambda m: m.utils.data.DataLoader(m.utils.data.TensorDataset(m.randn(4, 2)), batch_size=0), ValueError,
        "batch_size", "batch_size=0"),
    "DataLoader negative batch_size": Case(
        lambda m: m.utils.data.DataLoader(m.utils.data.TensorDataset(m.randn(4, 2)), batch_size=-3), ValueError,
        "batch_size=-3"),
    "random_split lengths": Case(
        lambda m: m.utils.data.random_split(m.utils.data.TensorDataset(m.randn(4, 2)), [3, 3]), ValueError,
        "[3, 3]", "4 items"),
    "dropout probability": Case(lambda m: m.nn.functional.dropout(m.randn(3), p=1.5), ValueError, "dropout", "1.5"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str) -> None:
    case = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns before some of these errors (size mismatch in losses)
        with pytest.raises(Exception) as ours:
            case.fn(tg)
        if case.torch_too:
            with pytest.raises(Exception) as theirs:
                case.fn(torch)
    assert isinstance(ours.value, case.exc), f"{name}: {type(ours.value).__name__}: {ours.value}"
    if case.torch_too:
        assert isinstance(theirs.value, case.exc), f"torch raised {type(theirs.value).__name__}: {theirs.value}"
    msg = str(ours.value)
    missing = [n for n in case.needles if n not in msg]
    assert not missing, f"{name}: message lacks {missing}:\n{msg}"


# --- in-place rules ------------------------------------------------------------------------------------------
INPLACE_ON_LEAF = {
    "add_": lambda t: t.add_(1), "mul_": lambda t: t.mul_(2), "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(1.0), "clamp_": lambda t: t.clamp_(0, 1), "relu_": lambda t: t.relu_(),
    "__setitem__": lambda t: t.__setitem__(0, 1.0), "+=": lambda t: t.__iadd__(1.0),
}


@pytest.mark.parametrize("op", list(INPLACE_ON_LEAF))
def test_inplace_on_a_leaf_that_requires_grad(op: str) -> None:
    for m in (tg, torch):
        with pytest.raises(RuntimeError) as e:
            INPLACE_ON_LEAF[op](m.randn(3, 2, requires_grad=True))
        assert "leaf Variable that requires grad" in str(e.value)
    msg = str(_raised(lambda: INPLACE_ON_LEAF[op](tg.randn(3, 2, requires_grad=True))))
    assert f"{'add_' if op == '+=' else op}:" in msg and "(3, 2)" in msg and "no_grad" in msg, msg
    with tg.no_grad():  # what optimisers do: allowed
        INPLACE_ON_LEAF[op](tg.randn(3, 2, requires_grad=True))


@pytest.mark.parametrize("op", list(INPLACE_ON_LEAF))
def test_every_inplace_op_bumps_the_version_counter_as_torch(op: str) -> None:
    versions = []
    for m in (tg, torch):
        t = m.randn(3, 2, requires_grad=True) * 1  # a non-leaf: allowed
        before = t._version
        INPLACE_ON_LEAF[op](t)
        versions.append(t._version - before)
    assert versions[0] == versions[1] == 1


def _raised(fn: Callable) -> BaseException:
    with pytest.raises(Exception) as e:
        fn()
    return e.value


SAVED_THEN_MODIFIED = {  # forward that saves its input or output; the node's name; the in-place change
    "sigmoid output then mul_": (lambda h: h.sigmoid(), "SigmoidBackward0", lambda h, out: out.mul_(2)),
    "exp output then add_": (lambda h: h.exp(), "ExpBackward0", lambda h, out: out.add_(1)),
    "mul input then +=": (lambda h: h * h, "MulBackward0", lambda h, out: h.__iadd__(1.0)),
    "tanh output then setitem": (lambda h: h.tanh(), "TanhBackward0", lambda h, out: out.__setitem__((0, 1), 0.0)),
    "matmul input then zero_": (lambda h: h @ h.t(), "Backward0", lambda h, out: h.zero_()),
}


@pytest.mark.parametrize("name", list(SAVED_THEN_MODIFIED))
def test_backward_after_a_saved_tensor_was_modified(name: str) -> None:
    make, node, modify = SAVED_THEN_MODIFIED[name]
    messages = []
    for m in (tg, torch):
        h = m.randn(2, 3, requires_grad=True) * 1  # a non-leaf: in-place changes are allowed
        out = make(h)
        modify(h, out)
        with pytest.raises(RuntimeError) as e:
            out.sum().backward()
        messages.append(str(e.value))
        assert "modified by an inplace operation" in messages[-1] and "is at version 1" in messages[-1]
    ours = messages[0]
    assert node in ours and "(2, 3)" in ours, ours  # the op that saved it and the tensor's shape


# --- 3-D where 4-D is usual: accept exactly where torch accepts ----------------------------------------------
RANK_CASES = {
    "Conv2d": lambda m: m.nn.Conv2d(2, 3, 3),
    "MaxPool2d": lambda m: m.nn.MaxPool2d(2),
    "AvgPool2d": lambda m: m.nn.AvgPool2d(2),
    "BatchNorm2d": lambda m: m.nn.BatchNorm2d(2),
    "AdaptiveAvgPool2d": lambda m: m.nn.AdaptiveAvgPool2d(1),
}


@pytest.mark.parametrize("layer", list(RANK_CASES))
def test_unbatched_3d_input_accepted_only_where_torch_accepts(layer: str) -> None:
    x = np.random.default_rng(0).standard_normal((2, 6, 6)).astype(np.float32)
    results = []
    for m in (tg, torch):
        m.manual_seed(0)
        mod = RANK_CASES[layer](m)
        try:
            results.append(tuple(mod(m.tensor(x)).shape))
        except Exception as e:  # noqa: BLE001 - the type is compared below
            results.append(type(e))
    assert results[0] == results[1], f"{layer}: tinygrad_cnn {results[0]} vs torch {results[1]}"


# --- files: data sets and checkpoints ---------------------------------------------------------------------------
def test_dataset_missing_names_files_and_roots(tmp_path: Any) -> None:
    (tmp_path / "mnist").mkdir()
    with pytest.raises(RuntimeError) as e:
        tg.datasets.MNIST(root=str(tmp_path), download=False)
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "mnist") in msg and "download=True" in msg


def test_dataset_corrupt_file_names_the_file_and_digests(tmp_path: Any) -> None:
    root = tmp_path / "mnist"
    root.mkdir()
    (root / "train-images-idx3-ubyte.gz").write_bytes(b"not a gzip file")
    src = "/work/shared/data/mnist/train-labels-idx1-ubyte.gz"
    if os.path.exists(src):
        (root / "train-labels-idx1-ubyte.gz").write_bytes(open(src, "rb").read())
    else:
        (root / "train-labels-idx1-ubyte.gz").write_bytes(b"x")
    with pytest.raises(RuntimeError) as e:
        tg.datasets.MNIST(root=str(tmp_path), download=False)
    msg = str(e.value)
    assert str(root / "train-images-idx3-ubyte.gz") in msg and "sha256" in msg and "corrupt" in msg


def test_truncated_idx_file_names_declared_and_actual_size(tmp_path: Any) -> None:
    from tinygrad_cnn.datasets.mnist import read_idx

    header = (0x00000803).to_bytes(4, "big") + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(header + bytes(1000)))
    with pytest.raises(ValueError) as e:
        read_idx(path)
    msg = str(e.value)
    assert str(path) in msg and "(10, 28, 28)" in msg and "7840 bytes" in msg and "1000 bytes" in msg


def test_checkpoint_missing_and_truncated(tmp_path: Any) -> None:
    with pytest.raises(FileNotFoundError):
        tg.load(str(tmp_path / "nope.npz"))
    path = tmp_path / "model.npz"
    tg.save(tg.nn.Linear(20, 30).state_dict(), str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError) as e:
        tg.load(str(path))
    assert str(path) in str(e.value) and "truncated or corrupt" in str(e.value)
    path.write_bytes(b"")
    with pytest.raises(RuntimeError, match="truncated or corrupt"):
        tg.load(str(path))


# --- the command line -----------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygrad_cnn", *args], capture_output=True, text=True,
                          timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _train_cli_available() -> bool:
    from tinygrad_cnn import cli

    return "train" in [m.__name__.rsplit(".", 1)[-1] for m in cli.SUBCOMMANDS]


@pytest.mark.parametrize("flag, bad, valid", [("--model", "lenet6", "annt-lenet5"), ("--dataset", "cifar100", "mnist")])
def test_cli_unknown_name_lists_valid_ones_exit_2(flag: str, bad: str, valid: str) -> None:
    if not _train_cli_available():
        pytest.skip("the train sub-command is not registered yet")
    r = _cli("train", flag, bad, "--epochs", "1")
    assert r.returncode == 2, r.stderr
    assert bad in r.stderr and valid in r.stderr and flag in r.stderr


# --- anomaly mode on bad input ---------------------------------------------------------------------------------
def test_nan_input_with_anomaly_mode() -> None:
    tg.manual_seed(0)
    net = tg.nn.Sequential(tg.nn.Conv2d(1, 2, 3), tg.nn.ReLU(), tg.nn.Flatten(), tg.nn.Linear(8, 2))
    x = tg.randn(1, 1, 4, 4)
    x[0, 0, 3, 1] = float("nan")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        net(x)  # off: NaN flows through silently, as in torch
        with tg.autograd.detect_anomaly(), pytest.raises(RuntimeError) as e:
            net(x)
    msg = str(e.value)
    assert "Conv2d produced nan" in msg and "Sequential.0 (Conv2d)" in msg
    assert "input 0 (shape (1, 1, 4, 4)) already held nan at index (0, 0, 3, 1)" in msg
    assert f"{__file__}:" in msg


def test_cli_resume_from_a_corrupt_checkpoint_is_a_message_not_a_traceback(tmp_path: Any) -> None:
    (tmp_path / "last.npz").write_bytes(bytes(range(256)) * 2)  # not a zip: numpy would call it a pickle
    for args in (["train", "--resume", str(tmp_path)], ["evaluate", "--checkpoint", str(tmp_path / "last.npz")]):
        r = _cli(*args)
        out = r.stdout + r.stderr
        assert r.returncode == 1, out
        assert "Traceback" not in out and str(tmp_path / "last.npz") in out and "truncated or corrupt" in out
        assert "allow_pickle" not in out  # numpy's advice to unpickle an unknown file must not reach the user


# --- docs/errors.md stays true ----------------------------------------------------------------------------------
def test_docs_errors_page_is_current() -> None:
    """Every ```python block followed by a ```text block in docs/errors.md raises exactly that text."""
    import linecache
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    page = open(os.path.join(root, "docs", "errors.md"), encoding="utf-8").read()
    pairs = re.findall(r"```python\n(.*?)```\s*```text\n(.*?)\n```", page, flags=re.S)
    assert len(pairs) == 10
    for n, (src, expected) in enumerate(pairs, 1):
        src = src.rstrip("\n")
        name = f"example{n}.py"  # the file name anomaly mode reports for the example's own lines
        linecache.cache[name] = (len(src), None, [line + "\n" for line in src.splitlines()], name)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as e:
                exec(compile(src, name, "exec"), {"__name__": "__main__"})
        assert f"{type(e.value).__name__}: {e.value}" == expected, f"docs/errors.md example {n} is out of date"
