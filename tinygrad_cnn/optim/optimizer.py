"""Optimizer base class with torch's param groups, state and state_dict format.

    opt = tg.optim.SGD([{"params": model.features.parameters()},
                        {"params": model.classifier.parameters(), "lr": 1e-2}], lr=1e-3, momentum=0.9)
    opt.zero_grad(); loss.backward(); opt.step()

`state` maps each parameter (the Tensor itself) to a dict of Tensors (`exp_avg`, `step`, ...) under torch's keys;
`state_dict()` replaces the parameters by their index in group order, exactly as torch does, so a torch state dict
(converted to numpy) and ours hold the same keys. Updates work on the numpy arrays (`p._data`) in place, in the order
of torch's single-tensor (for-loop) implementation, and bump each parameter's version counter as torch's in-place
ops do. The helpers at the bottom are the in-place building blocks the optimizers share.
"""
from __future__ import annotations

import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable, Iterable

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyper-parameter without a default (every param group must then give it)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: holds `param_groups` (list of dicts) and per-parameter `state` (dict of dicts of Tensors).

    Args:
        params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts (param groups) whose other keys
            override `defaults` for that group.
        defaults: the hyper-parameters used where a group does not give its own.

    Raises:
        TypeError: params is a single Tensor, or holds something that is not a Tensor.
        ValueError: an empty parameter list, a non-leaf Tensor, a parameter in two groups.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"optimizer got an empty parameter list ({type(self).__name__} needs at least one "
                             f"tensor; a generator such as model.parameters() can only be consumed once, and a "
                             f"model with no layers registered has none)")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for group in self.param_groups:  # groups saved by an older version may lack newer keys
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    # --- param groups --------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group (a dict with 'params' and optional hyper-parameters; missing ones come from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(f"can't optimize a non-leaf Tensor (params[{[id(q) for q in params].index(id(p))}] of "
                                 f"group {len(self.param_groups)}, shape {tuple(p.shape)}, was computed "
                                 f"by {p.grad_fn.name()}); pass leaf tensors such as model.parameters(), or "
                                 f"x.detach().requires_grad_() to make a computed tensor a leaf")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter "
                                 f"{name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # --- gradients and steps -------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's `.grad`: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.grad_fn, p.grad.requires_grad = None, False
                    p.grad._data[...] = 0
                    p.grad._version_box[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once; `closure` re-evaluates the model and returns the loss (optional)."""
        raise NotImplementedError

    @staticmethod
    def _run_closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():  # step() may be called under no_grad, the closure still needs a graph
            return closure()

    # --- state dict ----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}: torch's layout.

        Indices count parameters across groups in order. The per-parameter dicts are the live ones (as in
        torch): deep-copy the result to keep a snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load what `state_dict()` returned (ours, or torch's): hyper-parameters and per-parameter state.

        State tensors are cast to their parameter's dtype (a same-dtype tensor is used as is, like torch);
        torch tensors are converted to tinygrad_cnn Tensors.

        Raises:
            ValueError: the number of groups or of parameters in a group differs.
        """
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = {key: _cast_state(id_map[k], key, value) for key, value in v.items()}
            else:
                state[k] = v
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _typename(obj: Any) -> str:
    cls = type(obj)  # torch.typename: builtins by their bare name, others prefixed by their package
    module = cls.__module__.split(".")[0]
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


def _cast_state(param: Tensor, key: Any, value: Any) -> Any:
    """One loaded state value: Tensors take the parameter's float dtype, except `step` (kept as saved)."""
    if not isinstance(value, Tensor):
        if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor from a torch state dict
            value = Tensor._wrap(np.array(value.detach().cpu().numpy(), copy=True))
        elif key == "step" and isinstance(value, (int, float)):  # old format: a plain number
            return step_tensor(float(value))
        else:
            return deepcopy(value)
    if key != "step" and param._data.dtype.kind == "f" and value._data.dtype != param._data.dtype:
        return Tensor._wrap(value._data.astype(param._data.dtype))
    return value


# --- shared in-place building blocks (torch's single-tensor formulas on numpy arrays) -------------------------
def scalar(x: Any) -> float:
    """A hyper-parameter as a Python float (a 1-element Tensor lr is allowed, as in torch)."""
    return float(x.item()) if isinstance(x, Tensor) else float(x)


def step_tensor(value: float = 0.0) -> Tensor:
    """The 0-d `step` counter: float32, or float64 when that is the default dtype (torch's _get_scalar_dtype)."""
    dt = np.float64 if dtypes.get_default_dtype() == dtypes.float64 else np.float32
    return Tensor._wrap(np.array(value, dtype=dt))


def increment(step_t: Tensor) -> float:
    """`step_t += 1` in place; returns the new count as a Python float (no numpy scalar leaks into float32 math)."""
    np.add(step_t._data, 1, out=step_t._data)
    return float(step_t._data)


def zeros_state(p: Tensor) -> Tensor:
    return Tensor._wrap(np.zeros_like(p._data))


def grad_of(p: Tensor, maximize: bool, weight_decay: float) -> np.ndarray:
    """The gradient the update uses: -grad when maximizing, plus weight_decay * p (L2) when non-zero.

    May be `p.grad`'s own array, so callers never write into it.
    """
    g = p.grad._data
    if maximize:
        g = np.negative(g)
    if weight_decay != 0:
        g = g + p._data * weight_decay  # torch: grad.add(param, alpha=weight_decay), a new tensor
    return g


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start.lerp_(end, weight) with torch's two branches: from start when |weight| < 0.5, else from end.

    The weight is rounded to the array's dtype first and `weight - 1` formed in that dtype, as torch's kernel does.
    """
    w = start.dtype.type(weight)
    diff = end - start
    if abs(w) < 0.5:
        diff *= w
        start += diff
    else:
        diff *= w - start.dtype.type(1)
        np.add(end, diff, out=start)


def addcmul_(x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float) -> None:
    """x += value * t1 * t2 in place, multiplied in torch's order ((value * t1) * t2)."""
    tmp = np.multiply(t1, value)
    tmp *= t2
    x += tmp


def addcdiv_(x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1.0) -> None:
    """x += value * t1 / t2 in place, in torch's order ((value * t1) / t2)."""
    tmp = np.multiply(t1, value) if value != 1 else t1.copy()
    tmp /= t2
    x += tmp


_CHUNK = 1 << 16  # elements per piece of in_chunks: its ~5 arrays (1.3 MB) stay in L2 across an update's passes


def in_chunks(update: Callable[..., None], *arrays: np.ndarray) -> None:
    """Run update(*arrays) (in place, elementwise) on cache-sized pieces of the flattened arrays.

    An update is ~15 numpy passes (torch's kernels fuse them); on a large parameter each pass would stream every
    array from memory again, while a piece is read from cache: Adadelta on a (128, 9216) weight 4.8 -> 3.4 ms.
    Elementwise, so the numbers are the same. Small, 0-d or differently laid-out arrays run whole.
    """
    n = arrays[0].size
    if n < 4 * _CHUNK or not all(a.flags.c_contiguous and a.shape == arrays[0].shape for a in arrays):
        update(*arrays)
        return
    flat = [a.reshape(-1) for a in arrays]
    for i in range(0, n, _CHUNK):
        update(*[f[i:i + _CHUNK] for f in flat])


def check_flags(differentiable: bool, foreach: bool | None = None, fused: bool | None = None) -> None:
    """The implementation-choice flags torch accepts: foreach/fused change nothing here (one numpy code path)."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError("differentiable=True is not supported: tinygrad_cnn optimizers update the "
                                  "parameter arrays in place, outside autograd")


def bump(p: Tensor) -> None:
    """Record an in-place change of p (torch bumps the version counter on every in-place op)."""
    p._version_box[0] += 1
