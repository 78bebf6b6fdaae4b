"""The tape's record: `Function` (forward + backward side by side) and the node every op leaves on the tape.

Calling `SomeFunction.apply(*args)` runs `forward(ctx, *args)` once and, when grad mode is on and an input requires
grad, keeps `ctx` as the output's `grad_fn`: a node that knows its inputs' nodes (`next_functions`), the arrays saved
for backward and the versions those arrays had when saved. `backward(ctx, *grads)` is called later by the engine.

Two flavours share this one mechanism:
- built-in primitives (`tinygrad_cnn.ops`, `array_function = True`) see and return numpy arrays;
- user Functions (`tg.autograd.Function`, as in torch) see and return Tensors.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import anomaly, grad_mode, recording


class Node:
    """A node of the recorded graph: what `tensor.grad_fn` returns (torch: `MulBackward0`)."""

    num_outputs = 1

    def __init__(self) -> None:
        self._edges: tuple = ()  # one (node | None, output_nr) per forward argument, tensors or not
        self.metadata: dict = {}

    @property
    def next_functions(self) -> tuple:
        """The nodes gradients flow to next: one (node, output_nr) per tensor input, (None, 0) where no grad."""
        return self._edges

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The node of a leaf tensor that requires grad: the engine adds the arriving gradient into `variable.grad`."""

    def __init__(self, variable: Any) -> None:
        super().__init__()
        self.variable = variable
        self.post_hooks: list = []  # Tensor.register_post_accumulate_grad_hook, run after .grad is accumulated

    def name(self) -> str:
        return "AccumulateGrad"


class Context(Node):
    """`ctx` in forward/backward, and afterwards the recorded node of this op application.

    Holds: `needs_input_grad` (one bool per forward argument), arrays saved with `save_for_backward`, and any
    hyper-parameters the forward stores as plain attributes (kernel size, axis, ...).
    """

    def __init__(self, fn: type) -> None:
        super().__init__()
        self._fn = fn
        self._saved: tuple | None = ()
        self._saved_versions: list = []
        self._saved_sources: list = []  # per saved value: the input Tensor it is, its output index, or None
        self._tensor_mode = False  # set by the engine while it runs this backward under create_graph
        self._freed = False
        self._non_differentiable: set = set()
        self._materialize_grads = True
        self._input_meta: tuple = ()
        self._out_meta: list | None = None
        self._out_tensors: list = []  # weakrefs to outputs that asked for retain_grad / hooks, by output_nr
        self.needs_input_grad: tuple = ()
        self.num_outputs = 1
        self._tensor_args: tuple = ()

    @property
    def next_functions(self) -> tuple:
        return tuple(e for e, is_t in zip(self._edges, self._tensor_args) if is_t)

    # --- used inside forward -------------------------------------------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (built-ins) or tensors (user Functions) for backward; freed by the engine afterwards."""
        self._saved = values

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved tensors after they "
                f"have already been freed): {self.name()} released its saved tensors after the first backward. "
                f"Specify retain_graph=True in the first .backward() or autograd.grad() call if you need to "
                f"backward through the graph a second time.")
        for i, (owner, version, shape, dtype) in enumerate(self._saved_versions):
            if owner is not None and owner[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: saved tensor {i} of {self.name()} (shape {shape}, {dtype}) is at version "
                    f"{owner[0]}; expected version {version} instead. Make the in-place change on a copy "
                    f"(x = x.clone()) or apply it before {self.name()[:-len('Backward0')] or 'the op'} uses it.")
        if self._tensor_mode:
            return self._saved_as_tensors()
        return self._saved  # type: ignore[return-value]

    def _saved_as_tensors(self) -> tuple:
        """Under create_graph: a saved input comes back as the input Tensor and a saved output as the output
        re-attached to this node, so the backward's own graph reaches them; anything else stays a constant."""
        out = []
        for value, source in zip(self._saved, self._saved_sources):  # type: ignore[arg-type]
            if source is None:
                out.append(value)
            elif isinstance(source, int):
                out.append(self._output_tensor(value, source))
            else:
                out.append(source)
        return tuple(out)

    def _output_tensor(self, value: Any, nr: int) -> Any:
        Tensor = _TENSOR[0]
        t = Tensor._wrap(value._data if isinstance(value, Tensor) else value)
        t.requires_grad, t.grad_fn, t._output_nr = True, self, nr
        return t

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Outputs (e.g. indices) that never carry a gradient."""
        self._non_differentiable.update(id(o) for o in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """When False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Any) -> None:  # in-place user Functions: accepted for torch compatibility
        pass

    # --- the node's face -----------------------------------------------------------------------------------
    def name(self) -> str:
        return getattr(self._fn, "_backward_name", None) or f"{self._fn.__name__}Backward"

    def register_hook(self, hook: Any) -> None:
        self.metadata.setdefault("hooks", []).append(hook)

    def _release(self) -> None:
        """Drop saved arrays after backward (retain_graph=False): memory goes back at once."""
        self._saved = None
        self._saved_versions = []
        self._saved_sources = []
        self._freed = True


