"""tg.backends.cudnn: torch.backends.cudnn's switches (module attributes, torch's defaults); no cuDNN here.

`benchmark` is the documented switch other code may read (`tg.backends.cudnn.benchmark`); set it as in torch.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

enabled: bool = True
benchmark: bool = False
benchmark_limit: int | None = None  # torch: None without cuDNN
deterministic: bool = False
allow_tf32: bool = True


def is_available() -> bool:
    """False: tinygrad_cnn runs on numpy (no cuDNN)."""
    return False


def version() -> None:
    """None, as torch without cuDNN."""
    return None


def is_acceptable(tensor: Any) -> bool:
    return False


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int | None = 10,
          deterministic: bool = False, allow_tf32: bool = True) -> Iterator[None]:
    """Set the switches inside a `with` block and restore them after it (torch.backends.cudnn.flags)."""
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    module = globals()
    old = {n: module[n] for n in names}
    module.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                  deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        module.update(old)
