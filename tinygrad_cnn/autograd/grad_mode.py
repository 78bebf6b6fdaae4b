"""The grad-mode flag: the one piece of global autograd state. `no_grad` records nothing on the tape."""
from __future__ import annotations

import functools
from typing import Any, Callable

_enabled = [True]


def is_grad_enabled() -> bool:
    return _enabled[0]


class _GradMode:
    """Context manager and decorator that sets the flag on entry and restores it on exit."""

    mode: bool = True

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:  # bare `@tg.no_grad`, as torch allows
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self) -> None:
        self._prev = _enabled[0]
        _enabled[0] = self.mode

    def __exit__(self, *exc: Any) -> None:
        _enabled[0] = self._prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording: `with tg.no_grad(): ...` or `@tg.no_grad()`."""

    mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a `no_grad` block."""

    mode = True


class inference_mode(no_grad):
    """Alias of no_grad (numpy has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode


class set_grad_enabled(_GradMode):
    """`set_grad_enabled(False)` sets the flag at once (like torch) and also works as a context manager."""

    def __init__(self, mode: bool) -> None:
        self._prev = _enabled[0]
        self.mode = bool(mode)
        _enabled[0] = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _enabled[0] = self._prev

    def __call__(self, fn: Callable) -> Callable:  # pragma: no cover - rarely used as decorator
        mode, prev = self.mode, self._prev
        _enabled[0] = prev

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
