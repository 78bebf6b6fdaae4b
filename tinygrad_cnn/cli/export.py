"""`tinygrad-cnn export`: a trained model as an ONNX graph (for onnxruntime) or a safetensors state dict.

    tinygrad-cnn export --checkpoint runs/lenet5/best.npz --format onnx --out lenet5.onnx
    tinygrad-cnn export --checkpoint runs/lenet5 --format safetensors --out lenet5.safetensors

The ONNX graph takes `input` (N, C, H, W) with a dynamic batch axis (the recipe's input size) and gives `output`.
An existing --out file is kept unless --force.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Any

from .validate import UsageError, output_file, positive_int

FORMATS = ("onnx", "safetensors")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a checkpoint's model to ONNX or safetensors")
    p.add_argument("--checkpoint", required=True, help="a last.npz / best.npz written by `tinygrad-cnn train`, "
                                                       "or a run directory (its best.npz)")
    p.add_argument("--format", choices=FORMATS, default=None, help="default: from the suffix of --out")
    p.add_argument("--out", required=True, type=output_file(FORMATS), metavar="FILE",
                   help="the file to write (.onnx or .safetensors)")
    p.add_argument("--opset", type=positive_int, default=None, help="ONNX opset (default tg.onnx.DEFAULT_OPSET)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from .. import models
    from .evaluate import _checkpoint

    suffix = os.path.splitext(args.out)[1][1:].lower()
    fmt = args.format or suffix
    if fmt != suffix:
        raise UsageError(f"--format {fmt} does not match the suffix of --out {args.out!r}")
    if args.opset is not None and fmt != "onnx":
        raise UsageError("--opset applies to --format onnx only")
    if os.path.exists(args.out) and not args.force:
        raise ValueError(f"{args.out} exists; pass --force to replace it")
    path, state = _checkpoint(args.checkpoint)
    config = state["config"]
    model = models.get_model(config["model"])
    model.load_state_dict(state["model"])
    model.eval()
    if fmt == "onnx":
        detail = _onnx(model, config, args)
    else:
        _safetensors(model, config, state, args.out)
        detail = f"{len(model.state_dict())} tensors"
    print(f"wrote {args.out} ({config['model']} from {path}, epoch {state['epoch']}, {fmt}: {detail})")
    return 0


def _onnx(model: Any, config: dict, args: argparse.Namespace) -> str:
    from .. import onnx, zeros

    shape = tuple(config["recipe"]["input_size"])
    proto = onnx.export(model, zeros(1, *shape), args.out, input_names=["input"], output_names=["output"],
                        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=args.opset)
    return f"opset {proto.opset_import[0].version}, input (batch, {', '.join(map(str, shape))})"


def _safetensors(model: Any, config: dict, state: dict, out: str) -> None:
    from .. import save

    meta = {"format": "pt", "model": str(config["model"]), "epoch": str(state["epoch"]),
            "input_size": json.dumps(list(config["recipe"]["input_size"]))}
    save(model.state_dict(), out, metadata=meta)
