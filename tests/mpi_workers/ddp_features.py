"""Run under mpiexec -n 2: DistributedDataParallel's contract beyond plain averaging (see test_distributed.py).

Construction broadcast, state_dict keys, several buckets with communication started before backward ends,
no_sync accumulation, find_unused_parameters, the unfinished-reduction and different-model errors.
"""
import sys

import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.distributed as dist
from tinygrad_cnn import nn
from tinygrad_cnn.nn.parallel import DistributedDataParallel as DDP


def gathered(t: tg.Tensor) -> list:
    out = [tg.zeros(*t.shape, dtype=t.dtype) for _ in range(dist.get_world_size())]
    dist.all_gather(out, t.detach().clone())
    return [o.numpy() for o in out]


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def batch(step: int) -> tuple:
    rng = np.random.default_rng(step)
    return tg.tensor(rng.standard_normal((8, 6))), tg.tensor(rng.standard_normal((8, 3)))


def local(x: tg.Tensor, rank: int, world: int) -> tg.Tensor:
    n = len(x) // world
    return x[rank * n:(rank + 1) * n]


def check_buckets_and_overlap(rank: int, world: int) -> None:
    tg.manual_seed(rank)                                   # different initialisations: DDP must broadcast rank 0's
    module = mlp().double()
    seen = []
    first = module[0].weight                               # the last gradient backward produces
    first.register_post_accumulate_grad_hook(lambda p: seen.append([b.request is not None for b in buckets]))
    model = DDP(module, bucket_cap_mb=0.001)               # 1 KB buckets: several of them
    buckets = model.reducer.buckets
    assert len(buckets) >= 3, len(buckets)
    for p in model.parameters():
        copies = gathered(p)
        assert all(np.array_equal(copies[0], c) for c in copies), "parameters differ after construction"
    keys = list(model.state_dict())
    assert keys == ["module." + k for k in module.state_dict()], keys
    reference = mlp().double()
    reference.load_state_dict(model.module.state_dict())
    x, y = batch(0)
    nn.functional.mse_loss(model(local(x, rank, world)), local(y, rank, world)).backward()
    nn.functional.mse_loss(reference(x), y).backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=0, atol=1e-12)
    assert seen and seen[0][0] and not all(seen[0]), f"buckets launched when the last gradient came: {seen}"


def check_no_sync(rank: int, world: int) -> None:
    tg.manual_seed(0)
    model = DDP(mlp().double())
    reference = mlp().double()
    reference.load_state_dict(model.module.state_dict())
    (x1, y1), (x2, y2) = batch(1), batch(2)
    with model.no_sync():
        nn.functional.mse_loss(model(local(x1, rank, world)), local(y1, rank, world)).backward()
    unsynced = gathered(model.module[0].weight.grad)
    assert not np.allclose(unsynced[0], unsynced[1]), "no_sync must leave the local gradients alone"
    nn.functional.mse_loss(model(local(x2, rank, world)), local(y2, rank, world)).backward()
    for x, y in ((x1, y1), (x2, y2)):
        nn.functional.mse_loss(reference(x), y).backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=0, atol=1e-12)


class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x: tg.Tensor, use_b: bool) -> tg.Tensor:
        return self.a(x) + self.b(x) if use_b else self.a(x)


def check_unused(rank: int, world: int) -> None:
    tg.manual_seed(0)
    model = DDP(TwoHeads().double(), find_unused_parameters=True)
    x = tg.ones(2, 4, dtype=tg.float64) * (rank + 1)
    model(x, use_b=False).sum().backward()                      # b unused everywhere: its grad stays None
    assert model.module.b.weight.grad is None
    np.testing.assert_allclose(model.module.a.weight.grad.numpy(), 2 * (1 + world) / 2)
    model.zero_grad()
    model(x, use_b=rank == 0).sum().backward()                  # b used on rank 0 only: averaged with zeros
    np.testing.assert_allclose(model.module.b.weight.grad.numpy(), 2.0 / world)
    strict = DDP(TwoHeads().double())
    strict(x, use_b=False).sum().backward()
    try:
        strict(x, use_b=False)
    except RuntimeError as err:
        assert "Expected to have finished reduction" in str(err) and "find_unused_parameters" in str(err)
    else:
        raise AssertionError("an unused parameter without find_unused_parameters must be reported")


def check_same_model(rank: int) -> None:
    try:
        DDP(nn.Linear(3, 2 + rank))
    except RuntimeError as err:
        assert "same model" in str(err), str(err)
    else:
        raise AssertionError("different models on the ranks must be refused")


def main() -> int:
    tg.set_default_dtype(tg.float64)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    check_buckets_and_overlap(rank, world)
    check_no_sync(rank, world)
    check_unused(rank, world)
    check_same_model(rank)
    dist.destroy_process_group()
    print(f"ddp features rank {rank}: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
