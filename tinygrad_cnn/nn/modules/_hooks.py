"""Calling a Module and its forward hooks; `RemovableHandle` (torch.utils.hooks.RemovableHandle), returned by
register_*_hook, whose `remove()` undoes the registration."""
from __future__ import annotations

import weakref
from typing import Any, Callable

from ...autograd import recording


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


class HookMixin:
    """Module.__call__ and forward hooks (torch.nn.Module semantics: pre-hooks may replace the arguments,
    forward hooks may replace the output; handles remove them)."""

    _forward_hooks: dict
    _forward_hooks_with_kwargs: dict
    _forward_hooks_always_called: dict
    _forward_pre_hooks: dict
    _forward_pre_hooks_with_kwargs: dict
    _next_hook_id: int
    forward: Callable

    def _new_hook_handle(self, hooks: dict, hook: Callable, prepend: bool, extra: list) -> RemovableHandle:
        handle = RemovableHandle(hooks, self._next_hook_id, extra_dict=extra)
        object.__setattr__(self, "_next_hook_id", self._next_hook_id + 1)
        hooks[handle.id] = hook
        if prepend:
            items = list(hooks.items())
            hooks.clear()
            hooks.update([items[-1], *items[:-1]])
        return handle

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """hook(module, args) -> None or new args, run before forward (with_kwargs: hook(module, args, kwargs))."""
        handle = self._new_hook_handle(self._forward_pre_hooks, hook, prepend, [self._forward_pre_hooks_with_kwargs])
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """hook(module, args, output) -> None or a replacement output, run after forward."""
        handle = self._new_hook_handle(self._forward_hooks, hook, prepend,
                                       [self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run forward-pre hooks, forward, forward hooks; recorded nodes remember this module (graph clusters)."""
        recording.push_module(self)
        try:
            if not (self._forward_hooks or self._forward_pre_hooks):
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(args, kwargs)
        finally:
            recording.pop_module()

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        called: set = set()
        try:
            result = self.forward(*args, **kwargs)
            for hook_id, hook in list(self._forward_hooks.items()):
                called.add(hook_id)
                with_kw = hook_id in self._forward_hooks_with_kwargs
                res = hook(self, args, kwargs, result) if with_kw else hook(self, args, result)
                if res is not None:
                    result = res
        except Exception:
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called and hook_id not in called:
                    with_kw = hook_id in self._forward_hooks_with_kwargs
                    hook(self, args, kwargs, None) if with_kw else hook(self, args, None)
            raise
        return result
