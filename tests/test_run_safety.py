"""A run's files are never lost or mixed: `train --out DIR` refuses an existing run (unless --resume/--overwrite),
one process at a time holds DIR/.lock, an interrupt at any write leaves a state that resumes to exactly the
uninterrupted run's files, and every data file is verified before the first step."""
import csv
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tinygrad_cnn import models, nn
from tinygrad_cnn.cli import main
from tinygrad_cnn.models.registry import ModelSpec
from tinygrad_cnn.training import Trainer, load_checkpoint, resolve_config
from tinygrad_cnn.training.run_dir import RunDirError
from tinygrad_cnn.training.run_lock import RunLock, RunLockedError

TINY = ["--dataset", "synthetic", "--synthetic-size", "120", "--epochs", "1", "--batch-size", "40",
        "--model", "kajda-mnist", "--no-plots", "--no-progress"]


def tiny_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 16),
                         nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 10), nn.LogSoftmax(dim=1))


RECIPE = models.Recipe(optimizer="adam", lr=0.05, batch_size=16, epochs=2, loss="nll_loss", input_size=(1, 14, 14),
                       val_fraction=0.2, scheduler="steplr", step_size=1, gamma=0.5)


@pytest.fixture(autouse=True)
def tiny_model(monkeypatch):
    monkeypatch.setitem(models.MODELS, "test-tiny", ModelSpec(tiny_net, RECIPE))


def config(out, **kw):
    base = dict(model="test-tiny", dataset="synthetic", dataset_kwargs={"n": 120, "image_size": 14}, seed=4,
                out=str(out), progress=False, plots=False, test=True, test_limit=40)
    return resolve_config(**{**base, **kw})


