"""Interleaved timing: the two frameworks take turns, window by window, and each reports the median window.

The 2-core machine is shared, so a burst of load from another process should hit both frameworks alike: after
warm-up, every repeat times one window of tinygrad_cnn, then one of torch (the order alternates between repeats),
and the ratio is formed from the two medians. A window is a number of calls calibrated to last `window` seconds.
"""
from __future__ import annotations

import gc
import statistics
import time
from typing import Callable

# A benchmark is run(k) -> seconds: do the measured work k times and return the time it took. Most time the whole
# call; a backward-only benchmark builds each forward untimed and returns only the backward's share.
Run = Callable[[int], float]

# Wall time by default. Under load from other processes, process CPU time (`bench.py --clock cpu`) is the steadier
# measure of the work itself (it does not count time spent descheduled), at the price of ignoring waits.
_clocks = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = [time.perf_counter]


def set_clock(name: str) -> None:
    """Time every Run with the 'wall' (perf_counter) or 'cpu' (process_time) clock."""
    _clock[0] = _clocks[name]


def _now() -> float:
    return _clock[0]()


def timed(fn: Callable[[], object]) -> Run:
    """A Run that times k plain calls of fn."""
    def run(k: int) -> float:
        t = _now()
        for _ in range(k):
            fn()
        return _now() - t
    return run


def split_timed(setup: Callable[[], object], measured: Callable[[object], object]) -> Run:
    """A Run that times only measured(setup()) (e.g. a backward, its forward built untimed by setup)."""
    def run(k: int) -> float:
        total = 0.0
        for _ in range(k):
            state = setup()
            t = _now()
            measured(state)
            total += _now() - t
        return total
    return run


def calibrate(run: Run, window: float, warmup: int = 2) -> int:
    """Calls per window: warm up, then grow k until one window of k calls takes about `window` seconds."""
    run(warmup)
    k = 1
    while True:
        dt = run(k)
        if dt >= window / 4 or k >= 4096:
            return max(1, round(k * window / max(dt, 1e-9)))
        k *= 4


def interleave(runs: dict[str, Run], window: float, repeats: int) -> dict[str, float]:
    """Median seconds per call of each Run, the Runs' windows taken in turns (order reversed every repeat)."""
    ks = {name: calibrate(run, window) for name, run in runs.items()}
    per_call: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(repeats):
        for name in (names if r % 2 == 0 else names[::-1]):
            gc.collect()
            per_call[name].append(runs[name](ks[name]) / ks[name])
    return {name: statistics.median(v) for name, v in per_call.items()}
