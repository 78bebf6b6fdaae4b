"""The training loop behind `tinygrad-cnn train`: epochs with a progress bar, validation, checkpoints, resume.

Reproducibility: the model is initialised from `tg.manual_seed(seed)`, the train/validation split and the shuffle
order come from their own generators seeded from `seed`, and every checkpoint holds the model, optimizer and
scheduler state, both RNG states, and the position inside the epoch (the shuffle generator's state when the epoch
began and the number of batches done). Resuming restores all of it and replays the epoch's permutation, so an
interrupted and resumed run ends with exactly the weights of an uninterrupted one.

Interrupts: the first Ctrl-C asks the loop to stop after the current step; it then writes last.npz (resumable)
and raises KeyboardInterrupt. A second Ctrl-C interrupts at once (last.npz then holds the previous checkpoint).

Files: the run directory (`config['out']`) is managed by `RunDir` (run_dir.py): a new run refuses a directory
holding another run, `fit` holds the directory's lock, and each epoch's files are written in commit order.
Every data file the run needs (the test split too) is read and verified before the first step.
"""
from __future__ import annotations

import os
import time
from contextlib import nullcontext
from typing import Any, Callable

import numpy as np

from .. import models
from ..random import Generator, get_rng_state, manual_seed, set_rng_state
from ..tensor import Tensor
from ..utils.data import DataLoader, TensorDataset
from . import data, metrics, plots
from .checkpoint import RESUME_FIELDS, load_checkpoint, require_config
from .progress import progress_bar, stop_on_sigint
from .run_dir import RunDir, RunDirError
from .setup import DEFAULTS, build_optimizer, build_scheduler, check_config, loss_function, machine_info


