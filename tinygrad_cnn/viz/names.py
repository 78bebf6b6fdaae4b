"""Names for what a graph touches: parameters, buffers, inputs and modules.

Modules are found through the nodes themselves: every node recorded while a `Module` ran has
`metadata["modules"]` (outermost first), so the outermost module of any node is a root whose `named_modules()`,
`named_parameters()` and `named_buffers()` give dotted names such as `features.3` and `features.3.weight`. A
`params` argument (a dict name -> tensor, an iterable of pairs, or a Module) names tensors explicitly, as in torchviz.
"""
from __future__ import annotations

from typing import Any, Iterable


class Naming:
    """Look-ups from object identity to names. Built once per drawing / check."""

    def __init__(self, roots: Iterable[Any] = (), params: Any = None) -> None:
        self.tensor_names: dict[int, str] = {}  # id(tensor) -> name (parameters and user-named tensors)
        self.array_names: dict[int, str] = {}  # id(array) -> name (buffers, user-named inputs: matched by data)
        self.buffer_arrays: set[int] = set()
        self.module_names: dict[int, str] = {}  # id(module) -> dotted name ('' for a root)
        self.modules_by_name: dict[str, Any] = {}
        self.roots: list = []
        self.module_owned: set[str] = set()  # names of parameters/buffers found in modules (they have owners)
        for root in roots:
            self._add_root(root)
        if params is not None:
            self._add_params(params)

    def _add_root(self, root: Any) -> None:
        if id(root) in self.module_names or not hasattr(root, "named_modules"):
            return
        self.roots.append(root)
        for name, m in root.named_modules():
            self.module_names.setdefault(id(m), name)
            self.modules_by_name.setdefault(name, m)
        for name, p in root.named_parameters():
            self.tensor_names.setdefault(id(p), name)
            self.array_names.setdefault(id(p._data), name)
            self.module_owned.add(name)
        for name, b in root.named_buffers():
            self.array_names.setdefault(id(b._data), name)
            self.buffer_arrays.add(id(b._data))
            self.module_owned.add(name)

    def _add_params(self, params: Any) -> None:
        if hasattr(params, "named_parameters"):
            self._add_root(params)
            return
        items = params.items() if hasattr(params, "items") else params
        for name, t in items:  # explicit names win over module-derived ones
            self.tensor_names[id(t)] = str(name)
            self.array_names[id(t._data)] = str(name)

    # --- queries ---------------------------------------------------------------------------------------------
    def tensor_name(self, t: Any) -> str | None:
        return self.tensor_names.get(id(t)) or self.array_names.get(id(getattr(t, "_data", None)))

    def array_name(self, arr: Any) -> str | None:
        return self.array_names.get(id(arr))

    def is_buffer(self, arr: Any) -> bool:
        return id(arr) in self.buffer_arrays

    def module_name(self, module: Any) -> str:
        """Dotted name ('features.3'); a root module is named by its class."""
        name = self.module_names.get(id(module))
        return name if name else type(module).__name__

    def module_label(self, module: Any) -> str:
        """`features.3 (Conv2d)`; a root shows just its class name."""
        name = self.module_names.get(id(module))
        cls = type(module).__name__
        return f"{name} ({cls})" if name else cls

    def owner_of(self, param_name: str) -> Any:
        """The module that holds parameter/buffer `param_name` (None for names not found in a module)."""
        if param_name not in self.module_owned:
            return None
        return self.modules_by_name.get(param_name.rpartition(".")[0])

    def path_label(self, modules: tuple) -> str:
        """The innermost module of a node's module path, as a label ('' outside any module)."""
        return self.module_label(modules[-1]) if modules else ""


def roots_of(nodes: Iterable[Any]) -> list:
    """The outermost modules that recorded any of `nodes`, in first-seen order."""
    seen: dict[int, Any] = {}
    for node in nodes:
        mods = node.metadata.get("modules") if hasattr(node, "metadata") else None
        if mods:
            seen.setdefault(id(mods[0]), mods[0])
    return list(seen.values())


def param_count(module: Any) -> int:
    return int(sum(p.numel() for p in module.parameters())) if hasattr(module, "parameters") else 0


__all__ = ["Naming", "roots_of", "param_count"]
