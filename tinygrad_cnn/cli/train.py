"""`tinygrad-cnn train`: train a zoo model on a data set with its paper's recipe (any flag overrides the recipe).

    tinygrad-cnn train --model annt-lenet5 --dataset mnist --epochs 20 --batch-size 50 --lr 0.002 \\
        --optimizer adam --seed 1 --out runs/lenet5
    tinygrad-cnn train --resume runs/lenet5          # continue bit-exactly from runs/lenet5/last.npz
    tinygrad-cnn train --out runs/lenet5 --overwrite # replace the run in runs/lenet5

Run-directory rules (refuse an existing run, the lock, the order of the files) live in training/run_dir.py.
"""
from __future__ import annotations

import argparse
from typing import Any

from .validate import UsageError, existing_directory, positive_int, rule, run_directory

# Flags that --resume may change (the rest of the run's config comes from its checkpoint).
_RESUMABLE = ("epochs", "progress", "plots", "test", "data_root", "download")
# Parsed flags that are not run settings.
_NOT_CONFIG = ("command", "func", "resume", "overwrite", "synthetic_size", "debug", "nproc", "hostfile")


def _flag(name: str) -> str:
    """The flag that sets config field `name` (`progress` is set by --no-progress)."""
    return {"progress": "--no-progress", "plots": "--no-plots", "test": "--no-test",
            "download": "--no-download"}.get(name, "--" + name.replace("_", "-"))


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", default=None, help="data directory (default: $TINYGRAD_CNN_DATA, "
                                                          "../shared/data or ~/.cache/tinygrad_cnn)")
    parser.add_argument("--no-download", dest="download", action="store_false",
                        help="fail instead of downloading missing data set files")


def register(sub: argparse._SubParsersAction) -> None:
    from ..models import list_models
    from ..training.data import DATASETS
    from ..training.setup import OPTIMIZERS, SCHEDULERS

    p = sub.add_parser("train", help="train a model (recipe defaults from the model zoo)",
                       description="Train a zoo model; unset hyperparameters come from the model's recipe "
                                   "(see docs/models.md).")
    p.add_argument("--model", choices=list_models(), default=None, help="network (default annt-lenet5)")
    p.add_argument("--dataset", choices=list(DATASETS), default=None, help="data set (default mnist)")
    p.add_argument("--epochs", type=rule("epochs"), default=None)
    p.add_argument("--batch-size", type=rule("batch_size"), default=None)
    p.add_argument("--lr", type=rule("lr"), default=None, help="learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None)
    p.add_argument("--momentum", type=rule("momentum"), default=None, help="SGD momentum")
    p.add_argument("--scheduler", choices=SCHEDULERS, default=None, help="learning-rate schedule per epoch")
    p.add_argument("--step-size", type=rule("step_size"), default=None, help="StepLR: epochs between decays")
    p.add_argument("--gamma", type=rule("gamma"), default=None, help="StepLR: decay factor")
    p.add_argument("--seed", type=rule("seed"), default=None,
                   help="seed of initialisation, split and shuffling (default 1)")
    p.add_argument("--val-fraction", type=rule("val_fraction"), default=None,
                   help="validation share of the training set, in (0, 1)")
    p.add_argument("--train-limit", type=rule("train_limit"), default=None,
                   help="train on the first N training samples only")
    p.add_argument("--val-limit", type=rule("val_limit"), default=None,
                   help="validate on the first N validation samples only")
    p.add_argument("--test-limit", type=rule("test_limit"), default=None,
                   help="test on the first N test samples only")
    p.add_argument("--synthetic-size", type=positive_int, default=None, metavar="N",
                   help="synthetic data set only: N images per split (default 6000 train, 1000 test)")
    runs = p.add_mutually_exclusive_group()
    p.add_argument("--out", type=run_directory, default=None,
                   help="run directory: metrics.csv, config.json, last.npz, best.npz, PNGs (refused when it "
                        "already holds a run, unless --overwrite)")
    runs.add_argument("--resume", metavar="RUN_DIR", type=existing_directory, default=None,
                      help="continue the run saved in RUN_DIR")
    runs.add_argument("--overwrite", action="store_true", help="replace the run already in --out (its files are "
                                                               "deleted when the new run starts)")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    p.add_argument("--no-plots", dest="plots", action="store_false", default=None, help="no PNG plots")
    p.add_argument("--no-test", dest="test", action="store_false", default=None,
                   help="skip the test-set evaluation at the end")
    p.add_argument("--nproc", type=positive_int, default=None, metavar="N",
                   help="data-parallel training on N processes started through mpiexec (the distributed extra; "
                        "--batch-size stays the global batch; see docs/distributed.md)")
    p.add_argument("--hostfile", default=None, help="with --nproc: mpiexec's host file, to use several machines")
    add_data_arguments(p)
    p.set_defaults(func=_train, download=None)


def make_trainer(args: argparse.Namespace, trainer_class: Any = None) -> Any:
    """The Trainer the flags describe: a new run, a replaced one (--overwrite) or a resumed one (--resume).
    Raises UsageError for flags --resume cannot take, RunDirError for an unusable --out."""
    from ..training import Trainer, resolve_config

    Trainer = trainer_class or Trainer  # noqa: N806 - DistributedTrainer on mpiexec's ranks

    given = {k: v for k, v in vars(args).items() if k not in _NOT_CONFIG and v is not None}
    if args.synthetic_size is not None:
        given["dataset_kwargs"] = {"n": args.synthetic_size}
    if args.resume:
        extra = sorted(set(given) - set(_RESUMABLE))
        if extra:
            raise UsageError(f"--resume takes the run's settings from its checkpoint; only "
                             f"{', '.join(_flag(k) for k in _RESUMABLE)} may be given "
                             f"(got {', '.join(_flag(k) for k in extra)})")
        return Trainer.from_checkpoint(args.resume, **given)
    if args.overwrite and not args.out:
        raise UsageError("--overwrite needs --out (the run directory to replace)")
    return Trainer(resolve_config(**given), mode="overwrite" if args.overwrite else "new")


def _train(args: argparse.Namespace) -> int:
    from ..training import distributed

    if distributed.launch_requested(args):  # --nproc N: this command again, on N ranks started by mpiexec
        return distributed.launch(args)
    if distributed.init_if_launched():      # one of mpiexec's ranks: an error must stop the other ranks too
        return distributed.run_rank(lambda: make_trainer(args, distributed.DistributedTrainer),
                                    getattr(args, "debug", False))
    make_trainer(args).fit()  # errors and Ctrl-C: cli.main prints one line and picks the exit code
    return 0