class Function:
    """Base class of every differentiable op. Subclass with two staticmethods, as in torch::

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):            # Tensors in, Tensor out (array_function=False, the torch way)
                y = x.exp(); ctx.save_for_backward(y); return y
            @staticmethod
            def backward(ctx, grad_out):    # one gradient per forward argument, None where none
                (y,) = ctx.saved_tensors; return grad_out * y

    and call `Exp.apply(x)`. Built-in primitives set `array_function = True` and work on numpy arrays.
    """

    array_function = False  # True: forward/backward receive numpy arrays (the built-in primitives)

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Context, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must implement backward(ctx, *grad_outputs)")

    @staticmethod
    def setup_context(ctx: Context, inputs: tuple, output: Any) -> None:
        """torch >= 2.0 style: a subclass that defines this has `forward(*args)` without ctx; apply then calls
        setup_context(ctx, args, output) to save what backward needs."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        Tensor = _TENSOR[0] or _load_tensor()
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = grad_mode._enabled[0] and True in needs
        ctx = Context(cls)
        ctx.needs_input_grad = needs if record else (False,) * len(args)
        inputs = None
        if cls.array_function:
            out = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in args])
        else:
            inputs = tuple(a.detach() if isinstance(a, Tensor) else a for a in args)
            with grad_mode.no_grad():
                if cls.setup_context is Function.setup_context:
                    out = cls.forward(ctx, *inputs)
                else:
                    out = cls.forward(*inputs)
                    cls.setup_context(ctx, inputs, out)
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        if recording._anomaly[0]:  # NaN/Inf in the outputs raises here, naming the op and the culprit input
            anomaly.check_forward(cls, args, outs)
        results = []
        for o in outs:
            if isinstance(o, Tensor):
                results.append(o if cls.array_function else Tensor._wrap(o._data, o._version_box))
            else:
                results.append(Tensor._wrap(o if isinstance(o, np.ndarray) else np.asarray(o)))
        if getattr(cls, "view_op", False) and isinstance(args[0], Tensor):
            _mark_view(args[0], results[0])
        if record:
            _record(ctx, args, outs, results, inputs)
        return tuple(results) if multi else results[0]


_TENSOR: list = [None]  # tinygrad_cnn.tensor.Tensor, imported on first use (tensor.py imports this module)


def _load_tensor() -> type:
    from ..tensor import Tensor

    _TENSOR[0] = Tensor
    return Tensor


def _mark_view(src: Any, out: Any) -> None:
    """When out's array lies in src's memory (basic indexing, reshape, permute, expand), make it a torch-style
    view: it shares the base's version counter and remembers the base, so ops/inplace.py can route an in-place
    change through either of them into the base's history (torch's CopySlices)."""
    if not np.may_share_memory(out._data, src._data):
        return  # numpy had to copy (advanced index, reshape of a non-contiguous array): not a view
    base = src._base if src._base is not None else src
    out._base = base
    out._version_box = base._version_box
    out._view_grad_mode = grad_mode._enabled[0]
    if grad_mode._enabled[0]:  # views that autograd may have to re-point after an in-place change of the base
        if base._views is None:
            base._views = weakref.WeakValueDictionary()
        base._views[id(out)] = out


def _record(ctx: Context, args: tuple, outs: tuple, results: list, inputs: tuple | None = None) -> None:
    """Link ctx into the graph: edges to the inputs' nodes, output tensors pointing back, saved-array versions."""
    Tensor = _TENSOR[0]
    edges, is_tensor, meta = [], [], []
    for a in args:  # one pass: this runs for every recorded op
        if isinstance(a, Tensor):
            edges.append(a._edge() if a.requires_grad else (None, 0))
            is_tensor.append(True)
            meta.append((a._data.shape, a._data.dtype))
        else:
            edges.append((None, 0))
            is_tensor.append(False)
            meta.append(None)
    ctx._edges, ctx._tensor_args, ctx._input_meta = tuple(edges), tuple(is_tensor), tuple(meta)
    ctx.num_outputs = len(results)
    ctx._out_tensors = [None] * len(results)
    if recording._module_stack:
        ctx.metadata["modules"] = recording._module_stack[-1]
    if recording._anomaly[0]:
        anomaly.record_site(ctx)  # the user code line that created this node, for anomaly-mode errors
    if recording._input_recorder[0] is not None:
        recording._input_recorder[0](ctx, args)
    if len(results) > 1:  # zeros for outputs that get no gradient need their shape
        ctx._out_meta = [(t._data.shape, t._data.dtype) for t in results]
    for i, (o, t) in enumerate(zip(outs, results)):
        if t._data.dtype.kind in "fc" and id(o) not in ctx._non_differentiable:
            t.requires_grad = True
            t.grad_fn = ctx
            t._output_nr = i
    if ctx._saved:
        _remember_versions(ctx, args, outs, results, inputs)


