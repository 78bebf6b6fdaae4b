"""`tinygrad-cnn train / evaluate / demo` end to end on the synthetic data set (tiny, seconds)."""
import csv
import json
import re

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import models
from tinygrad_cnn.cli import build_parser, main
from tinygrad_cnn.training import data, load_checkpoint

TINY = ["--dataset", "synthetic", "--synthetic-size", "240", "--epochs", "1", "--batch-size", "20"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One tiny LeNet-5 run shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("lenet5")
    assert main(["train", "--model", "annt-lenet5", *TINY, "--seed", "1", "--out", str(out)]) == 0
    return out


def test_train_writes_metrics_config_checkpoints_and_plots(run_dir):
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert len(rows) == 1 and rows[0]["epoch"] == "1"
    assert 0 <= float(rows[0]["val_acc"]) <= 1 and float(rows[0]["train_loss"]) > 0
    config = json.load(open(run_dir / "config.json"))
    assert config["model"] == "annt-lenet5" and config["batch_size"] == 20 and config["epochs"] == 1
    assert config["lr"] == models.get_recipe("annt-lenet5").lr            # not given: from the recipe
    assert config["machine"]["numpy"] == np.__version__
    for name in ("last.npz", "best.npz"):
        state = load_checkpoint(run_dir / name)
        assert state["epoch"] == 1 and "3.weight" in state["model"]
    pytest.importorskip("matplotlib")
    for name in ("curves.png", "confusion.png"):
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_prints_annt_style_epoch_and_test_lines(tmp_path, capsys):
    assert main(["train", "--model", "kajda-mnist", *TINY, "--out", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr()
    assert re.search(r"Epoch +1 : training accuracy = [\d.]+% \(\d+/200\), cost = [\d.]+", out.out)
    assert re.search(r"validation accuracy = [\d.]+% \(\d+/40\), cost = [\d.]+", out.out)
    assert re.search(r"Test accuracy = [\d.]+% \(\d+/240\)", out.out)
    assert "img/s" in out.err                                              # the tqdm bar


def test_evaluate_prints_accuracy_per_class_and_confusion_matrix(run_dir, capsys):
    assert main(["evaluate", "--checkpoint", str(run_dir / "best.npz"), "--dataset", "synthetic"]) == 0
    out = capsys.readouterr().out
    # the expected numbers, computed here independently of the evaluate code
    state = load_checkpoint(run_dir / "best.npz")
    model = models.get_model("annt-lenet5").eval()
    model.load_state_dict(state["model"])
    ds = tg.datasets.SyntheticDigits(n=240, train=False)
    x = np.pad(ds.data.numpy()[:, None] / np.float32(255) * 2 - 1, ((0, 0), (0, 0), (2, 2), (2, 2)),
               constant_values=-1).astype(np.float32)
    with tg.no_grad():
        pred = model(tg.tensor(x)).numpy().argmax(1)
    y = ds.targets.numpy()
    assert f"Test accuracy = {100 * (pred == y).mean():.2f}% ({(pred == y).sum()}/240)" in out
    for k in range(10):
        assert re.search(rf"\b{k}: +{100 * (pred[y == k] == k).mean():.2f}%  \({(y == k).sum()} samples\)", out)
    matrix = [list(map(int, line.split()[1:])) for line in out.split("<- predicted")[-1].strip().splitlines()]
    expected = np.zeros((10, 10), int)
    np.add.at(expected, (y, pred), 1)
    assert np.array_equal(np.array(matrix), expected)


def test_unknown_model_or_dataset_exits_2_listing_the_valid_ones(capsys):
    for flag, valid in (("--model", models.list_models()), ("--dataset", list(data.DATASETS))):
        with pytest.raises(SystemExit) as info:
            main(["train", flag, "nope"])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "invalid choice: 'nope'" in err and all(name in err for name in valid)


def test_mismatched_model_and_dataset_is_reported(tmp_path, capsys):
    code = main(["train", "--model", "annt-cifar", *TINY, "--out", str(tmp_path)])
    assert code == 1 and "expects 3x32x32 inputs but the data set has 1x28x28" in capsys.readouterr().err


def test_evaluate_rejects_a_bare_state_dict(tmp_path, capsys):
    tg.save(models.annt_lenet5().state_dict(), tmp_path / "w.npz")
    assert main(["evaluate", "--checkpoint", str(tmp_path / "w.npz")]) == 1
    assert "not a training checkpoint" in capsys.readouterr().err


def test_parser_defaults_leave_hyperparameters_to_the_recipe():
    args = build_parser().parse_args(["train", "--model", "torch-example-mnist"])
    assert args.lr is None and args.optimizer is None and args.epochs is None
    from tinygrad_cnn.training import resolve_config
    config = resolve_config(model="torch-example-mnist", lr=0.5)
    assert config["lr"] == 0.5 and config["optimizer"] == "adadelta" and config["scheduler"] == "steplr"


def test_demo_is_registered_with_a_progress_bar_run():
    args = build_parser().parse_args(["demo"])
    assert args.epochs == 1 and args.func.__module__ == "tinygrad_cnn.cli.demo"


class TinyDigits(tg.datasets.SyntheticDigits):
    """Stands in for MNIST / Fashion-MNIST / CIFAR-10 in the example scripts: a few hundred drawn digits."""
    rgb = False

    def __init__(self, root=None, train=True, download=True, **kwargs):
        super().__init__(n=192 if train else 64, image_size=32 if self.rgb else 28, train=train)
        if self.rgb:
            self.channels_last = True
            self.data = tg.tensor(np.repeat(self.data.numpy()[..., None], 3, axis=-1))


class TinyRGB(TinyDigits):
    rgb = True


@pytest.mark.parametrize("script", ["mnist_lenet5", "fashion_lenet5", "kajda_mnist", "cifar10_annt",
                                    "torch_example_mnist"])
def test_examples_run(script, monkeypatch, capsys):
    import pathlib
    import runpy
    import sys

    for name in ("MNIST", "FashionMNIST"):
        monkeypatch.setattr(tg.datasets, name, TinyDigits)
    monkeypatch.setattr(tg.datasets, "CIFAR10", TinyRGB)
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / f"{script}.py"
    monkeypatch.setattr(sys, "argv", [str(path), "--epochs", "1"])
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert re.search(r"Test (accuracy = [\d.]+% \(\d+/64\)|set: Average loss: [\d.]+, Accuracy: \d+/64)", out)
