"""`tg.onnx.export(model, args, f, ...)`: torch.onnx.export's signature, for tinygrad_cnn models."""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from .. import autograd
from .._atomic import atomic_write
from ..tensor import Tensor
from ._call import ExportError
from ._export import DEFAULT_OPSET, MIN_OPSET, TrainingMode, Translator, check_constants, require_onnx
from ._graph import GraphBuilder
from ._modules import MODULES
from ._trace import Trace, key_of


def export(model: Any, args: Any = (), f: Any = None, *, kwargs: dict | None = None, verbose: bool | None = None,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           opset_version: int | None = None, dynamo: bool = False, export_params: bool = True,
           keep_initializers_as_inputs: bool = False, dynamic_axes: dict | None = None,
           training: TrainingMode = TrainingMode.EVAL, do_constant_folding: bool = True) -> Any:
    """Export `model` to ONNX by running it once on `args` (a Tensor or a tuple of them) and translating the ops.

    f: a path (written atomically) or a binary file object; None only returns the model.
    input_names / output_names: graph names (default input, input_1, ... / output, output_1, ...).
    dynamic_axes: {name: {axis: "dim_name"}} or {name: [axis, ...]} marks axes (e.g. the batch) symbolic.
    training: TrainingMode.EVAL (default) exports eval-mode behaviour (BatchNorm with its running statistics,
    Dropout as identity) and restores the model's modes afterwards; PRESERVE exports the mode the model is in.
    dynamo: accepted for torch scripts and ignored (there is one exporter: the trace); do_constant_folding is
    always on. Returns the onnx.ModelProto (torch returns None or an ONNXProgram; the file is the same).

    Raises:
        ImportError: the 'onnx' extra is not installed.
        tg.onnx.ExportError: an op with no ONNX translation, naming the op and the module it ran in.
    """
    onnx = require_onnx()
    opset = _check_options(onnx, opset_version, training, not export_params or keep_initializers_as_inputs)
    inputs = args if isinstance(args, tuple) else (args,)
    if inputs and isinstance(inputs[-1], dict) and kwargs is None:  # torch: a trailing dict holds kwargs
        inputs, kwargs = inputs[:-1], inputs[-1]
    call = ([_leaf(a) if isinstance(a, Tensor) else a for a in inputs],
            {k: _leaf(v) if isinstance(v, Tensor) else v for k, v in (kwargs or {}).items()})
    out, trace = _run(model, call, training)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"tg.onnx.export: the model must return a Tensor or a tuple/list of Tensors, got "
                        f"{type(out).__name__}")
    b = GraphBuilder(onnx, opset)
    graph_inputs = [t for t in [*call[0], *call[1].values()] if isinstance(t, Tensor)]
    in_names = _io_names(input_names, len(graph_inputs), "input", b)
    out_names = _io_names(output_names, len(outs), "output", b)
    dyn = _dynamic_axes(dynamic_axes, set(in_names) | set(out_names))
    check_constants(trace, _second_run(model, call, [list(dyn.get(n, {})) for n in in_names], training), model)
    tr = Translator(b, model, trace, {key_of(t): n for t, n in zip(graph_inputs, in_names)})
    tr.run()
    for o, name in zip(outs, out_names):
        value = tr.value(trace.ref(o))
        b.node("Identity", [value.name if value.name is not None else b.const(value.const, "const_output")],
               outputs=[name])
    proto = _model(onnx, b, [_info(onnx, n, t, dyn) for n, t in zip(in_names, graph_inputs)],
                   [_info(onnx, n, o, dyn) for n, o in zip(out_names, outs)])
    _write(proto, f)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    return proto


def _write(proto: Any, f: Any) -> None:
    """A path is replaced atomically (temporary file + rename); a file object is written to; None: nothing."""
    if isinstance(f, (str, os.PathLike)):
        data = proto.SerializeToString()
        atomic_write(f, lambda fh: fh.write(data))
    elif f is not None:
        f.write(proto.SerializeToString())


def _model(onnx: Any, b: GraphBuilder, inputs: list, outputs: list) -> Any:
    """The checked ModelProto: the builder's nodes and initializers, the opset, the lowest IR version for it."""
    graph = onnx.helper.make_graph(b.nodes, "tinygrad_cnn", inputs, outputs, b.initializers)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", b.opset)],
                                   producer_name="tinygrad_cnn", producer_version=_version())
    proto.ir_version = min(proto.ir_version, onnx.helper.find_min_ir_version_for(proto.opset_import))
    onnx.checker.check_model(proto)
    return proto


