"""Training checkpoints: everything needed to continue a run bit-exactly, in one .npz written atomically.

A checkpoint is a nested dict: the model's state_dict, the optimizer's and scheduler's state_dicts, both RNG
states, the epoch and the position inside it, the metric history and the run config. `tg.save` stores such trees
without pickle (arrays as npz entries, the rest as JSON, integers of any size exact) and writes to a temporary file
that is renamed over the target, so a crash mid-write leaves the previous checkpoint intact. `load_checkpoint`
checks the fields a caller needs before anyone uses them, so a damaged or foreign file is one clear error.
"""
from __future__ import annotations

import numbers
import os
from typing import Any, Sequence

from ..serialization import load, save

FORMAT = "tinygrad_cnn.training-checkpoint/1"

# field -> (accepted types, what the message calls it)
_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "config": ((dict,), "a dict"), "model": ((dict,), "a state dict"), "optimizer": ((dict,), "a state dict"),
    "scheduler": ((dict, type(None)), "a state dict or None"), "rng": ((dict,), "a dict"),
    "epoch": ((numbers.Integral,), "an integer"), "batch": ((numbers.Integral,), "an integer"),
    "running": ((dict,), "a dict"), "history": ((list,), "a list"), "best_val_acc": ((numbers.Real,), "a number"),
    "best_epoch": ((numbers.Integral,), "an integer"),
}
RESUME_FIELDS = tuple(_FIELDS)                   # what Trainer.from_checkpoint needs
EVALUATE_FIELDS = ("config", "model", "epoch")   # what `tinygrad-cnn evaluate` needs


def require_config(path: str | os.PathLike, state: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """state['config'], after checking it has `keys` (ValueError naming the file and the missing keys)."""
    missing = sorted(set(keys) - set(state["config"]))
    if missing:
        raise ValueError(f"{os.fspath(path)} is not a complete training checkpoint: its config lacks {missing}")
    return state["config"]


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write `state` (a nested dict of Tensors, arrays and plain values) to `path` atomically (temp + rename)."""
    save({"format": FORMAT, **state}, path)


def load_checkpoint(path: str | os.PathLike, required: Sequence[str] = ("model", "epoch")) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; the fields in `required` must be present.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is a tinygrad_cnn .npz but not a training checkpoint (e.g. a bare state_dict), or a
            field is missing or of the wrong type (the message names the file and the field).
        RuntimeError: the file is truncated, corrupt or malformed (from `tg.load`).
    """
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)} is not a training checkpoint written by `tinygrad-cnn train` "
                         f"(expected format {FORMAT!r})")
    for key in required:
        if key not in state:
            raise ValueError(f"{os.fspath(path)} is not a complete training checkpoint: it has no {key!r}")
    for key, (types, what) in _FIELDS.items():
        if key in state and (not isinstance(state[key], types) or isinstance(state[key], bool)):
            raise ValueError(f"{os.fspath(path)} is not a complete training checkpoint: {key!r} should be {what}, "
                             f"got {type(state[key]).__name__}")
    return state
