"""Keep freed array memory in the process between training steps instead of handing it back to the OS (glibc).

Why: a training step allocates and frees the same large arrays every step (im2col columns, activations,
gradients: 0.1-30 MiB each). glibc serves blocks above its mmap threshold with fresh mmap'd pages and unmaps
them on free, and it trims the top of the heap once more than the trim threshold is free. Both thresholds start
low (128 KiB / 256 KiB) and only rise, adaptively, to the largest block freed so far, so which arrays get
recycled depends on the process's history. Every returned page is faulted in again, and zeroed, on the next
step. Measured on the 2-core VM (docs/benchmarks.md): the LeNet-5 training step took 24 ms with ~3000 page
faults per step, and 7 ms with none; the same run inside a process that had earlier freed one large block (which
raised glibc's thresholds) was fast too.

What: arrays up to 32 MiB (M_MMAP_THRESHOLD, glibc's own adaptive maximum) always come from the heap, the heap
grows with 128 MiB of headroom (M_TOP_PAD) so that larger arrays (a 41 MiB im2col matrix of the CIFAR network)
are carved from that headroom too instead of being mmap'd, and up to 128 MiB of free heap top is kept
(M_TRIM_THRESHOLD). Headroom that is never touched costs address space, not memory. With these, the CIFAR
network's step went from ~600 (2 MiB huge-page) faults and ~20 ms of system time to none. The setting is
process-wide, like LD_PRELOAD of jemalloc/tcmalloc (the usual advice for PyTorch on CPU).

Not applied when: the C library is not glibc; the user chose malloc settings (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_, MALLOC_MMAP_MAX_ or glibc.malloc tunables in GLIBC_TUNABLES): theirs win; or
TINYGRAD_CNN_MALLOC=default is set.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2 ** 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: mallopt refuses more
TOP_PAD = 128 * 2 ** 20
TRIM_THRESHOLD = 128 * 2 ** 20
_USER_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def keep_freed_memory() -> bool:
    """Set glibc's mmap threshold, top pad and trim threshold as described above; True when they were set."""
    if os.environ.get("TINYGRAD_CNN_MALLOC", "") == "default" or not sys.platform.startswith("linux"):
        return False
    if any(v in os.environ for v in _USER_VARS) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only (musl has mallopt as a no-op stub)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in
               ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TOP_PAD, TOP_PAD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
