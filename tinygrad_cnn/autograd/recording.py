"""What the tape records about where an op came from, beside grad mode (the other recording flag).

- The module stack: `Module.__call__` pushes the chain of modules whose forward is running, so each recorded node
  knows its module path (the visualiser groups nodes into clusters with it; error reports name it).
- Anomaly mode: when on, each node also records the user code line that created it, and the engine checks every
  forward and backward result for NaN/Inf.
Both are recording state in the same sense as the grad-mode flag; nothing else in the library is global.
"""
from __future__ import annotations

from typing import Any

_module_stack: list = []  # each entry: tuple of modules from the outermost to the one running now
_anomaly = [False]
# Opt-in observers for checking and visualisation (empty/None on the default path, so training pays nothing):
_input_recorder: list = [None]  # graph_recording(): fn(ctx, args) keeps each node's forward arguments
_grad_observers: list = []  # record_gradients(): fn(node, grads_out, grads_in) after each node's backward


def push_module(module: Any) -> None:
    parent = _module_stack[-1] if _module_stack else ()
    _module_stack.append(parent + (module,))


def pop_module() -> None:
    _module_stack.pop()


def current_modules() -> tuple:
    """Modules whose forward is running now, outermost first (empty outside any Module call)."""
    return _module_stack[-1] if _module_stack else ()


def is_anomaly_enabled() -> bool:
    return _anomaly[0]
