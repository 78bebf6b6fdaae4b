"""tinygrad_cnn vs torch (CPU), side by side in one process: training and inference throughput of the model zoo,
conv/pool/loss micro benchmarks, the float32 GEMM ceiling and one training step's memory.

    python benchmarks/bench.py [--quick] [--json out.json] [--profile]    (or: make bench)

Both frameworks run on ONE thread (OPENBLAS_NUM_THREADS=1 is set here before numpy is imported unless already
set; torch.set_num_threads gets numpy's BLAS thread count). Their timed windows alternate and each reports the
median window, so load from other processes on a shared machine hits both alike; ratios are tinygrad_cnn/torch
from the same run. Results and how to read them: docs/benchmarks.md.
"""
from __future__ import annotations

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy/torch load their thread pools
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout's tinygrad_cnn

import argparse  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import _micro  # noqa: E402
import _models  # noqa: E402
import _system  # noqa: E402
from _timing import interleave, set_clock  # noqa: E402

FRAMEWORKS = ("tinygrad_cnn", "torch")


def _row(cells: list, widths: list[int]) -> str:
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def _table(title: str, header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    print(_row(header, widths))
    print(_row(["-" * w for w in widths], widths))
    for r in rows:
        print(_row(r, widths))


def bench_models(args: argparse.Namespace) -> list[dict]:
    results = []
    for case in _models.MODELS:
        if args.models and case.name not in args.models:
            continue
        pair = _models.Pair(case)
        diff = pair.check_twins()
        flops = _models.forward_flops(case)
        train = interleave(pair.train_runs(), args.window, args.repeats)
        infer = interleave(pair.infer_runs(), args.window, args.repeats)
        res = {"model": case.name, "batch": case.batch, "optimizer": case.optimizer, "twin_max_abs_diff": diff,
               "forward_flops_per_sample": flops}
        for fw in FRAMEWORKS:
            res[f"{fw}_train_img_s"] = case.batch / train[fw]
            res[f"{fw}_infer_img_s"] = case.batch / infer[fw]
        res["train_ratio"] = res["tinygrad_cnn_train_img_s"] / res["torch_train_img_s"]
        res["infer_ratio"] = res["tinygrad_cnn_infer_img_s"] / res["torch_infer_img_s"]
        res["tinygrad_cnn_tracemalloc_peak_mib"] = pair.tracemalloc_peak() / 2 ** 20
        if not args.quick:
            for fw in FRAMEWORKS:
                res[f"{fw}_step_rss_growth_mib"] = _models.rss_step_kib(fw, case.name) / 1024
        results.append(res)
        print(f"  {case.name}: train {res['train_ratio']:.2f}x, inference {res['infer_ratio']:.2f}x torch",
              file=sys.stderr)
    return results


def bench_micro(args: argparse.Namespace) -> dict:
    rows = []
    convs = [c for c in _micro.CONVS if not args.quick or c.label in _micro.QUICK_CONVS]
    for c in convs:
        for part, runs in _micro.conv_runs(c).items():
            t = interleave(runs, args.window, args.repeats)
            rows.append({"op": f"conv2d {part} {c.label} {c.x}x{c.w} pad {c.padding}", **_ms(t)})
    for kind, shape in (("max", (50, 32, 32, 32)), ("avg", (50, 6, 28, 28))):
        t = interleave(_micro.pool_runs(kind, shape), args.window, args.repeats)
        rows.append({"op": f"{kind}_pool2d 2x2 fwd+bwd {shape}", **_ms(t)})
    t = interleave(_micro.loss_runs(), args.window, args.repeats)
    rows.append({"op": "log_softmax+nll_loss fwd+bwd (50, 10)", **_ms(t)})
    target = next(c for c in _micro.CONVS if c.label == "CIFAR conv2")
    t = interleave({"conv": _micro.conv_fwd_bwd_run(target), "gemms": _micro.conv_gemms_alone(target)},
                   args.window, args.repeats)
    gemm = {"case": f"{target.x}x{target.w} pad {target.padding}", "conv_fwd_bwd_ms": 1e3 * t["conv"],
            "gemms_alone_ms": 1e3 * t["gemms"], "ratio": t["conv"] / t["gemms"]}
    return {"ops": rows, "conv_vs_gemms": gemm}


def _ms(t: dict[str, float]) -> dict:
    return {"tinygrad_cnn_ms": 1e3 * t["tinygrad_cnn"], "torch_ms": 1e3 * t["torch"],
            "time_ratio": t["tinygrad_cnn"] / t["torch"]}


def report(info: dict, ceilings: dict, models: list[dict], micro: dict) -> None:
    print(f"# tinygrad_cnn vs torch, {info['date']}: {info['cpu']} ({info['cores']} cores), numpy {info['numpy']} "
          f"({info['numpy_blas']}, OpenBLAS core {info['openblas_core']}, {info['blas_threads']} thread(s); "
          f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}), torch {info['torch']} "
          f"({info['torch_threads']} thread(s)), Python {info['python']}")
    _table("Models: images/s (median window), ratio = tinygrad_cnn / torch (higher is better)",
           ["model (batch, optimiser)", "train tg", "train torch", "ratio", "infer tg", "infer torch", "ratio",
            "twins' max |diff|"],
           [[f"{m['model']} ({m['batch']}, {m['optimizer']})", f"{m['tinygrad_cnn_train_img_s']:.0f}",
             f"{m['torch_train_img_s']:.0f}", f"{m['train_ratio']:.2f}", f"{m['tinygrad_cnn_infer_img_s']:.0f}",
             f"{m['torch_infer_img_s']:.0f}", f"{m['infer_ratio']:.2f}", f"{m['twin_max_abs_diff']:.1e}"]
            for m in models])
    _table(f"BLAS ceiling: float32 GEMM 1024^3, numpy {ceilings['tinygrad_cnn']:.1f} GFLOP/s, torch "
           f"{ceilings['torch']:.1f} GFLOP/s; training = 3 x forward FLOPs",
           ["model", "MFLOP/sample fwd", "tg % of numpy GEMM", "torch % of torch GEMM"],
           [[m["model"], f"{m['forward_flops_per_sample'] / 1e6:.2f}",
             f"{100 * m['tinygrad_cnn_train_ceiling_fraction']:.1f}",
             f"{100 * m['torch_train_ceiling_fraction']:.1f}"] for m in models])
    mem_rows = [[m["model"], f"{m['tinygrad_cnn_tracemalloc_peak_mib']:.1f}",
                 f"{m.get('tinygrad_cnn_step_rss_growth_mib', float('nan')):.1f}",
                 f"{m.get('torch_step_rss_growth_mib', float('nan')):.1f}"] for m in models]
    _table("Memory of one training step, MiB (RSS: first step in a fresh process; nan with --quick)",
           ["model", "tg tracemalloc peak", "tg RSS growth", "torch RSS growth"], mem_rows)
    _table("Micro: ms per call (median window), ratio = tinygrad_cnn time / torch time (lower is better)",
           ["op", "tg ms", "torch ms", "ratio"],
           [[r["op"], f"{r['tinygrad_cnn_ms']:.3f}", f"{r['torch_ms']:.3f}", f"{r['time_ratio']:.2f}"]
            for r in micro["ops"]])
    g = micro["conv_vs_gemms"]
    if g is None:
        return
    print(f"\nconv2d fwd+bwd {g['case']}: {g['conv_fwd_bwd_ms']:.2f} ms vs its 3 GEMMs alone "
          f"{g['gemms_alone_ms']:.2f} ms: {g['ratio']:.2f}x (target <= 1.5x)")


