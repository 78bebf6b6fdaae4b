"""Anomaly mode (`tg.autograd.detect_anomaly`, `set_detect_anomaly`): find the op that first made a NaN or Inf.

While it is on:
- every recorded node remembers where it was created: the first frame of *user* code on the stack (frames inside
  the tinygrad_cnn package are skipped), in `ctx.metadata["site"]` ("file:line in function") and the whole user
  stack in `ctx.metadata["traceback_"]` (torch's key);
- with check_nan (the default) every forward output and every gradient a backward returns is checked; the first
  non-finite value raises RuntimeError naming the op, the module path (`ctx.metadata["modules"]`, named through the
  outermost module's `named_modules()`), the creation site and which input already held a NaN/Inf (or that the op
  itself made it);
- an error raised inside a node's backward (e.g. a saved tensor modified in place) gets a note with the forward
  creation site of that node.

When off, Function.apply and the engine pay one list lookup per op (`recording._anomaly[0]`), nothing else.
The flag lives in `recording._anomaly` as [enabled, check_nan]: recording state, like the grad-mode flag.
"""
from __future__ import annotations

import functools
import os
import traceback
import warnings
from typing import Any, Callable

import numpy as np

from . import recording

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../tinygrad_cnn


class detect_anomaly:
    """Context manager / decorator turning anomaly mode on (as torch.autograd.detect_anomaly).

        with tg.autograd.detect_anomaly():
            loss = model(x).sum(); loss.backward()      # raises at the first op producing NaN/Inf

    check_nan=False keeps recording creation sites (for errors raised in backward) without the NaN/Inf checks.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        self._prev: tuple | None = None
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        self._prev = (recording._anomaly[0], _check_nan_flag())
        _set(True, self.check_nan)

    def __exit__(self, *exc: Any) -> None:
        _set(*self._prev)  # type: ignore[misc]

    def __call__(self, fn: Callable) -> Callable:
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """`set_detect_anomaly(True)` switches anomaly mode on at once (False: off); as a context manager it restores
    the previous setting on exit (as torch.autograd.set_detect_anomaly)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (recording._anomaly[0], _check_nan_flag())
        _set(bool(mode), bool(check_nan))

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _set(*self._prev)


def is_anomaly_enabled() -> bool:
    return recording._anomaly[0]


def is_anomaly_check_nan_enabled() -> bool:
    return _check_nan_flag()


def _check_nan_flag() -> bool:
    return recording._anomaly[1] if len(recording._anomaly) > 1 else True


def _set(enabled: bool, check_nan: bool) -> None:
    recording._anomaly[:] = [enabled, check_nan]


# --- where an op was created ---------------------------------------------------------------------------------
def _user_frames() -> list:
    """The live stack's frames outside the tinygrad_cnn package, innermost last."""
    frames = traceback.extract_stack()
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)]


def _site(frames: list) -> str:
    if not frames:
        return "<unknown: no frame outside tinygrad_cnn>"
    f = frames[-1]
    return f"{f.filename}:{f.lineno} in {f.name}" + (f"\n    {f.line}" if f.line else "")


def record_site(ctx: Any) -> None:
    """Called by Function.apply for each recorded node while anomaly mode is on."""
    frames = _user_frames()
    ctx.metadata["site"] = _site(frames)
    ctx.metadata["traceback_"] = traceback.format_list(frames)


def module_path(modules: tuple) -> str:
    """'Net.features.0 (Conv2d)' for the module stack (outermost first) recorded on a node; '' outside modules."""
    if not modules:
        return ""
    root, inner = modules[0], modules[-1]
    names = {id(m): n for n, m in root.named_modules()} if hasattr(root, "named_modules") else {}
    name = names.get(id(inner), "")
    path = type(root).__name__ + (f".{name}" if name else "")
    return path if inner is root else f"{path} ({type(inner).__name__})"


# --- the NaN/Inf checks --------------------------------------------------------------------------------------
def _first_bad(arr: Any) -> tuple | None:
    """(index, value) of the first NaN/Inf in a floating array, or None when all finite (or not floating)."""
    a = getattr(arr, "_data", arr)
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    flat = int(np.argmax(bad.reshape(-1)))
    idx = tuple(int(i) for i in np.unravel_index(flat, a.shape)) if a.ndim else ()
    return idx, a[idx] if a.ndim else a[()]


def _at(idx: tuple) -> str:
    return f" at index {idx[0] if len(idx) == 1 else idx}" if idx else ""


def _where(site: str, modules: tuple) -> str:
    path = module_path(modules)
    return (f" in module {path}" if path else "") + f"\n  created at {site}"


def _input_culprit(args: tuple, what: str) -> str:
    """Which argument already held a non-finite value (the first one), or that the op made it itself."""
    for i, a in enumerate(args):
        found = _first_bad(a)
        if found is not None:
            idx, v = found
            shape = tuple(getattr(a, "shape", ()))
            return (f"\n  {what} {i} (shape {shape}) already held {v}{_at(idx)}: the non-finite value came from "
                    f"upstream; look at where that tensor was computed")
    return f"\n  every {what} was finite: this op produced the non-finite value itself"


def check_forward(fn: type, args: tuple, out: Any) -> None:
    """Called by Function.apply after forward while anomaly mode is on."""
    if not _check_nan_flag():
        return
    outs = out if isinstance(out, tuple) else (out,)
    for k, o in enumerate(outs):
        found = _first_bad(o)
        if found is None:
            continue
        idx, v = found
        name = fn.__name__
        which = f"output {k}" if len(outs) > 1 else "its output"
        raise RuntimeError(
            f"anomaly mode: forward of {name} produced {v} in {which} (shape {tuple(np.shape(getattr(o, '_data', o)))})"
            f"{_at(idx)}{_where(_site(_user_frames()), recording.current_modules())}"
            f"{_input_culprit(args, 'input')}")


def run_backward_checked(node: Any, grads: list, call: Callable) -> tuple:
    """The engine's `call(node, grads)` for one node, with the creation site added to errors and, with check_nan,
    every returned gradient checked for NaN/Inf."""
    try:
        input_grads = call(node, grads)
    except Exception as e:
        if hasattr(e, "add_note"):  # Python >= 3.11: the original type and message stay
            e.add_note(f"anomaly mode: the backward of {node.name()} failed; that node was made"
                       f"{_where(node.metadata.get('site', '<not recorded>'), node.metadata.get('modules', ()))}")
        raise
    if not _check_nan_flag():
        return input_grads
    for i, g in enumerate(input_grads):
        found = _first_bad(g)
        if found is None:
            continue
        idx, v = found
        raise RuntimeError(
            f"anomaly mode: Function '{node.name()}' returned {v} values in its {i}th output (the gradient "
            f"for input {i}, shape {tuple(np.shape(g))}){_at(idx)}"
            f"{_where(node.metadata.get('site', '<not recorded>'), node.metadata.get('modules', ()))}"
            f"{_input_culprit(tuple(grads), 'incoming gradient')}")
    return input_grads


__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]
