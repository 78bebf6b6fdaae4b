"""`tinygrad-cnn graph`: draw a zoo model's computation graph (one forward, optionally one backward).

    tinygrad-cnn graph --model annt-lenet5 --out lenet5.svg              # every op, clusters per layer
    tinygrad-cnn graph --model annt-lenet5 --out lenet5.png --depth 1    # one box per layer
    tinygrad-cnn graph --model annt-lenet5 --out grads.svg --grads       # coloured by gradient norm
    tinygrad-cnn graph --model annt-lenet5 --out steps.html --steps      # step through backward in a browser

The batch is random (seeded): the graph's structure and shapes do not depend on the data.
"""
from __future__ import annotations

import argparse
import os
import shutil
from typing import Any, Callable

from .validate import UsageError, nonnegative_int, output_file, positive_int, seed

DRAWINGS = ("svg", "png", "pdf", "dot", "gv")     # graphviz formats (dot/gv: the source, no `dot` program needed)
PAGES = ("html", "htm")                            # --steps


def model_and_loss(name: str, batch: int, seed: int) -> tuple[Any, Any, Callable[[], Any]]:
    """(model, input, loss builder) for zoo model `name` (tg.models.get_model) on a random batch with random
    labels, using the recipe's loss function. Raises UsageError for a batch of 1 on a model with BatchNorm
    (training-mode batch statistics need at least 2 samples, as in torch)."""
    import numpy as np

    from .. import manual_seed, models, randn, tensor
    from ..nn import functional as F
    from ..nn.modules.normalization import _BatchNorm

    manual_seed(seed)
    model = models.get_model(name)
    if batch < 2 and any(isinstance(m, _BatchNorm) for m in model.modules()):
        raise UsageError(f"--batch {batch}: {name} has BatchNorm layers, whose training-mode statistics need at "
                         f"least 2 samples; use --batch 2 or more")
    recipe = models.get_recipe(name)
    x = randn(batch, *recipe.input_size)
    loss_fn = F.cross_entropy if recipe.loss == "cross_entropy" else F.nll_loss
    rng = np.random.default_rng(seed)

    def build() -> Any:
        out = model(x)
        return loss_fn(out, tensor(rng.integers(0, out.shape[1], size=batch)))

    return model, x, build


def register(sub: argparse._SubParsersAction) -> None:
    from ..models import list_models

    p = sub.add_parser("graph", help="draw a model's computation graph (svg/png/pdf/dot, or an html stepper)")
    p.add_argument("--model", required=True, choices=list_models())
    p.add_argument("--out", required=True, type=output_file(DRAWINGS + PAGES),
                   help="output file; the format comes from the suffix (.svg/.png/.pdf/.dot/.gv; .html with "
                        "--steps)")
    p.add_argument("--depth", type=nonnegative_int, default=None, help="draw modules at this depth as one box "
                                                                       "each (0: the whole model, 1: its layers)")
    p.add_argument("--grads", action="store_true", help="run backward and colour nodes by gradient norm")
    p.add_argument("--values", action="store_true", help="show min/max/mean of every value")
    p.add_argument("--steps", action="store_true", help="write an HTML page stepping through backward")
    p.add_argument("--rankdir", default="TB", choices=("TB", "LR", "BT", "RL"))
    p.add_argument("--batch", type=positive_int, default=2, help="batch size of the random input (default 2: "
                                                                  "BatchNorm models need at least 2)")
    p.add_argument("--seed", type=seed, default=0)
    p.set_defaults(func=_graph)


def _check_output(args: argparse.Namespace) -> None:
    """--steps writes an HTML page, the others a drawing; rendering (all but .dot/.gv) needs graphviz's `dot`."""
    fmt = os.path.splitext(args.out)[1][1:].lower()
    if args.steps != (fmt in PAGES):
        raise UsageError(f"--out {args.out}: " + ("--steps writes an HTML page: use a .html file" if args.steps else
                                                  "an .html page is written by --steps; a drawing needs "
                                                  ".svg, .png, .pdf, .dot or .gv"))
    if fmt not in ("dot", "gv") and shutil.which("dot") is None:
        raise RuntimeError(f"writing {args.out} needs Graphviz's `dot` program, which is not installed "
                           f"(apt install graphviz, brew install graphviz); --out FILE.dot writes the graph's "
                           f"source without it")


def _graph(args: argparse.Namespace) -> int:
    from .. import viz
    from ..autograd import graph_recording

    _check_output(args)
    model, x, build = model_and_loss(args.model, args.batch, args.seed)
    with graph_recording():  # values for tooltips (and --values)
        loss = build()
    kwargs = dict(params={"input": x}, rankdir=args.rankdir, show_values=args.values)
    if args.steps:
        path = viz.backward_steps(loss, args.out, title=f"{args.model}: backward, step by step", **kwargs)
        print(f"wrote {path}")
        return 0
    if args.grads:
        with viz.record_gradients():
            loss.backward()
    g = viz.draw_graph(loss, show_grads=args.grads, max_depth=args.depth, **kwargs)
    path = g.export(args.out)
    ops = len(g.index.ops())
    print(f"wrote {path} ({ops} ops, loss {loss.item():.4f})")
    return 0
