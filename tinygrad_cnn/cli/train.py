"""`tinygrad-cnn train`: train a zoo model on a data set with its paper's recipe (any flag overrides the recipe).

    tinygrad-cnn train --model annt-lenet5 --dataset mnist --epochs 20 --batch-size 50 --lr 0.002 \\
        --optimizer adam --seed 1 --out runs/lenet5
    tinygrad-cnn train --resume runs/lenet5          # continue bit-exactly from runs/lenet5/last.npz
"""
from __future__ import annotations

import argparse

# Flags that --resume may change (the rest of the run's config comes from its checkpoint).
_RESUMABLE = ("epochs", "progress", "plots", "test", "data_root", "download")


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
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None)
    p.add_argument("--momentum", type=float, default=None, help="SGD momentum")
    p.add_argument("--scheduler", choices=SCHEDULERS, default=None, help="learning-rate schedule per epoch")
    p.add_argument("--step-size", type=int, default=None, help="StepLR: epochs between decays")
    p.add_argument("--gamma", type=float, default=None, help="StepLR: decay factor")
    p.add_argument("--seed", type=int, default=None, help="seed of initialisation, split and shuffling (default 1)")
    p.add_argument("--val-fraction", type=float, default=None, help="validation share of the training set")
    p.add_argument("--train-limit", type=int, default=None, help="train on the first N training samples only")
    p.add_argument("--val-limit", type=int, default=None, help="validate on the first N validation samples only")
    p.add_argument("--test-limit", type=int, default=None, help="test on the first N test samples only")
    p.add_argument("--synthetic-size", type=int, default=None, metavar="N",
                   help="synthetic data set only: N images per split (default 6000 train, 1000 test)")
    p.add_argument("--out", default=None, help="run directory: metrics.csv, config.json, last.npz, best.npz, PNGs")
    p.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue the run saved in RUN_DIR")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    p.add_argument("--no-plots", dest="plots", action="store_false", default=None, help="no PNG plots")
    p.add_argument("--no-test", dest="test", action="store_false", default=None,
                   help="skip the test-set evaluation at the end")
    add_data_arguments(p)
    p.set_defaults(func=_train, download=None)


def _train(args: argparse.Namespace) -> int:
    from ..datasets import DatasetNotFoundError, IntegrityError
    from ..training import Trainer, resolve_config

    given = {k: v for k, v in vars(args).items()
             if k not in ("command", "func", "resume", "synthetic_size") and v is not None}
    if args.synthetic_size is not None:
        given["dataset_kwargs"] = {"n": args.synthetic_size}
    try:
        if args.resume:
            extra = sorted(set(given) - set(_RESUMABLE))
            if extra:
                print(f"train: --resume takes the run's settings from its checkpoint; only "
                      f"{', '.join('--' + k.replace('_', '-') for k in _RESUMABLE)} may be given "
                      f"(got {', '.join('--' + k.replace('_', '-') for k in extra)})")
                return 2
            try:
                trainer = Trainer.from_checkpoint(args.resume, **given)
            except RuntimeError as err:  # a truncated or corrupt checkpoint: tg.load's message names the file
                print(f"train: {err}")
                return 1
        else:
            trainer = Trainer(resolve_config(**given))
        trainer.fit()
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, ValueError, DatasetNotFoundError, IntegrityError) as err:
        print(f"train: {err}")
        return 1
    return 0
