"""state_dict / load_state_dict for Module, with torch's keys (`features.0.weight`, `bn.running_mean`) and errors.

Kept apart from module.py so each file stays one idea: this file is "a module's state as a flat dict".
Layers customise per-module saving/loading by overriding `_save_to_state_dict` / `_load_from_state_dict`, as in
torch (Conv2d with a connection table does).
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...autograd import grad_mode
from ...tensor import Size, Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """The (missing_keys, unexpected_keys) named tuple returned by load_state_dict."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _as_array(value: Any) -> np.ndarray | None:
    """The numpy array of a checkpoint entry: a Tensor, a numpy array or (duck-typed) a torch tensor."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return None


def _quoted(keys: list) -> str:
    return ", ".join(f'"{k}"' for k in keys)


class StateDictMixin:
    """state_dict / load_state_dict methods of Module (torch.nn.Module semantics)."""

    _parameters: dict
    _buffers: dict
    _modules: dict
    _non_persistent_buffers_set: set

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own parameters and persistent buffers (not its children's) into destination."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False) -> dict:
        """An OrderedDict of every parameter and persistent buffer, keyed by dotted path (`0.weight`).

        The values are detached tensors sharing memory with the module (keep_vars=True gives the Parameters).
        A module shared under two names appears under both, as in torch.
        """
        if destination is None:
            destination = OrderedDict()
        for name, module in self.named_modules(prefix=prefix, remove_duplicate=False):  # type: ignore[attr-defined]
            module._save_to_state_dict(destination, name + "." if name else "", keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        """Copy this module's own entries from state_dict; record missing/unexpected keys and errors."""
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in [*self._parameters.items(), *persistent.items()] if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            arr = _as_array(state_dict[key])
            if arr is None:
                error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                                  f"object from checkpoint but received {type(state_dict[key])}")
                continue
            if param.ndim == 0 and arr.shape == (1,):  # torch's backward compatibility for 0-d entries
                arr = arr.reshape(())
            if arr.shape != param._data.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {Size(arr.shape)!r} from "
                                  f"checkpoint, the shape in current model is {Size(param._data.shape)!r}.")
                continue
            if assign:
                self._assign_loaded(name, param, arr)
            else:
                with grad_mode.no_grad():  # an in-place copy into a leaf, as torch's param.copy_ under no_grad
                    np.copyto(param._data, arr, casting="unsafe")
                    param._version_box[0] += 1
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    head = key[len(prefix):].split(".", 1)
                    owner = self._modules if len(head) > 1 else local_state
                    if head[0] not in owner:
                        unexpected_keys.append(key)

    def _assign_loaded(self, name: str, param: Tensor, arr: np.ndarray) -> None:
        """load_state_dict(assign=True): replace the tensor instead of copying into it (keeps requires_grad)."""
        from ..parameter import Parameter

        new = Tensor._wrap(np.array(arr))
        if isinstance(param, Parameter):
            new = Parameter(new, requires_grad=param.requires_grad)
        setattr(self, name, new)

    def load_state_dict(self, state_dict: Mapping, strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from state_dict into this module and its descendants.

        Values may be Tensors, numpy arrays or torch tensors. With strict=True the keys must match
        `self.state_dict()` exactly. Returns the named tuple (missing_keys, unexpected_keys).

        Raises:
            TypeError: state_dict is not a mapping.
            RuntimeError: "Error(s) in loading state_dict for Net: ..." listing missing/unexpected keys (strict)
                and every shape mismatch, naming the key and both shapes; nothing is half-reported.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list = []
        unexpected: list = []
        errors: list = []
        state_dict = OrderedDict(state_dict)
        meta = {"assign_to_params_buffers": True} if assign else {}
        for name, module in self.named_modules(remove_duplicate=False):  # type: ignore[attr-defined]
            prefix = name + "." if name else ""
            module._load_from_state_dict(state_dict, prefix, dict(meta), True, missing, unexpected, errors)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(_quoted(unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(_quoted(missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)
