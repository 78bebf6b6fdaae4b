"""Checkpoints: atomic writes (a crash mid-write keeps the previous file), and bit-exact resume — after an
end-of-epoch checkpoint and after a Ctrl-C in the middle of an epoch — on tiny synthetic data."""
import os
import signal

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import models, nn, serialization
from tinygrad_cnn.cli import main
from tinygrad_cnn.models.registry import ModelSpec
from tinygrad_cnn.training import Trainer, load_checkpoint, resolve_config


def tiny_net():
    """Every kind of state a resume must restore: weights, BatchNorm running stats (buffers), Dropout (global RNG)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 16),
                         nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 10), nn.LogSoftmax(dim=1))


TINY_RECIPE = models.Recipe(optimizer="adam", lr=0.01, batch_size=16, epochs=3, loss="nll_loss",
                            input_size=(1, 14, 14), val_fraction=0.2, scheduler="steplr", step_size=1, gamma=0.5)


@pytest.fixture(autouse=True)
def tiny_model(monkeypatch):
    monkeypatch.setitem(models.MODELS, "test-tiny", ModelSpec(tiny_net, TINY_RECIPE))


def config(out, **kw):
    base = dict(model="test-tiny", dataset="synthetic", dataset_kwargs={"n": 120, "image_size": 14}, seed=3,
                out=str(out), progress=False, plots=False, test=False)
    return resolve_config(**{**base, **kw})


def weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def assert_same_run(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert np.array_equal(wa[key], wb[key]), key                 # bit-exact, not allclose
    strip = ("train_time", "val_time", "images_per_s")
    assert [{k: v for k, v in r.items() if k not in strip} for r in a.history] == \
           [{k: v for k, v in r.items() if k not in strip} for r in b.history]
    assert a.optimizer.param_groups[0]["lr"] == b.optimizer.param_groups[0]["lr"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted 3-epoch run."""
    models.MODELS["test-tiny"] = ModelSpec(tiny_net, TINY_RECIPE)
    try:
        trainer = Trainer(config(tmp_path_factory.mktemp("ref")), log=lambda s: None)
        trainer.fit()
    finally:
        del models.MODELS["test-tiny"]
    return trainer


def test_resume_after_an_epoch_is_bit_exact(tmp_path, reference):
    first = Trainer(config(tmp_path, epochs=1), log=lambda s: None)
    first.fit()
    assert not np.array_equal(weights(first)["0.weight"], weights(reference)["0.weight"])  # it really stopped early
    resumed = Trainer.from_checkpoint(str(tmp_path), epochs=3, log=lambda s: None)
    assert resumed.epoch == 1
    resumed.fit()
    assert_same_run(resumed, reference)


def test_ctrl_c_mid_epoch_saves_a_checkpoint_that_resumes_bit_exactly(tmp_path, monkeypatch, reference):
    trainer = Trainer(config(tmp_path), log=lambda s: None)
    steps = {"n": 0}
    real_step = Trainer._step

    def step_then_sigint(self, x, y):
        real_step(self, x, y)
        steps["n"] += 1
        if steps["n"] == 8:                      # epoch 2 (6 batches per epoch), third batch
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends; the loop stops after this step

    monkeypatch.setattr(Trainer, "_step", step_then_sigint)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    monkeypatch.setattr(Trainer, "_step", real_step)
    state = load_checkpoint(tmp_path / "last.npz")
    assert (state["epoch"], state["batch"]) == (1, 2)
    resumed = Trainer.from_checkpoint(str(tmp_path), log=lambda s: None)
    resumed.fit()
    assert_same_run(resumed, reference)


def test_cli_resume_continues_the_run(tmp_path, reference, capsys):
    Trainer(config(tmp_path, epochs=2), log=lambda s: None).fit()
    assert main(["train", "--resume", str(tmp_path), "--epochs", "3", "--no-progress"]) == 0
    assert "resuming after epoch 2" in capsys.readouterr().out
    state = load_checkpoint(tmp_path / "last.npz")
    for key, value in state["model"].items():
        assert np.array_equal(value.numpy(), weights(reference)[key]), key
    assert main(["train", "--resume", str(tmp_path), "--lr", "0.1"]) == 2   # settings come from the checkpoint


def test_a_crash_while_writing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    trainer = Trainer(config(tmp_path, epochs=1), log=lambda s: None)
    trainer.fit()
    before = load_checkpoint(tmp_path / "last.npz")
    trainer.model[0].weight.data.fill_(7.0)       # the state the interrupted write would have stored

    def savez_then_crash(file, **arrays):
        file.write(b"PK\x03\x04 half a zip file")  # some bytes reach the disk ...
        raise OSError("disk full")                # ... then the writer dies

    monkeypatch.setattr(serialization.np, "savez", savez_then_crash)
    with pytest.raises(OSError, match="disk full"):
        trainer.save("last.npz")
    monkeypatch.undo()
    after = load_checkpoint(tmp_path / "last.npz")  # still a whole, loadable checkpoint: the old one
    assert np.array_equal(after["model"]["0.weight"].numpy(), before["model"]["0.weight"].numpy())
    assert not np.all(after["model"]["0.weight"].numpy() == 7.0)
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "config.json", "last.npz", "metrics.csv", "summary.json"]


def test_checkpoint_holds_everything_a_resume_needs(tmp_path):
    trainer = Trainer(config(tmp_path, epochs=1), log=lambda s: None)
    trainer.fit()
    state = load_checkpoint(tmp_path / "last.npz")
    assert {"model", "optimizer", "scheduler", "rng", "epoch", "batch", "history", "config"} <= set(state)
    assert state["optimizer"]["state"] and state["scheduler"]["last_epoch"] == 1
    assert state["rng"]["global"] == tg.get_rng_state()      # the global generator as the run left it
    assert "4.running_mean" in state["model"]                # buffers too
    with pytest.raises(ValueError, match="not a training checkpoint"):
        tg.save(trainer.model.state_dict(), tmp_path / "weights.npz")
        load_checkpoint(tmp_path / "weights.npz")


def test_best_checkpoint_keeps_the_best_validation_epoch_and_is_tested_too(tmp_path):
    Trainer(config(tmp_path, epochs=1), log=lambda s: None).fit()
    epoch1 = load_checkpoint(tmp_path / "best.npz")
    lines = []
    resumed = Trainer.from_checkpoint(str(tmp_path), epochs=2, test=True, log=lines.append)
    resumed.best_val_acc = 2.0                       # no later epoch can beat epoch 1 now
    summary = resumed.fit()
    assert load_checkpoint(tmp_path / "last.npz")["best_epoch"] == 1
    assert load_checkpoint(tmp_path / "best.npz")["epoch"] == 1
    model = tiny_net().eval()                       # epoch 1's weights, tested here independently
    model.load_state_dict(epoch1["model"])
    test = resumed.load_test()
    with tg.no_grad():
        pred = model(tg.tensor(test.x)).numpy().argmax(1)
    assert summary["best_epoch"] == 1 and summary["best_test_acc"] == (pred == test.y).mean()
    assert any(line.startswith("Best-validation model (epoch 1) test accuracy") for line in lines)
