"""`tinygrad-cnn evaluate`: accuracy, per-class accuracy and confusion matrix of a saved model.

    tinygrad-cnn evaluate --checkpoint runs/lenet5/best.npz --dataset mnist
"""
from __future__ import annotations

import argparse
import os
from typing import Any

from .train import add_data_arguments
from .validate import output_file, positive_int

PLOT_FORMATS = ("png", "pdf", "svg")


def register(sub: argparse._SubParsersAction) -> None:
    from ..training.data import DATASETS

    p = sub.add_parser("evaluate", help="evaluate a checkpoint (accuracy, per-class accuracy, confusion matrix)")
    p.add_argument("--checkpoint", required=True, help="a last.npz / best.npz written by `tinygrad-cnn train`, "
                                                       "or a run directory (its best.npz)")
    p.add_argument("--dataset", choices=list(DATASETS), default=None, help="default: the data set it was trained on")
    p.add_argument("--split", choices=("test", "val", "train"), default="test",
                   help="test set, or the run's validation / training part of the training set")
    p.add_argument("--limit", type=positive_int, default=None, help="evaluate the first N samples only")
    p.add_argument("--batch-size", type=positive_int, default=1000)
    p.add_argument("--plot", type=output_file(PLOT_FORMATS), default=None, metavar="PNG",
                   help="also save the confusion matrix as an image (.png, .pdf or .svg)")
    add_data_arguments(p)
    p.set_defaults(func=_evaluate)


def _checkpoint(path: str) -> tuple[str, dict[str, Any]]:
    """(file, state) of --checkpoint; ValueError naming the file when its config cannot rebuild the model."""
    from ..training import load_checkpoint
    from ..training.checkpoint import EVALUATE_FIELDS, require_config

    path = os.path.join(path, "best.npz") if os.path.isdir(path) else path
    state = load_checkpoint(path, required=EVALUATE_FIELDS)
    require_config(path, state, ("model", "dataset", "recipe", "seed", "val_fraction"))
    return path, state


def _data(args: argparse.Namespace, config: dict[str, Any]) -> tuple[Any, Any, list[str]]:
    """Preprocessed (x, y, classes) of the split to evaluate. The run's dataset_kwargs (e.g. the synthetic set's
    size) apply only to the data set it was trained on."""
    import numpy as np

    from ..training import data

    recipe = config["recipe"]
    dataset = args.dataset or config["dataset"]
    kwargs = dict(config.get("dataset_kwargs") or {}) if dataset == config["dataset"] else {}
    images, labels, classes = data.load_split(dataset, train=args.split != "test", root=args.data_root,
                                              download=args.download, **kwargs)
    if args.split != "test":
        train_idx, val_idx = data.split_train_val(len(labels), float(config["val_fraction"]), int(config["seed"]))
        keep = val_idx if args.split == "val" else train_idx
        images, labels = images[keep], labels[keep]
    keep = data.limit(np.arange(len(labels)), args.limit)
    x = data.preprocess(images[keep], recipe["input_size"], recipe["scale"], recipe["mean"], recipe["std"])
    return x, labels[keep].astype(np.int64), classes


def _evaluate(args: argparse.Namespace) -> int:
    from .. import models
    from ..training import metrics, plots
    from ..training.setup import loss_function

    path, state = _checkpoint(args.checkpoint)
    config = state["config"]
    dataset = args.dataset or config["dataset"]
    model = models.get_model(config["model"])
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: its weights do not fit {config['model']}: {e}") from e
    x, y, classes = _data(args, config)
    if len(y) == 0:
        raise ValueError(f"the {dataset} {args.split} split is empty: nothing to evaluate")
    result = metrics.evaluate(model, x, y, loss_function(config), len(classes), args.batch_size)
    print(f"{config['model']} from {path} (epoch {state['epoch']}) on {dataset} {args.split} set")
    print(result.line({"test": "Test", "val": "Validation", "train": "Training"}[args.split]))
    print("\nPer-class accuracy:")
    for name, acc, support in zip(classes, result.per_class_accuracy(), result.confusion.sum(axis=1)):
        print(f"  {name:>12}: {100 * acc:6.2f}%  ({support} samples)")
    print("\nConfusion matrix (rows: true class, columns: predicted):")
    print(metrics.confusion_table(result.confusion, classes))
    if args.plot and not plots.plot_confusion(result.confusion, classes, args.plot,
                                              title=f"{config['model']} on {dataset}"):
        raise RuntimeError(f"--plot {args.plot}: matplotlib is not installed, so no image was written")
    return 0
