"""`tinygrad-cnn demo` (what `make demo` runs): a short LeNet-5 training on MNIST with a progress bar, then the
test accuracy. The data come from `tg.datasets.MNIST` (the shared offline copy, or a download)."""
from __future__ import annotations

import argparse

from .train import add_data_arguments

DEMO_TRAIN_SAMPLES = None    # None: the whole 50 000-image training part (one epoch: 10-40 s on one core)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job of `make demo`: a short LeNet-5 MNIST training")
    p.add_argument("--train-limit", type=int, default=DEMO_TRAIN_SAMPLES,
                   help="train on the first N training samples only (default: all 50 000; the full 20-epoch "
                        "protocol is `tinygrad-cnn train --model annt-lenet5`)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--out", default="runs/demo", help="run directory (checkpoints, metrics.csv, plots)")
    add_data_arguments(p)
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from ..datasets import DatasetNotFoundError, IntegrityError
    from ..training import Trainer, resolve_config

    config = resolve_config(model="annt-lenet5", dataset="mnist", epochs=args.epochs, seed=1,
                            train_limit=args.train_limit, out=args.out, data_root=args.data_root,
                            download=args.download)
    try:
        summary = Trainer(config).fit()
    except KeyboardInterrupt:
        return 130
    except (DatasetNotFoundError, IntegrityError) as err:
        print(f"demo: {err}")
        return 1
    print(f"\nLeNet-5 (ANNT) after {args.epochs} epoch(s) on {args.train_limit or 50000} MNIST images: "
          f"test accuracy {100 * summary['test_acc']:.2f}% ({summary['test_correct']}/{summary['test_total']}); "
          f"run saved in {args.out} (try: tinygrad-cnn evaluate --checkpoint {args.out}/best.npz)")
    return 0
