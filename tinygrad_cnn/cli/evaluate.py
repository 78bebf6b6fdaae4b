"""`tinygrad-cnn evaluate`: accuracy, per-class accuracy and confusion matrix of a saved model.

    tinygrad-cnn evaluate --checkpoint runs/lenet5/best.npz --dataset mnist
"""
from __future__ import annotations

import argparse
import os

from .train import add_data_arguments


def register(sub: argparse._SubParsersAction) -> None:
    from ..training.data import DATASETS

    p = sub.add_parser("evaluate", help="evaluate a checkpoint (accuracy, per-class accuracy, confusion matrix)")
    p.add_argument("--checkpoint", required=True, help="a last.npz / best.npz written by `tinygrad-cnn train`, "
                                                       "or a run directory (its best.npz)")
    p.add_argument("--dataset", choices=list(DATASETS), default=None, help="default: the data set it was trained on")
    p.add_argument("--split", choices=("test", "val", "train"), default="test",
                   help="test set, or the run's validation / training part of the training set")
    p.add_argument("--limit", type=int, default=None, help="evaluate the first N samples only")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--plot", default=None, metavar="PNG", help="also save the confusion matrix as a PNG")
    add_data_arguments(p)
    p.set_defaults(func=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import models
    from ..datasets import DatasetNotFoundError, IntegrityError
    from ..training import data, load_checkpoint, metrics, plots
    from ..training.setup import loss_function

    path = os.path.join(args.checkpoint, "best.npz") if os.path.isdir(args.checkpoint) else args.checkpoint
    try:
        state = load_checkpoint(path)
    except (FileNotFoundError, ValueError, RuntimeError) as err:  # RuntimeError: truncated/corrupt (names the file)
        print(f"evaluate: {err}")
        return 1
    config, recipe = state["config"], state["config"]["recipe"]
    dataset = args.dataset or config["dataset"]
    model = models.get_model(config["model"])
    model.load_state_dict(state["model"])
    try:
        images, labels, classes = data.load_split(dataset, train=args.split != "test", root=args.data_root,
                                                  download=args.download, **config.get("dataset_kwargs", {}))
        if args.split != "test":
            train_idx, val_idx = data.split_train_val(len(labels), float(config["val_fraction"]), int(config["seed"]))
            keep = val_idx if args.split == "val" else train_idx
            images, labels = images[keep], labels[keep]
        keep = data.limit(np.arange(len(labels)), args.limit)
        x = data.preprocess(images[keep], recipe["input_size"], recipe["scale"], recipe["mean"], recipe["std"])
    except (FileNotFoundError, ValueError, DatasetNotFoundError, IntegrityError) as err:
        print(f"evaluate: {err}")
        return 1
    y = labels[keep].astype(np.int64)
    result = metrics.evaluate(model, x, y, loss_function(config), len(classes), args.batch_size)
    print(f"{config['model']} from {path} (epoch {state['epoch']}) on {dataset} {args.split} set")
    print(result.line({"test": "Test", "val": "Validation", "train": "Training"}[args.split]))
    print("\nPer-class accuracy:")
    for name, acc, support in zip(classes, result.per_class_accuracy(), result.confusion.sum(axis=1)):
        print(f"  {name:>12}: {100 * acc:6.2f}%  ({support} samples)")
    print("\nConfusion matrix (rows: true class, columns: predicted):")
    print(metrics.confusion_table(result.confusion, classes))
    if args.plot:
        plots.plot_confusion(result.confusion, classes, args.plot, title=f"{config['model']} on {dataset}")
    return 0
