"""Run under mpiexec -n 2 or 3: every collective, dtype and ReduceOp against numpy, sync and async_op=True.

Each rank's input is drawn from a generator seeded by its rank, so every rank can compute all inputs and the numpy
answer itself. Prints "collectives rank R: N checks" and exits 0; a wrong result raises (and aborts all ranks).
"""
import sys

import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.distributed as dist
from tinygrad_cnn.distributed import ReduceOp

DTYPES = (np.float32, np.float64, np.int64)
SHAPE = (3, 4)


def data(rank: int, dtype: type, positive: bool = False) -> np.ndarray:
    rng = np.random.default_rng(100 + rank)
    if np.dtype(dtype).kind == "f":
        x = rng.uniform(0.5, 1.5, SHAPE) if positive else rng.standard_normal(SHAPE)
    else:
        x = rng.integers(1, 4, SHAPE) if positive else rng.integers(-9, 10, SHAPE)
    return x.astype(dtype)


def expected(op: ReduceOp, arrays: list) -> np.ndarray:
    stack = np.stack(arrays)
    if op is ReduceOp.SUM:
        return stack.sum(0)
    if op is ReduceOp.AVG:
        s = stack.sum(0)
        return s / len(arrays) if s.dtype.kind == "f" else np.trunc(s / len(arrays)).astype(s.dtype)
    if op is ReduceOp.PRODUCT:
        return stack.prod(0)
    return stack.min(0) if op is ReduceOp.MIN else stack.max(0)


def close(got: tg.Tensor, want: np.ndarray, what: str) -> int:
    arr = got.numpy()
    assert arr.dtype == want.dtype, (what, arr.dtype, want.dtype)
    tol = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-13}.get(arr.dtype, 0)
    np.testing.assert_allclose(arr, want, rtol=tol, atol=tol, err_msg=what)
    return 1


def reductions(rank: int, world: int) -> int:
    checks = 0
    for dtype in DTYPES:
        for op in ReduceOp:
            positive = op is ReduceOp.PRODUCT
            inputs = [data(r, dtype, positive) for r in range(world)]
            want = expected(op, inputs)
            for async_op in (False, True):
                t = tg.from_numpy(inputs[rank].copy())
                work = dist.all_reduce(t, op=op, async_op=async_op)
                if async_op:
                    assert work.wait() is True and work.is_completed()
                checks += close(t, want, f"all_reduce {op} {dtype.__name__} async={async_op}")
            for dst in range(world):
                t = tg.from_numpy(inputs[rank].copy())
                dist.reduce(t, dst, op=op)
                checks += close(t, want if rank == dst else inputs[rank], f"reduce {op} {dtype.__name__} dst={dst}")
    # a non-contiguous tensor (a transposed view) is reduced in place through its own memory
    base = tg.from_numpy(data(rank, np.float64))
    view = base.t()
    assert not view.is_contiguous()
    dist.all_reduce(view)
    checks += close(base, expected(ReduceOp.SUM, [data(r, np.float64) for r in range(world)]), "non-contiguous")
    return checks


def movements(rank: int, world: int) -> int:
    checks = 0
    for dtype in DTYPES:
        inputs = [data(r, dtype) for r in range(world)]
        for src in range(world):
            t = tg.from_numpy(inputs[rank].copy())
            dist.broadcast(t, src, async_op=src % 2 == 1).wait() if src % 2 == 1 else dist.broadcast(t, src)
            checks += close(t, inputs[src], f"broadcast {dtype.__name__} src={src}")
            out = [tg.from_numpy(np.zeros(SHAPE, dtype)) for _ in range(world)]
            dist.gather(tg.from_numpy(inputs[rank]), out if rank == src else None, dst=src)
            if rank == src:
                checks += sum(close(o, i, f"gather {dtype.__name__}") for o, i in zip(out, inputs))
            t = tg.from_numpy(np.zeros(SHAPE, dtype))
            parts = [tg.from_numpy(data(10 * src + r, dtype)) for r in range(world)]
            dist.scatter(t, parts if rank == src else None, src=src)
            checks += close(t, data(10 * src + rank, dtype), f"scatter {dtype.__name__} src={src}")
        out = [tg.from_numpy(np.zeros(SHAPE, dtype)) for _ in range(world)]
        work = dist.all_gather(out, tg.from_numpy(inputs[rank]), async_op=True)
        work.wait()
        checks += sum(close(o, i, f"all_gather {dtype.__name__}") for o, i in zip(out, inputs))
    dist.barrier()
    return checks


def errors(rank: int, world: int) -> int:
    cases = [(lambda: dist.broadcast(tg.zeros(2), world), ValueError, "src"),
             (lambda: dist.all_reduce(tg.zeros(2), op="sum"), ValueError, "ReduceOp"),
             (lambda: dist.all_reduce(tg.zeros(2, dtype=tg.bool)), TypeError, "dtype"),
             (lambda: dist.all_gather([tg.zeros(2)], tg.zeros(2)), ValueError, "world_size"),
             (lambda: dist.gather(tg.zeros(2), [tg.zeros(2)] * world, dst=(rank + 1) % world), ValueError,
              "must NOT be specified"),
             (lambda: dist.init_process_group("mpi"), ValueError, "twice")]
    for fn, exc, text in cases:
        try:
            fn()
        except exc as err:
            assert text in str(err), (text, str(err))
        else:
            raise AssertionError(f"no {exc.__name__} for the case expecting {text!r}")
    return len(cases)


def main() -> int:
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == "mpi" and dist.group.WORLD.size() == world
    checks = reductions(rank, world) + movements(rank, world) + errors(rank, world)
    dist.destroy_process_group()
    assert not dist.is_initialized()
    print(f"collectives rank {rank} of {world}: {checks} checks", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
