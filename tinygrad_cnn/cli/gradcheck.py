"""`tinygrad-cnn gradcheck`: check every node of a zoo model's graph (tg.autograd.check_graph) and print the table.

    tinygrad-cnn gradcheck --model annt-lenet5            # exit code 1 when a backward is wrong (or nothing
                                                          # could be checked)
    tinygrad-cnn gradcheck --model annt-lenet5 --full --out lenet5-check.svg

The batch is random (seeded). Each node is replayed in float64 on the inputs it saw, so the result does not
depend on float32 rounding; kinks (ReLU at 0, pooling ties) are reported as such, not as failures.
"""
from __future__ import annotations

import argparse

from .validate import output_file, positive_int, seed, step


def register(sub: argparse._SubParsersAction) -> None:
    from ..models import list_models

    p = sub.add_parser("gradcheck", help="gradient-check every node of a model's graph; exit 1 on a wrong backward")
    p.add_argument("--model", required=True, choices=list_models())
    p.add_argument("--batch", type=positive_int, default=2, help="batch size (BatchNorm models need 2 or more)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--eps", type=step, default=1e-6, help="central-difference step, in (0, 1)")
    p.add_argument("--full", action="store_true", help="compare single elements (up to --max-elements per input) "
                                                        "instead of one random projection per input")
    p.add_argument("--max-elements", type=positive_int, default=64)
    p.add_argument("--out", type=output_file(("svg", "png", "pdf", "dot", "gv")), default=None,
                   help="also draw the graph coloured by verdict (svg/png/pdf/dot)")
    p.set_defaults(func=_gradcheck)


def _gradcheck(args: argparse.Namespace) -> int:
    from ..autograd import check_graph
    from .graph import model_and_loss

    model, x, build = model_and_loss(args.model, args.batch, args.seed)
    report = check_graph(build, eps=args.eps, fast_mode=not args.full, max_elements=args.max_elements,
                         params={"input": x})
    checked = [r for r in report.rows if r.verdict != "skipped"]
    text = str(report)
    if not checked:  # a check that checked nothing must not pass
        text = text.replace(report.summary(), f"check_graph FAILED: nothing was checked: all {len(report.rows)} "
                                              f"nodes were skipped (see the notes above)")
    print(f"{args.model}: batch {tuple(x.shape)}, eps {args.eps:g}, {'full' if args.full else 'fast'} mode")
    print(text)
    if args.out:
        print(f"wrote {report.draw().export(args.out)}")
    return 0 if report.passed and checked else 1