def snapshot(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


# --- 1. refuse an existing run; --overwrite; the lock ----------------------------------------------------------
def test_train_refuses_a_directory_holding_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert main(["train", *TINY, "--seed", "7", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{out} already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert snapshot(out) == before                                   # not one byte changed


def test_overwrite_replaces_the_whole_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "2", "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")                          # not a run file: never touched
    assert main(["train", *TINY, "--seed", "7", "--no-test", "--out", str(out), "--overwrite"]) == 0
    assert "test_acc" not in json.load(open(out / "summary.json"))  # the old run's summary is gone, not mixed in
    assert load_checkpoint(out / "last.npz")["config"]["seed"] == 7
    assert len(list(csv.DictReader(open(out / "metrics.csv")))) == 1
    assert (out / "notes.txt").read_text() == "mine"
    with pytest.raises(SystemExit) as e:                             # one or the other
        main(["train", *TINY, "--resume", str(out), "--overwrite"])
    assert e.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_second_training_into_a_locked_directory_names_the_holder(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with RunLock(str(out)):
        assert main(["train", *TINY, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert f"is in use by another training (pid {os.getpid()}" in err
    assert not (out / "last.npz").exists()
    assert main(["train", *TINY, "--out", str(out)]) == 0           # released: free again
    assert sorted(os.listdir(out)) == ["best.npz", "config.json", "last.npz", "metrics.csv", "summary.json"]


def test_the_lock_of_a_killed_process_is_released(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    import tinygrad_cnn.training.run_lock as run_lock

    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import importlib.util, time
        spec = importlib.util.spec_from_file_location("run_lock", {run_lock.__file__!r})  # no package import: fast
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.RunLock({str(out)!r}).acquire()
        print("locked", flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=rf"pid {holder.pid}\b"):
            RunLock(str(out)).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)                           # no cleanup code runs
        holder.wait()
    assert (out / ".lock").exists()                                  # the file stays behind ...
    assert main(["train", *TINY, "--out", str(out)]) == 0            # ... but does not block


def test_two_trainers_into_one_directory_do_not_interleave(tmp_path):
    a, b = Trainer(config(tmp_path, seed=1), log=lambda s: None), Trainer(config(tmp_path, seed=2), log=lambda s: None)
    seen = {}
    real_end = Trainer._end_epoch

    def end_epoch(self):
        real_end(self)
        if self is a and "error" not in seen:                        # b starts while a runs
            with pytest.raises(RunLockedError) as e:
                b.fit()
            seen["error"] = str(e.value)

    Trainer._end_epoch = end_epoch
    try:
        a.fit()
    finally:
        Trainer._end_epoch = real_end
    assert f"pid {os.getpid()}" in seen["error"]
    with pytest.raises(RunDirError, match="already holds a run"):  # ... and after a finished
        b.fit()
    assert load_checkpoint(tmp_path / "last.npz")["config"]["seed"] == 1
    assert json.load(open(tmp_path / "config.json"))["seed"] == 1


def test_the_lock_is_released_on_an_error_and_fit_can_continue(tmp_path):
    trainer = Trainer(config(tmp_path, epochs=1), log=lambda s: None)
    trainer.fit()
    assert not (tmp_path / ".lock").exists()
    trainer.config["epochs"] = 2
    trainer.fit()                                                    # the same trainer continues its own run
    assert load_checkpoint(tmp_path / "last.npz")["epoch"] == 2


def test_resume_only_from_the_runs_last_checkpoint(tmp_path):
    Trainer(config(tmp_path, epochs=1), log=lambda s: None).fit()
    with pytest.raises(RunDirError, match="continues from its last.npz"):
        Trainer.from_checkpoint(str(tmp_path / "best.npz"))
    branch = Trainer.from_checkpoint(str(tmp_path / "best.npz"), out=str(tmp_path / "branch"), epochs=2,
                                     log=lambda s: None)
    branch.fit()
    assert load_checkpoint(tmp_path / "last.npz")["epoch"] == 1     # the original run is untouched


# --- 2. an interrupt at every write -------------------------------------------------------------------------------
class Crash(BaseException):
    """The process dies here (power loss, kill -9, full disk): no handler runs."""


def run_files(directory):
    """What a finished run's files say: last/best epochs and weights, metrics rows (without timings)."""
    last, best = load_checkpoint(directory / "last.npz"), load_checkpoint(directory / "best.npz")
    rows = [{k: v for k, v in r.items() if not k.endswith("_time") and k != "images_per_s"}
            for r in csv.DictReader(open(directory / "metrics.csv"))]
    return {"last_epoch": last["epoch"], "best_epoch": best["epoch"], "recorded_best": last["best_epoch"],
            "rows": rows, "last_w": {k: v.numpy() for k, v in last["model"].items()},
            "best_w": {k: v.numpy() for k, v in best["model"].items()},
            "summary": (directory / "summary.json").exists()}


def assert_same_files(a, b):
    for key in ("last_epoch", "best_epoch", "recorded_best", "rows", "summary"):
        assert a[key] == b[key], key
    for key in ("last_w", "best_w"):
        for name in a[key]:
            assert np.array_equal(a[key][name], b[key][name]), (key, name)


def writes_of_a_run(directory):
    names = []
    real = os.replace
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", lambda src, dst: (names.append(os.path.basename(dst)), real(src, dst)))
        Trainer(config(directory), log=lambda s: None).fit()
    return names


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    models.MODELS["test-tiny"] = ModelSpec(tiny_net, RECIPE)
    try:
        directory = tmp_path_factory.mktemp("reference")
        Trainer(config(directory), log=lambda s: None).fit()
        files = run_files(directory)
    finally:
        del models.MODELS["test-tiny"]
    return files


def test_reference_run_makes_a_best_epoch_that_is_not_the_last(reference):
    """The sweep below must cover best.npz written at one epoch and not at the other (seed 4: epoch 1 is best)."""
    assert reference["best_epoch"] == 1 and reference["last_epoch"] == 2


@pytest.mark.parametrize("kind", [Crash, KeyboardInterrupt])
def test_an_interrupt_at_any_write_resumes_to_the_uninterrupted_files(tmp_path, monkeypatch, reference, kind):
    monkeypatch.setattr(os, "fsync", lambda fd: None)               # durability is not what this test checks
    writes = writes_of_a_run(tmp_path / "count")
    assert writes == ["config.json", "last.npz", "best.npz", "metrics.csv", "last.npz", "metrics.csv",
                      "summary.json"]
    real = os.replace
    for n, name in enumerate(writes):
        directory = tmp_path / f"at{n}"
        calls = []

        def replace(src, dst):
            calls.append(dst)
            if len(calls) == n + 1:                                  # this write never lands
                raise kind()
            return real(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(kind):
            Trainer(config(directory), log=lambda s: None).fit()
        monkeypatch.setattr(os, "replace", real)
        assert not (directory / ".lock").exists(), n
        if (directory / "last.npz").exists():
            Trainer.from_checkpoint(str(directory), log=lambda s: None).fit()
        else:                                                        # died before its first checkpoint
            Trainer(config(directory), log=lambda s: None, mode="overwrite").fit()
        assert_same_files(run_files(directory), reference)
        assert not [f for f in os.listdir(directory) if f.startswith(".tmp-")], n


def test_resume_rebuilds_a_best_checkpoint_that_never_landed(tmp_path, reference):
    """The state the old order left (last.npz says epoch 1 is best, best.npz absent, no metrics row)."""
    Trainer(config(tmp_path, epochs=1), log=lambda s: None).fit()
    os.remove(tmp_path / "best.npz")
    (tmp_path / "metrics.csv").write_text("epoch\n")
    Trainer.from_checkpoint(str(tmp_path), epochs=2, log=lambda s: None).fit()
    assert_same_files(run_files(tmp_path), reference)


# --- every file a run needs, before the first step --------------------------------------------------------------
def test_a_corrupt_test_file_stops_the_run_before_training(tmp_path, capsys):
    shared = os.environ.get("TINYGRAD_CNN_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                                 "data")
    if not os.path.exists(os.path.join(shared, "mnist", "t10k-labels-idx1-ubyte.gz")):
        pytest.skip("the offline MNIST files are not available")
    root = tmp_path / "data" / "mnist"
    root.mkdir(parents=True)
    for name in os.listdir(os.path.join(shared, "mnist")):
        os.symlink(os.path.join(shared, "mnist", name), root / name)
    labels = root / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(open(labels, "rb").read())
    labels.unlink()
    data[100] ^= 0xFF
    labels.write_bytes(bytes(data))
    out = tmp_path / "run"
    code = main(["train", "--model", "annt-lenet5", "--train-limit", "20", "--val-limit", "20", "--epochs", "1",
                 "--no-progress", "--no-plots", "--data-root", str(tmp_path / "data"), "--no-download",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1 and "t10k-labels-idx1-ubyte.gz" in captured.err and "sha256" in captured.err
    assert "Epoch" not in captured.out and not (out / "last.npz").exists()


def test_a_resume_refuses_a_last_checkpoint_that_moved_on_after_it_was_read(tmp_path):
    """Two `--resume` of one run: the one that gets the lock second must not roll the run back."""
    Trainer(config(tmp_path, epochs=1), log=lambda s: None).fit()
    first = Trainer.from_checkpoint(str(tmp_path), epochs=2, log=lambda s: None)
    second = Trainer.from_checkpoint(str(tmp_path), epochs=2, log=lambda s: None)
    first.fit()
    with pytest.raises(RunDirError, match="last.npz changed since it was read"):
        second.fit()
    assert load_checkpoint(tmp_path / "last.npz")["epoch"] == 2
