"""Run under mpiexec -n 2: DDP with per-rank batch B/2 vs one process with batch B, step for step (float64).

Every rank also trains the single-process reference itself on the whole batch, so one launch checks both.
Cases: LeNet-5 with SGD+momentum and Adam; a BatchNorm net (SyncBatchNorm under DDP, BatchNorm2d alone) with both.
Prints one line per case with the largest parameter difference seen; exits non-zero when one exceeds 1e-10.
"""
import sys

import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.distributed as dist
from tinygrad_cnn import nn
from tinygrad_cnn.nn.parallel import DistributedDataParallel as DDP

STEPS, B = 4, 8


def bn_net() -> nn.Module:
    """No bias before a BatchNorm: its true gradient is 0, the computed one rounding noise (~1e-17), and Adam
    divides it by its own RMS into lr-sized steps: noise would then decide the bias, on one side or the other."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(),
                         nn.Linear(6 * 3 * 3, 5, bias=False), nn.BatchNorm1d(5), nn.LogSoftmax(1))


def run_case(name: str, make_model, make_opt, size: int, sync_bn: bool) -> float:
    rank, world = dist.get_rank(), dist.get_world_size()
    tg.manual_seed(10 + rank)                     # different init per rank: DDP must broadcast rank 0's
    local = make_model().double()
    tg.manual_seed(10)
    reference = make_model().double()
    if sync_bn:
        local = nn.SyncBatchNorm.convert_sync_batchnorm(local)
    model = DDP(local)
    opt, ref_opt = make_opt(model.parameters()), make_opt(reference.parameters())
    rng = np.random.default_rng(5)
    worst = 0.0
    share = B // world
    for _ in range(STEPS):
        x = tg.tensor(rng.standard_normal((B, 1, size, size)))
        y = tg.tensor(rng.integers(0, 5, B))
        opt.zero_grad()
        mine = slice(rank * share, (rank + 1) * share)
        tg.nn.functional.nll_loss(model(x[mine]), y[mine]).backward()
        opt.step()
        ref_opt.zero_grad()
        tg.nn.functional.nll_loss(reference(x), y).backward()
        ref_opt.step()
        ours = dict(model.module.state_dict())
        for key, value in reference.state_dict().items():
            worst = max(worst, float(np.abs(ours[key].numpy().astype(np.float64) - value.numpy()).max()))
    print(f"{name} rank {rank}: max |difference| {worst:.3e}", flush=True)
    return worst


def main() -> int:
    dist.init_process_group("mpi")
    lenet = lambda: tg.models.get_model("annt-lenet5")  # noqa: E731
    sgd = lambda ps: tg.optim.SGD(ps, lr=0.05, momentum=0.9)  # noqa: E731
    adam = lambda ps: tg.optim.Adam(ps, lr=0.01)  # noqa: E731
    worst = max(run_case("lenet5-sgd", lenet, sgd, 32, False), run_case("lenet5-adam", lenet, adam, 32, False),
                run_case("syncbn-sgd", bn_net, sgd, 12, True), run_case("syncbn-adam", bn_net, adam, 12, True))
    dist.destroy_process_group()
    return 0 if worst <= 1e-10 else 1


if __name__ == "__main__":
    sys.exit(main())
