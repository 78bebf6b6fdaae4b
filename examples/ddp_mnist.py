"""LeNet-5 on MNIST with DistributedDataParallel, written as a torch DDP script is.

    mpiexec -n 2 python examples/ddp_mnist.py --epochs 20          # one process per core
    mpiexec -n 4 -f hosts python examples/ddp_mnist.py             # several machines (docs/distributed.md)

Every process trains on its own share of each epoch (DistributedSampler) with a per-process batch of
--batch-size images; DistributedDataParallel averages the gradients, so the processes take identical steps.
Rank 0 prints and saves. Needs the distributed extra: pip install 'tinygrad_cnn[distributed]'.
"""
import argparse
import time

import tinygrad_cnn as tg
import tinygrad_cnn.distributed as dist
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.datasets import transforms
from tinygrad_cnn.nn.parallel import DistributedDataParallel as DDP
from tinygrad_cnn.utils.data import DataLoader, Subset
from tinygrad_cnn.utils.data.distributed import DistributedSampler


def reduce_counts(loss_sum, correct, seen):
    """Sum the three counters over all processes."""
    t = tg.tensor([loss_sum, correct, seen], dtype=tg.float64)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    loss_sum, correct, seen = t.tolist()
    return loss_sum / seen, int(correct), int(seen)


def train_epoch(model, loader, optimizer):
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for data, target in loader:
        optimizer.zero_grad()
        output = model(data)                       # (N, 10) log-probabilities
        loss = F.nll_loss(output, target)
        loss.backward()                            # DDP averages the gradients over the processes here
        optimizer.step()
        loss_sum += loss.item() * len(target)
        correct += (output.argmax(dim=1) == target).sum().item()
        seen += len(target)
    return reduce_counts(loss_sum, correct, seen)


def evaluate(model, loader):
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    with tg.no_grad():
        for data, target in loader:
            output = model(data)
            loss_sum += F.nll_loss(output, target, reduction="sum").item()
            correct += (output.argmax(dim=1) == target).sum().item()
            seen += len(target)
    return reduce_counts(loss_sum, correct, seen)


def main():
    parser = argparse.ArgumentParser(description="LeNet-5 on MNIST, data-parallel over MPI processes")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=25, help="per process (2 processes: 50 per step)")
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="use the first N training and test images only")
    parser.add_argument("--save", default=None, help="rank 0 saves the trained weights here (.npz)")
    args = parser.parse_args()

    dist.init_process_group(backend="mpi")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    tg.manual_seed(args.seed)                      # DDP broadcasts rank 0's initial weights anyway

    transform = transforms.Compose([transforms.Pad(2), transforms.Normalize((0.5,), (0.5,))])
    train_set = tg.datasets.MNIST(train=True).as_tensor_dataset(transform)
    test_set = tg.datasets.MNIST(train=False).as_tensor_dataset(transform)
    if args.limit:
        train_set, test_set = Subset(train_set, range(args.limit)), Subset(test_set, range(args.limit))
    train_sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)
    test_sampler = DistributedSampler(test_set, shuffle=False)   # pads to equal shares: a few images count twice
    train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=train_sampler)
    test_loader = DataLoader(test_set, batch_size=1000, sampler=test_sampler)

    model = DDP(tg.models.annt_lenet5())
    optimizer = tg.optim.Adam(model.parameters(), lr=args.lr)
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        train_sampler.set_epoch(epoch)             # a new shuffle each epoch, the same on every process
        loss, correct, seen = train_epoch(model, train_loader, optimizer)
        if rank == 0:
            print(f"Epoch {epoch:3d} : training accuracy = {100 * correct / seen:.2f}% ({correct}/{seen}), "
                  f"cost = {loss:.4f}, {world_size} processes, {time.time() - start:.0f}s", flush=True)
    test_loss, test_correct, test_seen = evaluate(model, test_loader)
    if rank == 0:
        print(f"Test accuracy = {100 * test_correct / test_seen:.2f}% ({test_correct}/{test_seen}), "
              f"cost = {test_loss:.4f}")
        if args.save:
            tg.save(model.module.state_dict(), args.save)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
