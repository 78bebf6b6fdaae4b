"""`RemovableHandle` (torch.utils.hooks.RemovableHandle): returned by register_*_hook, `handle.remove()` undoes it."""
from __future__ import annotations

import weakref
from typing import Any


class RemovableHandle:
    """Removes one hook (by id) from the dict it was stored in, and from any extra dicts keyed by the same id.

    The dicts are held weakly-ish through their owner module's lifetime; removing twice is a no-op. Usable as a
    context manager: `with m.register_forward_hook(h): ...` removes the hook on exit.
    """

    def __init__(self, hooks_dict: dict, hook_id: int, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = _ref(hooks_dict)
        self.id = hook_id
        extras = [] if extra_dict is None else extra_dict if isinstance(extra_dict, list) else [extra_dict]
        self.extra_dict_ref = tuple(_ref(d) for d in extras)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class _HookDict(dict):
    """A dict that can be weakly referenced (plain dicts cannot), so a handle never keeps a dead module's hooks."""


def _ref(d: dict) -> Any:
    try:
        return weakref.ref(d)
    except TypeError:  # a plain dict: keep a strong reference
        return lambda: d
