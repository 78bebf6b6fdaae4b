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

    # defaults on the class: an op records ~4 instance attributes instead of 15 (this runs for every recorded op)
    _saved: tuple | None = ()
    _saved_versions: Any = ()
    _saved_sources: Any = ()  # per saved value: the input Tensor it is, its output index, or None
    _tensor_mode = False  # set by the engine while it runs this backward under create_graph
    _freed = False
    _non_differentiable: Any = frozenset()  # ids of outputs marked non-differentiable (a set once marked)
    _materialize_grads = True
    _input_meta: tuple = ()  # per forward argument: (shape, dtype) of a Tensor, None for anything else
    _out_meta: list | None = None
    _out_tensors: Any = ()  # weakrefs to outputs that asked for retain_grad / hooks, by output_nr (set per node)
    needs_input_grad: tuple = ()

    def __init__(self, fn: type) -> None:
        self._fn = fn
        self._edges = ()
        self.metadata = {}

    @property
    def next_functions(self) -> tuple:
        return tuple(e for e, m in zip(self._edges, self._input_meta) if m is not None)

    @property
    def _tensor_args(self) -> tuple:
        """Per forward argument: was it a Tensor (viz walks the graph with it)."""
        return tuple(m is not None for m in self._input_meta)

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
        self._non_differentiable = set(self._non_differentiable) | {id(o) for o in outputs}

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
    view_op = False  # True: the output may share the first input's memory (see _mark_view)

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
        record = False
        if grad_mode._enabled[0]:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    record = True
                    break
        inputs = None
        if cls.array_function:
            if record:
                ctx = Context(cls)
                ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
            else:  # nothing is recorded: a throwaway ctx (no_grad and inference take this path)
                ctx = _Unrecorded(len(args))
            out = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in args])
        else:
            ctx = Context(cls)
            ctx.needs_input_grad = (tuple(isinstance(a, Tensor) and a.requires_grad for a in args) if record
                                    else (False,) * len(args))
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
            if type(o) is np.ndarray:
                results.append(Tensor._wrap(o))
            elif isinstance(o, Tensor):
                results.append(o if cls.array_function else Tensor._wrap(o._data, o._version_box))
            else:
                results.append(Tensor._wrap(o if isinstance(o, np.ndarray) else np.asarray(o)))
        if cls.view_op and isinstance(args[0], Tensor):
            _mark_view(args[0], results[0])
        if record:
            _record(ctx, args, outs, results, inputs)
        return tuple(results) if multi else results[0]


class _Unrecorded:
    """The ctx of an application that records nothing: no input needs a gradient and nothing is kept."""

    __slots__ = ("needs_input_grad", "__dict__")

    def __init__(self, n: int) -> None:
        self.needs_input_grad = _FALSES[n] if n < 8 else (False,) * n

    def save_for_backward(self, *values: Any) -> None:
        pass

    def mark_non_differentiable(self, *outputs: Any) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass

    def mark_dirty(self, *tensors: Any) -> None:
        pass


_FALSES = [(False,) * n for n in range(8)]


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
    edges, meta = [], []
    for a in args:  # one pass: this runs for every recorded op
        if isinstance(a, Tensor):
            d = a._data
            if not a.requires_grad:
                edges.append(_NO_EDGE)
            elif a.grad_fn is not None:
                edges.append((a.grad_fn, a._output_nr))
            else:
                edges.append(a._edge())
            meta.append((d.shape, d.dtype))
        else:
            edges.append(_NO_EDGE)
            meta.append(None)
    ctx._edges, ctx._input_meta = tuple(edges), tuple(meta)
    n_out = len(results)
    ctx._out_tensors = [None] * n_out
    if n_out > 1:  # zeros for outputs that get no gradient need their shape
        ctx.num_outputs = n_out
        ctx._out_meta = [(t._data.shape, t._data.dtype) for t in results]
    if recording._module_stack:
        ctx.metadata["modules"] = recording._module_stack[-1]
    if recording._anomaly[0]:
        anomaly.record_site(ctx)  # the user code line that created this node, for anomaly-mode errors
    if recording._input_recorder[0] is not None:
        recording._input_recorder[0](ctx, args)
    nondiff = ctx._non_differentiable
    for i, t in enumerate(results):
        if t._data.dtype.kind in "fc" and (not nondiff or id(outs[i]) not in nondiff):
            t.requires_grad = True
            t.grad_fn = ctx
            t._output_nr = i
    if ctx._saved:
        _remember_versions(ctx, args, outs, results, inputs)


_NO_EDGE = (None, 0)
_NO_VERSION = (None, 0, None, None)


def _remember_versions(ctx: Context, args: tuple, outs: tuple, results: list, inputs: tuple | None) -> None:
    """For each saved value: the version box of the tensor it came from, so in-place edits are caught later, and
    its source for create_graph (the input Tensor it is, or its output index; None: a constant)."""
    Tensor = _TENSOR[0]
    nondiff = ctx._non_differentiable
    # per tensor input: what forward saw (its array, or its detached Tensor) and the input
    seen = [(a._data if inputs is None else inputs[i], a) for i, a in enumerate(args) if isinstance(a, Tensor)]
    # per output: forward's value, its tensor, and whether it carries a gradient (integer outputs stay constants)
    made = [(o, t, t._data.dtype.kind in "fc" and (not nondiff or id(o) not in nondiff))
            for o, t in zip(outs, results)]
    versions, saved_sources = [], []
    for s in ctx._saved:  # type: ignore[union-attr]
        if s is None:
            versions.append(_NO_VERSION)
            saved_sources.append(None)
            continue
        source = owner = None
        for value, a in seen:
            if value is s:
                source = a
            if a._data is s:
                owner = a
        for nr, (o, t, differentiable) in enumerate(made):  # outputs win, as a later entry would
            if o is s and differentiable:
                source = nr
            if t._data is s:
                owner = t
        if isinstance(s, Tensor):
            versions.append((s._version_box, s._version_box[0], tuple(s.shape), s._data.dtype))
            if source is None and s.requires_grad:  # a tensor with its own graph (e.g. from a closure)
                source = s
        elif owner is not None and isinstance(s, np.ndarray):
            versions.append((owner._version_box, owner._version_box[0], tuple(s.shape), s.dtype))
        else:
            versions.append(_NO_VERSION)
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
