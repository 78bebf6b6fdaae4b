"""`tg.nn.parallel`: DistributedDataParallel (data parallelism over tg.distributed process groups)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
