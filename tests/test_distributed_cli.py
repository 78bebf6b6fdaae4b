"""`tinygrad-cnn train --nproc 2`: the run equals the 1-process run, rank 0 alone writes, Ctrl-C leaves a resumable
run whose resumption ends with the uninterrupted run's weights, and an error on one rank stops the job at once.
Small synthetic data; skipped without mpi4py/mpiexec (the distributed extra)."""
import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py")
from tinygrad_cnn.distributed import launch  # noqa: E402

try:
    launch.find_mpiexec()
except FileNotFoundError:
    pytest.skip("mpiexec not found (pip install 'tinygrad_cnn[distributed]')", allow_module_level=True)

# SGD with a modest step: float32 runs that differ only by summation order stay within ~1e-6 of each other for
# the 75 steps here (with Adam's lr 0.002 they drift apart by 1e-3 in one epoch: it rescales rounding-level
# gradient differences to lr-sized steps; the float64 check of Adam to 1e-10 is in test_distributed.py).
RUN = ["train", "--dataset", "synthetic", "--synthetic-size", "600", "--batch-size", "20", "--test-limit", "100",
       "--no-plots", "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.5"]


def cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tinygrad_cnn", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=launch.rank_environment())


def weights(run_dir) -> dict:
    from tinygrad_cnn.training import load_checkpoint

    return {k: v.numpy() for k, v in load_checkpoint(os.path.join(run_dir, "last.npz"))["model"].items()}


def test_interrupted_two_rank_run_resumes_to_the_one_process_weights(tmp_path):
    from tinygrad_cnn.cli import main

    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*RUN, "--epochs", "3", "--no-progress", "--no-test", "--out", str(one)]) == 0
    proc = cli(*RUN, "--epochs", "50", "--nproc", "2", "--out", str(two))
    deadline = time.monotonic() + 60
    while not (two / "metrics.csv").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)                      # in epoch 2: the ranks agree on a step and stop there
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out.count("interrupted: resumable checkpoint saved") == 1, out     # rank 0 speaks alone
    assert "img/s" in err                                                      # rank 0's progress bar
    from tinygrad_cnn.training import load_checkpoint
    state = load_checkpoint(str(two / "last.npz"))
    assert 1 <= state["epoch"] < 3                                 # stopped after epoch 1, before epoch 3
    (tmp_path / "hosts").write_text("localhost:2\n")          # the several-machines path, on this one
    proc = cli("train", "--resume", str(two), "--epochs", "3", "--nproc", "2", "--hostfile", str(tmp_path / "hosts"),
               "--no-progress", "--no-test")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with open(two / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    reference, ours = weights(one), weights(two)
    assert list(reference) == list(ours)                                       # no "module." prefix
    for key in reference:
        np.testing.assert_allclose(ours[key].astype(np.float64), reference[key], rtol=0, atol=2e-5, err_msg=key)
    with open(one / "metrics.csv") as f:
        one_rows = list(csv.DictReader(f))
    for a, b in zip(rows, one_rows):                                           # metrics reduced over both ranks
        assert abs(float(a["train_loss"]) - float(b["train_loss"])) < 1e-4
        assert a["val_acc"] == b["val_acc"]


def test_an_error_on_rank_zero_stops_the_job(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")                      # rank 0 refuses the directory
    start = time.monotonic()
    proc = cli(*RUN, "--epochs", "1", "--nproc", "2", "--out", str(tmp_path / "run"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert time.monotonic() - start < 20
    assert "rank 0: " in err and "already holds a run" in err, err
    assert "the distributed run failed" in err


def test_missing_hostfile_is_a_one_line_error(tmp_path, capsys):
    from tinygrad_cnn.cli import main

    assert main([*RUN, "--nproc", "2", "--hostfile", str(tmp_path / "nope")]) == 1
    assert "--hostfile" in capsys.readouterr().err
