"""What the benchmark ran on: CPU, library versions, the BLAS kernel and threads, and the float32 GEMM ceiling.

Nothing here changes the environment; bench.py sets the thread variables before numpy and torch are imported.
"""
from __future__ import annotations

import ctypes
import os
import platform
import time

import numpy as np


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _openblas() -> ctypes.CDLL | None:
    """numpy's OpenBLAS, found among the loaded libraries (numpy must be imported and have used BLAS)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _blas_call(lib: ctypes.CDLL, stem: str, restype: type) -> object:
    """Call openblas_<stem> under the symbol names of the usual builds (plain, 64_, scipy_ ... 64_)."""
    for name in (f"openblas_{stem}", f"openblas_{stem}64_", f"scipy_openblas_{stem}64_", f"scipy_openblas_{stem}"):
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            return fn()
    return None


def blas_info() -> dict:
    """numpy's BLAS: name/version, the kernel OpenBLAS picked (its 'core'), its threads, and the env overrides."""
    np.dot(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32))  # make sure the library is loaded
    info = {"numpy_blas": "unknown", "openblas_core": None, "blas_threads": None,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE")}
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{cfg.get('name')} {cfg.get('version')}"
    except Exception:  # noqa: BLE001 - older numpy: no dict mode
        pass
    lib = _openblas()
    if lib is not None:
        core = _blas_call(lib, "get_corename", ctypes.c_char_p)
        info["openblas_core"] = core.decode() if isinstance(core, bytes) else core
        info["blas_threads"] = _blas_call(lib, "get_num_threads", ctypes.c_int)
    return info


def gemm_gflops(matmul, make, n: int = 1024, seconds: float = 0.6) -> float:
    """float32 GFLOP/s of an n x n x n matmul: the best of ~seconds of calls (the ceiling, so the best, not the
    median). `make(shape)` creates a random float32 operand; `matmul(a, b, out)` multiplies into out."""
    a, b, out = make((n, n)), make((n, n)), make((n, n))
    matmul(a, b, out)
    best, spent = float("inf"), 0.0
    while spent < seconds:
        t = time.perf_counter()
        matmul(a, b, out)
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
    return 2 * n ** 3 / best / 1e9


def numpy_gemm_gflops(n: int = 1024, seconds: float = 0.6) -> float:
    rng = np.random.default_rng(0)
    return gemm_gflops(lambda a, b, o: np.matmul(a, b, out=o),
                       lambda s: rng.standard_normal(s).astype(np.float32), n, seconds)


def torch_gemm_gflops(torch, n: int = 1024, seconds: float = 0.6) -> float:
    torch.manual_seed(0)
    return gemm_gflops(lambda a, b, o: torch.matmul(a, b, out=o), lambda s: torch.randn(*s), n, seconds)


def describe(torch) -> dict:
    """Everything the results table and docs/benchmarks.md record about the run."""
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": cpu_name(), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), **blas_info()}


def peak_rss_kib() -> int:
    """This process's peak resident set size (VmHWM) in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