def _remember_versions(ctx: Context, args: tuple, outs: tuple, results: list, inputs: tuple | None) -> None:
    """For each saved value: the version box of the tensor it came from, so in-place edits are caught later, and
    its source for create_graph (the input Tensor it is, or its output index; None: a constant)."""
    Tensor = _TENSOR[0]
    sources: dict = {}  # id of what forward saw -> input Tensor or output index
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            sources[id(a._data if inputs is None else inputs[i])] = a
    for nr, o in enumerate(outs):  # an integer output (indices) stays a constant
        if results[nr]._data.dtype.kind in "fc" and id(o) not in ctx._non_differentiable:
            sources[id(o)] = nr
    owners = {id(a._data): a for a in args if isinstance(a, Tensor)}
    owners.update({id(t._data): t for t in results})
    versions, saved_sources = [], []
    for s in ctx._saved:  # type: ignore[union-attr]
        source = sources.get(id(s))
        if isinstance(s, Tensor):
            versions.append((s._version_box, s._version_box[0], tuple(s.shape), s._data.dtype))
            if source is None and s.requires_grad:  # a tensor with its own graph (e.g. from a closure)
                source = s
        elif isinstance(s, np.ndarray) and id(s) in owners:
            t = owners[id(s)]
            versions.append((t._version_box, t._version_box[0], tuple(s.shape), s.dtype))
        else:
            versions.append((None, 0, None, None))
        saved_sources.append(source)
    ctx._saved_versions = versions
    ctx._saved_sources = saved_sources


def once_differentiable(fn: Any) -> Any:
    """Decorate a Function's backward that is not itself differentiable (it leaves the tape, e.g. through numpy).

    As in torch: the backward runs with grad mode off on detached gradients; under create_graph its results are
    tied to the inputs by a node whose backward raises, so a second differentiation fails loudly, not silently.
    """
    import functools

    @functools.wraps(fn)
    def wrapper(ctx: Context, *grads: Any) -> Any:
        Tensor = _TENSOR[0] or _load_tensor()
        with grad_mode.no_grad():
            res = fn(ctx, *[g.detach() if isinstance(g, Tensor) else g for g in grads])
        if not grad_mode._enabled[0]:
            return res
        tied = [t for t in (*grads, *(ctx.saved_tensors or ())) if isinstance(t, Tensor) and t.requires_grad]
        if not tied:
            return res
        tie = lambda r: DelayedError.apply(r, *tied) if isinstance(r, Tensor) else r  # noqa: E731
        return tuple(tie(r) for r in res) if isinstance(res, tuple) else tie(res)

    return wrapper


class DelayedError(Function):
    """Identity on its first argument; differentiating through it raises (torch's DelayedError node)."""

    array_function = True
    _backward_name = "DelayedError"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *tied: np.ndarray) -> np.ndarray:
        return x.copy()

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


__all__ = ["Function", "Context", "Node", "AccumulateGrad", "once_differentiable"]
