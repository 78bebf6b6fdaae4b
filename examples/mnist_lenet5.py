"""LeNet-5 on MNIST with ANNT's protocol, as a plain PyTorch-style training loop.

    python examples/mnist_lenet5.py --epochs 20        # ~99% test accuracy (see docs/results.md)

The same run through the command line tool (checkpoints, resume, plots): `tinygrad-cnn train --model annt-lenet5`.
"""
import argparse
import time

from tqdm import tqdm

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.datasets import MNIST, transforms
from tinygrad_cnn.utils.data import DataLoader, random_split


def train_epoch(model, loader, optimizer, epoch):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=f"Epoch {epoch:3d}", unit="batch")
    for data, target in bar:
        optimizer.zero_grad()
        output = model(data)                       # (N, 10) log-probabilities
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(target)
        correct += (output.argmax(dim=1) == target).sum().item()
        seen += len(target)
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{100 * correct / seen:.2f}%", refresh=False)
    return total_loss / seen, correct, seen


def evaluate(model, loader):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with tg.no_grad():
        for data, target in loader:
            output = model(data)
            total_loss += F.nll_loss(output, target, reduction="sum").item()
            correct += (output.argmax(dim=1) == target).sum().item()
            seen += len(target)
    return total_loss / seen, correct, seen


def main(dataset=MNIST, name="MNIST"):
    """Train and test on `dataset` (MNIST here; examples/fashion_lenet5.py passes FashionMNIST)."""
    parser = argparse.ArgumentParser(description=f"ANNT's LeNet-5 on {name}")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", default=None, help="save the trained weights here (.npz)")
    args = parser.parse_args()
    tg.manual_seed(args.seed)

    # ANNT's preprocessing: pad 28x28 to 32x32, pixels to [-1, 1] (the padding becomes the background, -1).
    # as_tensor_dataset applies the transform once to the whole (N, 1, 28, 28) tensor, not image by image.
    transform = transforms.Compose([transforms.Pad(2), transforms.Normalize((0.5,), (0.5,))])
    full = dataset(train=True).as_tensor_dataset(transform)
    test_set = dataset(train=False).as_tensor_dataset(transform)
    # 50 000 / 10 000 images, the same seeded split as `tinygrad-cnn train`
    train_set, val_set = random_split(full, [5 / 6, 1 / 6], generator=tg.Generator().manual_seed(args.seed))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=1000)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = tg.models.annt_lenet5()
    optimizer = tg.optim.Adam(model.parameters(), lr=args.lr)
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        loss, correct, seen = train_epoch(model, train_loader, optimizer, epoch)
        val_loss, val_correct, val_seen = evaluate(model, val_loader)
        print(f"Epoch {epoch:3d} : training accuracy = {100 * correct / seen:.2f}% ({correct}/{seen}), "
              f"cost = {loss:.4f} | validation accuracy = {100 * val_correct / val_seen:.2f}% "
              f"({val_correct}/{val_seen}), cost = {val_loss:.4f}")
    test_loss, test_correct, test_seen = evaluate(model, test_loader)
    print(f"Test accuracy = {100 * test_correct / test_seen:.2f}% ({test_correct}/{test_seen}), "
          f"cost = {test_loss:.4f}")
    print(f"Total time taken : {time.time() - start:.0f}s")
    if args.save:
        tg.save(model.state_dict(), args.save)


if __name__ == "__main__":
    main()
