"""`tg.autograd`: Function for custom ops, backward/grad, grad modes, gradcheck."""
from .api import backward, grad
from .function import Context, Function, Node, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .gradgradcheck import gradgradcheck
from .check_graph import GraphCheckReport, check_graph, graph_recording  # graph-level check (viz issue)
from . import functional
from .anomaly import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly

FunctionCtx = Context

__all__ = ["Function", "Context", "FunctionCtx", "Node", "backward", "grad", "gradcheck", "gradgradcheck",
           "GradcheckError", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "once_differentiable", "functional", "check_graph", "graph_recording", "GraphCheckReport",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]
