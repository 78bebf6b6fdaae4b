"""tg.set_num_threads / tg.get_num_threads: the number of threads numpy's BLAS (matmul, conv GEMMs) uses.

torch's functions set its intra-op thread pool; our heavy work is numpy's BLAS, so they drive that instead:
1. threadpoolctl, if importable (it knows OpenBLAS, MKL and BLIS);
2. otherwise OpenBLAS's own openblas_set_num_threads / openblas_get_num_threads, found in the OpenBLAS library
   numpy has loaded (listed in /proc/self/maps, or in numpy's bundled `numpy.libs` directory). numpy's wheels ship
   scipy-openblas, whose symbols carry a prefix and suffix (scipy_openblas_set_num_threads64_);
3. otherwise (no OpenBLAS, e.g. Accelerate) the number is only recorded, so get returns what set was given.
"""
from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

__all__ = ["get_num_threads", "set_num_threads"]

# symbol names, most specific first: scipy-openblas (numpy >= 2 wheels), then a plain OpenBLAS
_PREFIXES = ("scipy_openblas_", "openblas_")
_SUFFIXES = ("64_", "_64_", "")

# The one recorded value for the fallback (3.), and the BLAS controls found on first use: a cache, not state a
# user can observe beyond torch's own get/set pair.
_recorded: list = [None]
_blas: list = []  # [] not looked up yet; [None] no OpenBLAS; [(set_fn, get_fn)]


def _openblas_paths() -> list[str]:
    """Paths of loaded (or numpy-bundled) OpenBLAS libraries, loaded ones first."""
    import numpy as np  # noqa: F401 - make sure numpy (and so its BLAS) is loaded

    paths: list[str] = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1] if "/" in line else ""
                if "openblas" in os.path.basename(p).lower() and p not in paths:
                    paths.append(p)
    except OSError:  # not Linux: no /proc
        pass
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    paths += [p for p in sorted(glob.glob(os.path.join(libs, "*openblas*"))) if p not in paths]
    return paths


def _find_openblas() -> Any:
    """(set_fn, get_fn) of the first OpenBLAS that exports both, or None."""
    for path in _openblas_paths():
        try:
            lib = ctypes.CDLL(path)  # already loaded: dlopen returns the same handle, the same thread pool
        except OSError:
            continue
        for pre in _PREFIXES:
            for suf in _SUFFIXES:
                set_fn = getattr(lib, f"{pre}set_num_threads{suf}", None)
                get_fn = getattr(lib, f"{pre}get_num_threads{suf}", None)
                if set_fn is not None and get_fn is not None:
                    set_fn.argtypes, set_fn.restype = [ctypes.c_int], None
                    get_fn.argtypes, get_fn.restype = [], ctypes.c_int
                    return set_fn, get_fn
    return None


def _controls() -> Any:
    if not _blas:
        _blas.append(_find_openblas())
    return _blas[0]


def _threadpoolctl() -> Any:
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(int: int) -> None:  # noqa: A002 - torch's argument name
    """Set the number of threads numpy's BLAS uses (torch.set_num_threads).

    Raises:
        RuntimeError: if the argument is not an int or not positive (torch's messages).
    """
    n = int
    if isinstance(n, bool) or not isinstance(n, type(1)):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _recorded[0] = n
    tpc = _threadpoolctl()
    if tpc is not None:
        tpc.threadpool_limits(limits=n, user_api="blas")
        return
    blas = _controls()
    if blas is not None:
        blas[0](n)


def get_num_threads() -> int:
    """The number of threads numpy's BLAS uses (torch.get_num_threads); without a known BLAS, the last value given
    to set_num_threads (or the CPU count before any)."""
    tpc = _threadpoolctl()
    if tpc is not None:
        counts = [i["num_threads"] for i in tpc.threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return counts[0]
    else:
        blas = _controls()
        if blas is not None:
            return blas[1]()
    return _recorded[0] if _recorded[0] is not None else (os.cpu_count() or 1)
