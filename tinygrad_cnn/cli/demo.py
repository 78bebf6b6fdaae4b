"""`tinygrad-cnn demo` (what `make demo` runs): a short LeNet-5 training on MNIST with a progress bar, then the
test accuracy. The data come from `tg.datasets.MNIST` (the shared offline copy, or a download).

Its run goes to runs/demo, or runs/demo-2, runs/demo-3, ... when that holds an earlier demo: running the demo
twice never replaces a run, and never fails for it either."""
from __future__ import annotations

import argparse
import os

from .train import add_data_arguments
from .validate import positive_int, run_directory

DEMO_TRAIN_SAMPLES = None    # None: the whole 50 000-image training part (one epoch: 10-40 s on one core)
DEMO_OUT = "runs/demo"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job of `make demo`: a short LeNet-5 MNIST training")
    p.add_argument("--train-limit", type=positive_int, default=DEMO_TRAIN_SAMPLES,
                   help="train on the first N training samples only (default: all 50 000; the full 20-epoch "
                        "protocol is `tinygrad-cnn train --model annt-lenet5`)")
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--out", type=run_directory, default=None,
                   help=f"run directory (default {DEMO_OUT}, or the first free {DEMO_OUT}-N)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    add_data_arguments(p)
    p.set_defaults(func=_demo)


def free_run_directory(base: str) -> str:
    """`base`, or the first of base-2, base-3, ... that does not hold a run."""
    from ..training.run_dir import RUN_FILES

    candidate, n = base, 1
    while os.path.exists(candidate) and (not os.path.isdir(candidate) or
                                         any(os.path.exists(os.path.join(candidate, f)) for f in RUN_FILES)):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _demo(args: argparse.Namespace) -> int:
    from ..training import Trainer, resolve_config

    out = args.out or free_run_directory(DEMO_OUT)
    config = resolve_config(model="annt-lenet5", dataset="mnist", epochs=args.epochs, seed=1,
                            train_limit=args.train_limit, out=out, data_root=args.data_root,
                            download=args.download)
    summary = Trainer(config, mode="overwrite" if args.overwrite else "new").fit()
    print(f"\nLeNet-5 (ANNT) after {args.epochs} epoch(s) on {args.train_limit or 50000} MNIST images: "
          f"test accuracy {100 * summary['test_acc']:.2f}% ({summary['test_correct']}/{summary['test_total']}); "
          f"run saved in {out} (try: tinygrad-cnn evaluate --checkpoint {out}/best.npz)")
    return 0