def profile_lenet(steps: int = 50) -> None:
    """cProfile of the LeNet-5 tinygrad_cnn training step: the top 15 functions by own time.

    Run in a fresh process (--profile-child): after the benchmarks above, glibc's malloc thresholds have adapted to
    their large arrays, and the profile would not show what a training process sees."""
    import subprocess

    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--profile-child"], capture_output=True,
                         text=True, check=True)
    print(out.stdout)


def profile_child(steps: int = 50) -> None:
    import cProfile
    import pstats

    import resource
    import statistics
    import time

    pair = _models.Pair(_models.MODELS[0])
    for _ in range(5):
        pair.tg_step()
    faults, times = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, []
    for _ in range(steps):
        t = time.perf_counter()
        pair.tg_step()
        times.append(time.perf_counter() - t)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps
    step = statistics.median(times)
    print(f"\nannt-lenet5 training step in a fresh process (no profiler): {1e3 * step:.2f} ms median "
          f"({pair.case.batch / step:.0f} images/s), {faults:.0f} page faults per step")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        pair.tg_step()
    prof.disable()
    print(f"\n## cProfile, annt-lenet5 training step x {steps}, top 15 by own time")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def _set_benchmark_mode(on: bool) -> None:
    """torch.backends.cudnn.benchmark / tg.backends.cudnn.benchmark, as a PyTorch training script sets them (on the
    CPU torch ignores it; tinygrad_cnn then times its conv algorithms once per shape, see docs/benchmarks.md)."""
    import tinygrad_cnn as tg

    tg.backends.cudnn.benchmark = on
    torch.backends.cudnn.benchmark = on


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="shorter windows, 2 conv shapes, no RSS subprocesses")
    p.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    p.add_argument("--profile", action="store_true", help="print a cProfile of the LeNet-5 training step")
    p.add_argument("--models", nargs="+", metavar="NAME", help="only these models (default: all)")
    p.add_argument("--no-micro", action="store_true", help="skip the micro benchmarks")
    p.add_argument("--force-algorithm", choices=("im2col", "fft", "winograd", "depthwise"),
                   help="run this conv algorithm wherever it applies (im2col everywhere = the library before "
                        "issue 13's algorithm choice)")
    p.add_argument("--rule", action="store_true",
                   help="tinygrad_cnn picks conv algorithms by its fixed rule (default: cudnn.benchmark timing)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="time windows by wall time (default) or process CPU time (steadier on a loaded machine)")
    p.add_argument("--rss-child", nargs=2, metavar=("FRAMEWORK", "MODEL"), help=argparse.SUPPRESS)
    p.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    _set_benchmark_mode(not args.rule)
    set_clock(args.clock)
    if args.force_algorithm:
        from tinygrad_cnn.ops import _conv_select

        _conv_select.forced[0] = args.force_algorithm
    if args.profile_child:
        torch.set_num_threads(1)
        profile_child()
        return
    if args.rss_child:
        torch.set_num_threads(1)
        _models.rss_child(*args.rss_child)
        return
    args.window, args.repeats = (0.1, 5) if args.quick else (0.25, 9)
    info = _system.blas_info()
    torch.set_num_threads(info["blas_threads"] or int(os.environ["OPENBLAS_NUM_THREADS"]))
    info = _system.describe(torch)
    models = bench_models(args)
    micro = {"ops": [], "conv_vs_gemms": None} if args.no_micro else bench_micro(args)
    # the ceiling last: its large arrays would otherwise tune glibc's malloc thresholds for what follows
    ceilings = {"tinygrad_cnn": _system.numpy_gemm_gflops(), "torch": _system.torch_gemm_gflops(torch)}
    for m in models:
        for fw in FRAMEWORKS:
            m[f"{fw}_train_ceiling_fraction"] = (m[f"{fw}_train_img_s"] * 3 * m["forward_flops_per_sample"]
                                                 / (ceilings[fw] * 1e9))
    report(info, ceilings, models, micro)
    if args.profile:
        profile_lenet()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"system": info, "gemm_gflops": ceilings, "models": models, "micro": micro}, f, indent=1)


if __name__ == "__main__":
    np.seterr(all="warn", under="ignore")  # overflow / invalid / divide show up; float32 underflow is normal
    main()
