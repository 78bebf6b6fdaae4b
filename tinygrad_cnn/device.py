"""Devices: `tg.device` (torch.device) and the accelerator queries torch scripts make before choosing one.

tinygrad_cnn runs on numpy, so 'cpu' is the only device that holds tensors. The queries answer as torch does on a
machine without accelerators, so the usual device-selection lines run unchanged and pick the CPU:

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    use_mps = torch.backends.mps.is_available()
    torch.backends.cudnn.benchmark = True      # tg.backends.cudnn: a real submodule (tinygrad_cnn/backends)

Naming another device is allowed (`tg.device("cuda")`); putting a tensor or module there raises RuntimeError.
"""
from __future__ import annotations

from typing import Any

_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:  # noqa: N801 - the torch name
    """torch.device: a device type and an optional index, parsed from 'cpu', 'cuda:1' or (type, index)."""

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002 - torch's argument names
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise RuntimeError(f"device(): expected a device string such as 'cpu' or 'cuda:0', got {type!r}")
        name, sep, num = type.partition(":")
        if name not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: "
                               f"{type}")
        if sep:
            if index is not None or not num.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(num)
        if index is not None and int(index) < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = name
        self.index = None if index is None else int(index)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __eq__(self, other: object) -> bool:  # as torch: a device never equals a string
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


class _Cuda:
    """`tg.cuda`: no CUDA device here (torch on a CPU-only machine)."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """Ignored, as in torch without CUDA (seed the CPU generator with tg.manual_seed)."""

    manual_seed_all = manual_seed

    @staticmethod
    def empty_cache() -> None:
        """Nothing to release."""

    @staticmethod
    def synchronize(device: Any = None) -> None:
        raise RuntimeError("tg.cuda.synchronize: no CUDA device: tinygrad_cnn runs on the CPU only")


class _Accelerator:
    """`tg.accelerator` (torch >= 2.6): no accelerator, so scripts fall back to "cpu"."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def current_accelerator(check_available: bool = False) -> None:
        return None

    @staticmethod
    def device_count() -> int:
        return 0


cuda = _Cuda()
accelerator = _Accelerator()
