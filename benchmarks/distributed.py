"""Data-parallel scaling: LeNet-5 MNIST training images/s on 1, 2 and 4 MPI ranks, and all-reduce bandwidth.

    python benchmarks/distributed.py [--nproc 1 2 4] [--steps 300] [--repeat 3] [--json out.json] [--contention]

Each configuration runs as `mpiexec -n N python benchmarks/distributed.py --worker ...`, one BLAS thread per rank.
Two batch conventions are timed:
- weak (torch DDP's convention, DataLoader batch_size is per process): every rank trains on 50 images per step, so
  N ranks process 50 N images per step;
- strong (what `tinygrad-cnn train --nproc N` does): a global batch of 50 split between the ranks (the
  single-process recipe, step for step).
images/s = images trained by all ranks / wall time of the timed steps (the slowest rank's). Bandwidth: the time of
one in-place all_reduce(SUM) of a float32 tensor, as bus bandwidth 2 (N - 1) / N * bytes / time (NCCL's measure).
Results: docs/benchmarks.md ("Data-parallel training").
"""
from __future__ import annotations

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout's tinygrad_cnn

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

BATCH = 50
SIZES = (4 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20)   # bytes: LeNet-5's gradients are 208 KB


def _mnist(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n MNIST training images preprocessed as the ANNT recipe does; random images when MNIST is not on disk."""
    from tinygrad_cnn.training import data

    try:
        images, labels, _ = data.load_split("mnist", train=True, root=os.environ.get("TINYGRAD_CNN_DATA"),
                                            download=False)
        x = data.preprocess(images[:n], (1, 32, 32), (-1.0, 1.0))
        return x, labels[:n].astype(np.int64)
    except Exception:  # noqa: BLE001 - a benchmark still runs without the data set
        rng = np.random.default_rng(0)
        return rng.uniform(-1, 1, (n, 1, 32, 32)).astype(np.float32), rng.integers(0, 10, n)


def _train(mode: str, steps: int, x: np.ndarray, y: np.ndarray) -> float:
    import tinygrad_cnn as tg
    import tinygrad_cnn.distributed as dist
    from tinygrad_cnn.nn.parallel import DistributedDataParallel

    rank, world = dist.get_rank(), dist.get_world_size()
    tg.manual_seed(1)
    model = DistributedDataParallel(tg.models.get_model("annt-lenet5"))
    opt = tg.optim.Adam(model.parameters(), lr=0.002)
    per_rank = BATCH if mode == "weak" else BATCH // world
    step_images = per_rank * world

    def step(i: int) -> None:
        start = (i * step_images + rank * per_rank) % (len(y) - per_rank)
        xb, yb = tg.Tensor._wrap(x[start:start + per_rank]), tg.Tensor._wrap(y[start:start + per_rank])
        loss = tg.nn.functional.nll_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(20):
        step(i)
    dist.barrier()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    dist.barrier()
    return steps * step_images / (time.perf_counter() - t0)


def _bandwidth(repeat: int = 20) -> dict[int, float]:
    import tinygrad_cnn as tg
    import tinygrad_cnn.distributed as dist

    out = {}
    for nbytes in SIZES:
        t = tg.ones(nbytes // 4)
        for _ in range(3):
            dist.all_reduce(t)
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(repeat):
            dist.all_reduce(t)
        out[nbytes] = (time.perf_counter() - t0) / repeat
    return out


def _solo(steps: int) -> str:
    """One plain (no MPI) LeNet-5 training loop: ms per step of 50 images and the share of a core it got."""
    import tinygrad_cnn as tg

    x, y = _mnist(1000)
    model = tg.models.get_model("annt-lenet5")
    opt = tg.optim.Adam(model.parameters(), lr=0.002)
    xb, yb = tg.Tensor._wrap(x[:BATCH]), tg.Tensor._wrap(y[:BATCH])
    for i in range(steps + 10):
        if i == 10:
            t0, c0 = time.perf_counter(), time.process_time()
        loss = tg.nn.functional.nll_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    wall = time.perf_counter() - t0
    return f"{wall / steps * 1000:.1f} ms/step, {(time.process_time() - c0) / wall:.2f} of a core"


def contention(steps: int) -> None:
    """How much CPU the machine gives: one plain training loop alone, then two independent ones at once."""
    me = [sys.executable, os.path.abspath(__file__), "--solo", "--steps", str(steps)]
    print("one process alone:     ", subprocess.run(me, capture_output=True, text=True).stdout.strip())
    pair = [subprocess.Popen(me, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    print("two processes together:", " | ".join(p.communicate()[0].strip() for p in pair))


def worker(args: argparse.Namespace) -> None:
    import tinygrad_cnn.distributed as dist

    dist.init_process_group("mpi")
    x, y = _mnist(20000)
    result = {"world": dist.get_world_size(), "weak": _train("weak", args.steps, x, y),
              "strong": _train("strong", args.steps, x, y)}
    if dist.get_world_size() > 1:
        result["allreduce_s"] = _bandwidth()
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


def run(nproc: int, steps: int) -> dict:
    from tinygrad_cnn.distributed import launch

    cmd = [launch.find_mpiexec(), "-n", str(nproc), sys.executable, os.path.abspath(__file__), "--worker",
           "--steps", str(steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=launch.rank_environment()).stdout
    return json.loads(next(line[7:] for line in out.splitlines() if line.startswith("RESULT ")))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nproc", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", default=None)
    p.add_argument("--contention", action="store_true",
                   help="first time one plain training loop alone and two at once (is the machine idle?)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--solo", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    if args.solo:
        print(_solo(args.steps))
        return
    if args.contention:
        contention(args.steps)
    from _system import cpu_name  # noqa: PLC0415 - benchmarks/ is on sys.path when run as a script

    print(f"{cpu_name()}, {os.cpu_count()} cores, one BLAS thread per rank, {args.steps} steps, "
          f"{args.repeat} runs each (median [min-max])")
    runs: dict[int, list] = {n: [] for n in args.nproc}
    for _ in range(args.repeat):   # interleaved, so load from other jobs falls on every configuration alike
        for n in args.nproc:
            runs[n].append(run(n, args.steps))
    print(f"load average after the runs: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    base = {m: statistics.median(r[m] for r in runs[args.nproc[0]]) for m in ("weak", "strong")}
    for n, results in runs.items():
        cells = []
        for m in ("weak", "strong"):
            v = [r[m] for r in results]
            cells.append(f"{m}: {statistics.median(v):7.0f} img/s [{min(v):.0f}-{max(v):.0f}] "
                         f"x{statistics.median(v) / base[m]:.2f}")
        print(f"{n} rank(s)  " + "   ".join(cells))
    for n, results in runs.items():
        if "allreduce_s" in results[0]:
            for size in map(str, SIZES):
                t = statistics.median(r["allreduce_s"][size] for r in results)
                bus = 2 * (n - 1) / n * int(size) / t / 1e9
                print(f"all_reduce {n} ranks {int(size) >> 10:6d} KiB: {t * 1e6:9.1f} us  {bus:6.2f} GB/s bus")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({str(k): v for k, v in runs.items()}, f, indent=1)


if __name__ == "__main__":
    main()
