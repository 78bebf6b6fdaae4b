"""`tg.onnx`: export a model to ONNX, as torch.onnx does.

    tg.onnx.export(model, tg.randn(1, 3, 32, 32), "model.onnx", input_names=["input"], output_names=["logits"],
                   dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})

Importing this package does not import onnx; `export` does, and names the 'onnx' extra when it is missing.
See docs/interop.md for what is exported and how it differs from torch.onnx.export.
"""
from ._api import export
from ._call import ExportError
from ._export import DEFAULT_OPSET, TrainingMode

__all__ = ["export", "ExportError", "TrainingMode", "DEFAULT_OPSET"]