def _check_options(onnx: Any, opset_version: int | None, training: TrainingMode, params_as_inputs: bool) -> int:
    """The opset to write; NotImplementedError for the options this exporter does not have."""
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"tg.onnx.export: opset_version must be in [{MIN_OPSET}, "
                         f"{onnx.defs.onnx_opset_version()}], got {opset_version}")
    if training == TrainingMode.TRAINING:
        raise NotImplementedError("tg.onnx.export: training=TrainingMode.TRAINING is not supported (ONNX graphs "
                                  "for inference: EVAL or PRESERVE)")
    if params_as_inputs:
        raise NotImplementedError("tg.onnx.export: export_params=False and keep_initializers_as_inputs=True are "
                                  "not supported (weights are stored as initializers)")
    return opset


def _second_run(model: Any, call: tuple, dynamic: list, training: TrainingMode) -> Trace:
    try:
        return _run(model, _perturbed(call, dynamic), training)[1]
    except Exception as e:  # noqa: BLE001 - any failure means the same: the graph would not generalise
        raise ExportError(f"tg.onnx.export: the model fails on an input one longer along its dynamic axes "
                          f"({type(e).__name__}: {e}); declare only axes it accepts at any size") from e


def _perturbed(call: tuple, dynamic: list) -> tuple:
    """The second run's arguments: other values (floats scaled and shifted, integers rolled) and one more entry
    along each
    dynamic axis, so a constant that depends on the input's values or on a dynamic size shows up as a difference.
    dynamic: the dynamic axes of each tensor argument, positional ones first, then keyword ones."""
    axes = iter(dynamic)

    def other(t: Any) -> Any:
        if not isinstance(t, Tensor):
            return t
        arr = t._data
        if arr.dtype.kind in "fc":
            arr = arr * arr.dtype.type(0.75) + arr.dtype.type(0.3)
        elif arr.size > 1:  # indices or masks: the same values in other places (still valid indices)
            arr = np.roll(arr.reshape(-1), 1).reshape(arr.shape)
        for axis in next(axes):
            if arr.shape[axis] > 0:
                arr = np.concatenate([arr, np.take(arr, [0], axis=axis)], axis=axis)
        return _leaf(Tensor._wrap(arr))

    return [other(a) for a in call[0]], {k: other(v) for k, v in call[1].items()}


def _leaf(t: Tensor) -> Tensor:
    """A fresh leaf with the example's values; float inputs require grad so every op on them is recorded."""
    leaf = Tensor._wrap(np.array(t._data, copy=True))
    if leaf._data.dtype.kind in "fc":
        leaf.requires_grad_(True)
    return leaf


def _run(model: Any, call: tuple, training: TrainingMode) -> tuple:
    """(the model's output, the Trace of the run) on call = (args, kwargs); the modes are restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    if training == TrainingMode.EVAL:
        model.eval()
    inputs = [t for t in [*call[0], *call[1].values()] if isinstance(t, Tensor)]
    trace = Trace({kind: rule[0] for kind, rule in MODULES.items()}, inputs)
    try:
        with trace.running(model), autograd.enable_grad():
            out = model(*call[0], **call[1])
    finally:
        for m, mode in modes:
            m.training = mode
    return out, trace


def _io_names(names: Sequence[str] | None, n: int, base: str, b: GraphBuilder) -> list[str]:
    names = list(names or [])
    if len(names) > n:
        raise ValueError(f"tg.onnx.export: {len(names)} {base}_names for {n} {base}s")
    names += [base if i == 0 else f"{base}_{i}" for i in range(len(names), n)]
    return [b.reserve(str(name)) for name in names]


def _dynamic_axes(spec: dict | None, known: set) -> dict:
    """{name: {axis: dim_name}}; a list of axes gets torch's names ('<name>_dynamic_axes_<k>')."""
    out = {}
    for name, axes in (spec or {}).items():
        if name not in known:
            raise ValueError(f"tg.onnx.export: dynamic_axes names {name!r}, which is not an input or output "
                             f"name ({', '.join(sorted(known))})")
        if isinstance(axes, dict):
            out[name] = {int(k): str(v) for k, v in axes.items()}
        else:
            out[name] = {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(axes)}
    return out


def _info(onnx: Any, name: str, t: Tensor, dyn: dict) -> Any:
    axes = dyn.get(name, {})
    shape = [axes.get(i, axes.get(i - t.ndim, d)) for i, d in enumerate(t.shape)]
    elem = onnx.helper.np_dtype_to_tensor_dtype(t._data.dtype)
    return onnx.helper.make_tensor_value_info(name, elem, shape)


def _version() -> str:
    from .. import __version__

    return __version__
