"""`tg.nn`: Module, Parameter, layers, `init`, `functional` and `utils` (torch.nn names and semantics)."""
from . import functional, init, modules, utils  # noqa: F401
from . import parallel  # noqa: F401,E402 - after modules: DistributedDataParallel is a Module
from .modules import *  # noqa: F401,F403 - Module, Sequential, Conv2d, ..., LENET5_C3_TABLE
from .parameter import Buffer, Parameter  # noqa: F401