class Trainer:
    """One training run described by a resolved config (see `setup.resolve_config`).

        trainer = Trainer(resolve_config(model="annt-lenet5", dataset="mnist", out="runs/lenet5"))
        summary = trainer.fit()                         # or Trainer.from_checkpoint("runs/lenet5/last.npz").fit()
    """

    def __init__(self, config: dict[str, Any], log: Callable[[str], None] = print, mode: str = "new") -> None:
        """mode: "new" (refuse an `out` directory holding a run), "overwrite" (replace that run's files) or
        "resume" (used by `from_checkpoint`). Raises RunDirError before any work when `out` cannot be used."""
        self.config, self.log = config, log
        self.out = config["out"]
        self.run = RunDir(self.out, mode, log) if self.out else None  # None: nothing is written
        if self.run is not None:
            self.run.check()
        self._last_signature: Any = None                    # last.npz as read by from_checkpoint
        self._load_data()
        manual_seed(config["seed"])                         # the model's initialisation
        self.model = models.get_model(config["model"])
        self.optimizer = build_optimizer(config, self.model.parameters())
        self.scheduler = build_scheduler(config, self.optimizer)
        self.loss_fn = loss_function(config)
        self.loader_generator = Generator().manual_seed(config["seed"] + 1)
        self.train_loader = DataLoader(TensorDataset(Tensor._wrap(self.train.x), Tensor._wrap(self.train.y)),
                                       batch_size=int(config["batch_size"]), shuffle=True,
                                       generator=self.loader_generator)
        self.epoch, self.batch = 0, 0                       # epochs completed; batches done in the current one
        self.epoch_generator_state: dict | None = None      # shuffle generator state when the epoch began
        self.running = {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
        self.history: list[dict[str, Any]] = []
        self.best_val_acc, self.best_epoch = -1.0, 0
        self.stop_requested = False
        self._in_step = False

    # ----------------------------------------------------------------- data
    def _load_data(self) -> None:
        c = self.config
        recipe = c["recipe"]
        kwargs = dict(root=c["data_root"], download=c["download"], **c["dataset_kwargs"])
        images, labels, classes = data.load_split(c["dataset"], train=True, **kwargs)
        train_idx, val_idx = data.split_train_val(len(labels), float(c["val_fraction"]), int(c["seed"]))
        train_idx, val_idx = data.limit(train_idx, c["train_limit"]), data.limit(val_idx, c["val_limit"])

        def arrays(imgs: np.ndarray, labs: np.ndarray) -> data.Arrays:
            x = data.preprocess(imgs, recipe["input_size"], recipe["scale"], recipe["mean"], recipe["std"])
            return data.Arrays(x, np.ascontiguousarray(labs, np.int64), classes)

        if len(train_idx) == 0 or len(val_idx) == 0:
            raise ValueError(f"{c['dataset']}: {len(labels)} training images split by val_fraction "
                             f"{c['val_fraction']:g} leave {len(train_idx)} for training and {len(val_idx)} for "
                             f"validation; both need at least one")
        self.train = arrays(images[train_idx], labels[train_idx])
        self.val = arrays(images[val_idx], labels[val_idx])
        self.classes = classes
        self._test_kwargs = kwargs
        # read (and verify) the test files now: a corrupt file must stop the run before training, not after it
        self._test_raw = data.load_split(c["dataset"], train=False, **kwargs) if c["test"] else None

    def load_test(self) -> data.Arrays:
        """The preprocessed test split (its files were read when the trainer was built, when config['test'])."""
        c, recipe = self.config, self.config["recipe"]
        raw = self._test_raw or data.load_split(c["dataset"], train=False, **self._test_kwargs)
        images, labels, classes = raw
        keep = data.limit(np.arange(len(labels)), c["test_limit"])
        x = data.preprocess(images[keep], recipe["input_size"], recipe["scale"], recipe["mean"], recipe["std"])
        return data.Arrays(x, labels[keep].astype(np.int64), classes)

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything a bit-exact resume needs (see the module docstring)."""
        return {
            "config": self.config, "epoch": self.epoch, "batch": self.batch,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": {"global": get_rng_state(), "loader": self.loader_generator.get_state(),
                    "epoch_start": self.epoch_generator_state},
            "running": dict(self.running), "history": self.history, "best_val_acc": self.best_val_acc,
            "best_epoch": self.best_epoch,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"]["global"])
        self.loader_generator.set_state(state["rng"]["loader"])
        self.epoch_generator_state = state["rng"]["epoch_start"]
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        self.running, self.history = dict(state["running"]), list(state["history"])
        self.best_val_acc, self.best_epoch = float(state["best_val_acc"]), int(state["best_epoch"])

    @classmethod
    def from_checkpoint(cls, path: str, log: Callable[[str], None] = print, **overrides: Any) -> "Trainer":
        """Rebuild a run from its checkpoint (a run directory means its last.npz); `overrides` may change
        e.g. `epochs` (to train longer) or `progress`. The run continues in the checkpoint's directory, which
        must then be its last.npz, or in a new directory `out=` (started from any checkpoint)."""
        if os.path.isdir(path):
            path = os.path.join(path, "last.npz")
        directory = os.path.dirname(path) or "."           # as given: messages name the paths the user typed
        in_place = os.path.abspath(overrides.get("out") or directory) == os.path.abspath(directory)
        if in_place and os.path.basename(path) != "last.npz":
            raise RunDirError(f"a run continues from its last.npz, not {path} (that would overwrite the run's "
                              f"later state); pass out= a new directory to start a run from it")
        signature = RunDir(directory, "resume").signature() if in_place and os.path.exists(path) else None
        state = load_checkpoint(path, required=RESUME_FIELDS)
        config = {**require_config(path, state, [*DEFAULTS, "recipe"]), **overrides}
        config["out"] = overrides.get("out") or directory
        check_config(config)
        trainer = cls(config, log=log, mode="resume" if in_place else "new")
        try:
            trainer.load_state_dict(state)
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as e:  # a damaged or foreign state
            raise ValueError(f"{path} does not hold a state this run can continue from: {type(e).__name__}: "
                             f"{e}") from e
        trainer._last_signature = signature
        return trainer

    def save(self, name: str) -> None:
        if self.run is not None:
            self.run.save(name, self.state_dict())

    # ------------------------------------------------------------- loop
    def fit(self) -> dict[str, Any]:
        """Train up to config['epochs'], then test; returns a summary dict (also summary.json in `out`).
        Holds the run directory's lock throughout (RunLockedError when another process has it)."""
        session = self.run.session(self._last_signature) if self.run is not None else nullcontext()
        with session:
            self._start()
            summary = self._loop()
        if self.run is not None:                            # a later fit() continues this run
            self.run.mode, self._last_signature = "resume", self.run.signature()
        return summary

    def _start(self) -> None:
        c = self.config
        if self.run is not None:
            if self.run.mode == "resume":                   # files an interrupt left behind last.npz
                self.run.reconcile(self.state_dict(), c["plots"])
            self.run.write_config({**c, "machine": machine_info()})
        self.log(f"{c['model']} on {c['dataset']}: {len(self.train.y)} training, {len(self.val.y)} validation "
                 f"samples; {c['optimizer']} lr {c['lr']}, batch {c['batch_size']}, {c['epochs']} epochs"
                 + (f" (resuming after epoch {self.epoch}, batch {self.batch})" if self.epoch or self.batch else ""))

    def _loop(self) -> dict[str, Any]:
        start = time.perf_counter()
        with stop_on_sigint(self):
            try:
                while self.epoch < int(self.config["epochs"]):
                    self._train_epoch()
                    self._end_epoch()
                    if self.stop_requested:
                        raise KeyboardInterrupt
            except KeyboardInterrupt:
                if self._in_step:
                    self.log("interrupted inside a step: last.npz holds the previous checkpoint")
                else:
                    self.save("last.npz")
                    self.log(f"interrupted: resumable checkpoint saved (epoch {self.epoch + 1}, batch {self.batch})"
                             + (f"; continue with: tinygrad-cnn train --resume {self.out}" if self.out else ""))
                raise
        return self._finish(time.perf_counter() - start)

    def _train_epoch(self) -> None:
        if self.batch == 0:
            self.epoch_generator_state = self.loader_generator.get_state()
            self.running = {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
        else:                                               # resuming mid-epoch: replay the same permutation
            self.loader_generator.set_state(self.epoch_generator_state)
        n, n_batches = len(self.train.y), len(self.train_loader)
        batches = iter(self.train_loader)
        for _ in range(self.batch):
            next(batches)
        self.model.train()
        bar = progress_bar(self.config, total=n, initial=self.running["seen"],
                        desc=f"Epoch {self.epoch + 1:3d}/{self.config['epochs']}")
        tick = time.perf_counter()
        try:
            for x, y in batches:
                self._step(x, y)
                now = time.perf_counter()
                self.running["seconds"] += now - tick
                tick = now
                bar.update(len(y))
                if self.batch % 20 == 0 or self.batch == n_batches:   # formatting every step would cost time
                    r = self.running
                    bar.set_postfix(loss=f"{r['loss_sum'] / r['seen']:.4f}",
                                    acc=f"{100 * r['correct'] / r['seen']:.2f}%",
                                    img_s=f"{r['seen'] / max(r['seconds'], 1e-9):.0f}", refresh=False)
                if self.stop_requested:
                    raise KeyboardInterrupt
        finally:
            bar.close()

    def _step(self, x: Tensor, y: Tensor) -> None:
        self._in_step = True
        out = self.model(x)
        loss = self.loss_fn(out, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        r = self.running
        r["loss_sum"] += float(loss.item()) * len(y)
        r["correct"] += int((out._data.argmax(axis=1) == y._data).sum())
        r["seen"] += len(y)
        self.batch += 1
        self._in_step = False

    def _evaluate(self, model: Any, x: np.ndarray, y: np.ndarray) -> metrics.EvalResult:
        """The run's evaluation of model on (x, y) (DistributedTrainer splits it between the ranks)."""
        return metrics.evaluate(model, x, y, self.loss_fn, len(self.classes), int(self.config["test_batch_size"]))

    def _end_epoch(self) -> None:
        c, r = self.config, self.running
        val = self._evaluate(self.model, self.val.x, self.val.y)
        lr = float(self.optimizer.param_groups[0]["lr"])
        self._in_step = True                                # from here until the epoch count moves on
        if self.scheduler is not None:
            self.scheduler.step()
        row = {"epoch": self.epoch + 1, "train_loss": r["loss_sum"] / r["seen"],
               "train_acc": r["correct"] / r["seen"], "val_loss": val.loss, "val_acc": val.accuracy, "lr": lr,
               "train_time": r["seconds"], "val_time": val.seconds,
               "images_per_s": r["seen"] / max(r["seconds"], 1e-9)}
        self.history.append(row)
        self.epoch, self.batch = self.epoch + 1, 0
        is_best = val.accuracy > self.best_val_acc
        if is_best:                                         # before saving last.npz, which must know the best
            self.best_val_acc, self.best_epoch = val.accuracy, self.epoch
        self._in_step = False
        self.log(f"Epoch {row['epoch']:3d} : training accuracy = {100 * row['train_acc']:.2f}% "
                 f"({r['correct']}/{r['seen']}), cost = {row['train_loss']:.4f}, {r['seconds']:.1f}s | "
                 + val.line("validation") + f" | {row['images_per_s']:.0f} img/s")
        if self.run is not None:                            # last.npz first: see run_dir.py
            self.run.record_epoch(self.state_dict(), is_best, c["plots"])

    def _finish(self, seconds: float) -> dict[str, Any]:
        c = self.config
        summary: dict[str, Any] = {"epochs": self.epoch, "history": self.history, "best_val_acc": self.best_val_acc,
                                   "wall_time_s": seconds}
        if c["test"]:
            test = self.load_test()
            result = self._evaluate(self.model, test.x, test.y)
            self.log(result.line("Test"))
            summary.update(test_acc=result.accuracy, test_loss=result.loss, test_correct=result.correct,
                           test_total=result.total, test_confusion=result.confusion.tolist())
            summary.update(self._test_best_checkpoint(test))
            if self.run is not None and c["plots"]:
                plots.plot_confusion(result.confusion, self.classes, self.run.file("confusion.png"),
                                     title=f"{c['model']} on {c['dataset']} test set")
        self.log(f"Total time taken : {seconds:.0f}s ({seconds / 60:.2f}min)")
        if self.run is not None:
            self.run.write_summary(summary)
        return summary

    def _test_best_checkpoint(self, test: data.Arrays) -> dict[str, Any]:
        """Also test best.npz when the best validation epoch is not the last one (model selection by validation)."""
        path = self.run.file("best.npz") if self.run is not None else ""
        best_epoch = self.best_epoch
        if best_epoch == self.epoch or not os.path.exists(path):
            return {}
        model = models.get_model(self.config["model"])
        model.load_state_dict(load_checkpoint(path)["model"])
        result = metrics.evaluate(model, test.x, test.y, self.loss_fn, len(self.classes),
                                  int(self.config["test_batch_size"]))
        self.log(result.line(f"Best-validation model (epoch {best_epoch}) test"))
        return {"best_epoch": best_epoch, "best_test_acc": result.accuracy, "best_test_loss": result.loss}
