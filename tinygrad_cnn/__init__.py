"""tinygrad_cnn: a define-by-run autograd framework on numpy with PyTorch's API, for training and checking CNNs.

    import tinygrad_cnn as tg
    x = tg.randn(8, 3, requires_grad=True)
    (x * x).sum().backward()
"""
from ._malloc import keep_freed_memory as _keep_freed_memory

_keep_freed_memory()  # glibc would hand each step's freed arrays back to the OS: see _malloc.py

from . import autograd, backends, datasets, linalg, models, nn, optim, utils, viz  # noqa: E402,F401
from . import distributed  # noqa: E402,F401 - tg.distributed (imports mpi4py only when used)
from . import onnx, safetensors  # noqa: E402,F401 - tg.onnx, tg.safetensors (their packages imported on use)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (arange, as_tensor, cat, chunk, concat, concatenate, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, normal, ones, ones_like, rand, rand_like, randint, randn, randn_like,
                       randperm, split, stack, tensor, where, zeros, zeros_like)
from .device import accelerator, cuda, device
from .dtypes import (DType, bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8,
                     int16, int32, int64, long, set_default_dtype, short, uint8)
from .functions import *  # noqa: F401,F403 - tg.exp, tg.sum, ... (each the Tensor method of that name)
from .functions_extra import *  # noqa: F401,F403 - tg.fmod, tg.atan2, tg.take, tg.median, tg.bernoulli, ...
from .functions_index import *  # noqa: F401,F403 - tg.sort, tg.topk, tg.cumsum, tg.flip, tg.scatter, ...
from .functions_linalg import *  # noqa: F401,F403 - tg.einsum, tg.meshgrid, tg.diag, tg.var_mean, ...
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .serialization import load, load_torch_state_dict, save
from .tensor import Size, Tensor
from .threads import get_num_threads, set_num_threads

dtype = DType
__version__ = "0.1.0"


def is_tensor(obj: object) -> "builtins.bool":
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> "builtins.int":
    return input.numel()


import builtins  # noqa: E402  (for the annotations above: `bool`/`int` here are dtypes, as in torch)
