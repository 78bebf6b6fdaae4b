"""tg.distributed, DistributedDataParallel and SyncBatchNorm on real MPI ranks.

Each test starts a small world (2 or 3 ranks) with mpiexec on a script in tests/mpi_workers/ and a hard timeout; the
scripts check their results on every rank and exit non-zero (aborting the others) on the first wrong one. Skipped
when mpi4py or mpiexec is missing (the `distributed` extra).
"""
import os
import re
import subprocess
import sys
import time

import pytest

pytest.importorskip("mpi4py")
from tinygrad_cnn.distributed import launch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
try:
    MPIEXEC = launch.find_mpiexec()
except FileNotFoundError:
    pytest.skip("mpiexec not found (pip install 'tinygrad_cnn[distributed]')", allow_module_level=True)


def run_ranks(n: int, script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = [MPIEXEC, "-n", str(n), sys.executable, os.path.join(HERE, "mpi_workers", script), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=launch.rank_environment())


def assert_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


@pytest.mark.parametrize("world", [2, 3])
def test_collectives_match_numpy(world):
    proc = run_ranks(world, "collectives.py")
    assert_ok(proc)
    counts = re.findall(rf"collectives rank (\d) of {world}: (\d+) checks", proc.stdout)
    assert sorted(int(r) for r, _ in counts) == list(range(world))
    assert all(int(c) > 80 for _, c in counts), counts


def test_ddp_two_ranks_equal_one_process_with_the_whole_batch():
    proc = run_ranks(2, "ddp_equivalence.py")
    assert_ok(proc)
    diffs = re.findall(r"(lenet5-sgd|lenet5-adam|syncbn-sgd|syncbn-adam) rank (\d): max \|difference\| "
                       r"(\d\.\d{3}e[-+]\d+)", proc.stdout)      # ranks' lines may arrive run together
    assert sorted({name for name, _, _ in diffs}) == ["lenet5-adam", "lenet5-sgd", "syncbn-adam", "syncbn-sgd"]
    assert len(diffs) == 8 and all(float(d) <= 1e-10 for _, _, d in diffs), diffs


def test_ddp_buckets_no_sync_unused_parameters_and_errors():
    proc = run_ranks(2, "ddp_features.py")
    assert_ok(proc)
    assert proc.stdout.count("ok") == 2


@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_failing_rank_stops_the_others_quickly(mode):
    start = time.monotonic()
    proc = run_ranks(2, "failure.py", mode, timeout=30)
    elapsed = time.monotonic() - start
    assert proc.returncode != 0
    assert "finished an all_reduce" not in proc.stdout
    assert elapsed < 15, f"the job took {elapsed:.1f} s to stop"
    if mode == "raise":
        assert "rank 1 failed on purpose" in proc.stderr and "aborting all ranks" in proc.stderr, proc.stderr


def test_argument_errors_and_without_mpi4py_a_clear_error_names_the_extra():
    """One fresh interpreter (no mpiexec: a world of 1): bad backend / world size, no group yet, then mpi4py
    hidden: is_available() is False and init_process_group's ImportError names the extra."""
    code = ("import sys\n"
            "import tinygrad_cnn.distributed as dist\n"
            "for kw in ({'backend': 'nccl'}, {'backend': 'mpi', 'world_size': 4}):\n"
            "    try:\n        dist.init_process_group(**kw)\n"
            "    except ValueError as err:\n        print(err)\n"
            "try:\n    dist.get_rank()\nexcept ValueError as err:\n    print(err)\n"
            "for name in [m for m in sys.modules if m.startswith('mpi4py')]:\n    del sys.modules[name]\n"
            "sys.modules['mpi4py'] = None\n"
            "print(dist.is_available())\n"
            "try:\n    dist.init_process_group('mpi')\nexcept ImportError as err:\n    print(err)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert_ok(proc)
    lines = proc.stdout.splitlines()
    assert "backend 'nccl' is not supported" in lines[0]
    assert "world_size=4 but MPI says world_size is 1" in lines[1]
    assert "Default process group has not been initialized" in lines[2]
    assert lines[3] == "False"
    assert "pip install 'tinygrad_cnn[distributed]'" in lines[4], lines


def test_ddp_example_script_runs_on_two_ranks(tmp_path):
    """examples/ddp_mnist.py (a torch-style DDP script) with drawn digits standing in for MNIST."""
    saved = tmp_path / "ddp.npz"
    proc = run_ranks(2, "run_example.py", "--epochs", "1", "--save", str(saved))
    assert_ok(proc)
    assert re.search(r"Test accuracy = [\d.]+% \(\d+/64\)", proc.stdout), proc.stdout  # 63 images, padded to 2x32
    assert proc.stdout.count("Epoch   1") == 1                                          # rank 0 prints alone
    import tinygrad_cnn as tg
    assert "0.weight" in tg.load(str(saved))


def test_bucket_assignment_reverse_order_first_bucket_small():
    import tinygrad_cnn as tg
    from tinygrad_cnn.nn.parallel._reducer import assign_buckets

    params = list(tg.models.get_model("annt-lenet5").parameters())   # conv3.weight (index 4) is 192 000 bytes
    assert assign_buckets(params, 25 << 20, 1 << 20) == [[7, 6, 5, 4, 3, 2, 1, 0]]
    assert assign_buckets(params, 50_000, 50_000) == [[7, 6, 5], [4], [3, 2, 1, 0]]
    assert assign_buckets(params, 1 << 20, 10_000) == [[7, 6, 5], [4, 3, 2, 1, 0]]
    mixed = [tg.zeros(4, dtype=tg.float64), tg.zeros(4), tg.zeros(4, dtype=tg.float64)]
    assert assign_buckets(mixed, 1 << 20, 1 << 20) == [[2, 0], [1]]                # one dtype per bucket
