"""Training checkpoints: everything needed to continue a run bit-exactly, in one .npz written atomically.

A checkpoint is a nested dict: the model's state_dict, the optimizer's and scheduler's state_dicts, both RNG
states, the epoch and the position inside it, the metric history and the run config. `tg.save` stores such trees
without pickle (arrays as npz entries, the rest as JSON, integers of any size exact) and writes to a temporary file
that is renamed over the target, so a crash mid-write leaves the previous checkpoint intact.
"""
from __future__ import annotations

import os
from typing import Any

from ..serialization import load, save

FORMAT = "tinygrad_cnn.training-checkpoint/1"


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write `state` (a nested dict of Tensors, arrays and plain values) to `path` atomically (temp + rename)."""
    save({"format": FORMAT, **state}, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is a tinygrad_cnn .npz but not a training checkpoint (e.g. a bare state_dict).
        RuntimeError: the file is truncated or corrupt (from `tg.load`).
    """
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)} is not a training checkpoint written by `tinygrad-cnn train` "
                         f"(expected format {FORMAT!r})")
    return state
