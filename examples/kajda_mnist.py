"""The tiny "Kajda" network on MNIST (one 2x2 stride-3 convolution, then 81 -> 30 -> 20 -> 10), PyTorch style.

    python examples/kajda_mnist.py --epochs 20         # ~95.7% validation accuracy (see docs/results.md)

Same run with checkpoints and plots: `tinygrad-cnn train --model kajda-mnist`.
"""
import argparse
import time

from tqdm import tqdm

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.datasets import MNIST, transforms
from tinygrad_cnn.optim.lr_scheduler import StepLR
from tinygrad_cnn.utils.data import DataLoader, random_split


def train_epoch(model, loader, optimizer, epoch):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=f"Epoch {epoch:3d}", unit="batch")
    for data, target in bar:
        optimizer.zero_grad()
        logits = model(data)                          # (N, 10) raw scores
        loss = F.cross_entropy(logits, target)        # softmax + negative log-likelihood
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(target)
        correct += (logits.argmax(dim=1) == target).sum().item()
        seen += len(target)
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{100 * correct / seen:.2f}%", refresh=False)
    return total_loss / seen, correct, seen


def evaluate(model, loader):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with tg.no_grad():
        for data, target in loader:
            logits = model(data)
            total_loss += F.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(dim=1) == target).sum().item()
            seen += len(target)
    return total_loss / seen, correct, seen


def main():
    parser = argparse.ArgumentParser(description="The Kajda MNIST network")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tg.manual_seed(args.seed)

    # Pixels standardised; the whole set becomes one (N, 1, 28, 28) tensor, batches are gathered by index.
    normalize = transforms.Normalize((0.1307,), (0.3081,))
    full = MNIST(train=True).as_tensor_dataset(normalize)
    test_set = MNIST(train=False).as_tensor_dataset(normalize)
    # 50 000 / 10 000 images, the same seeded split as `tinygrad-cnn train`
    train_set, val_set = random_split(full, [5 / 6, 1 / 6], generator=tg.Generator().manual_seed(args.seed))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=1000)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = tg.models.kajda_mnist()
    optimizer = tg.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=8, gamma=0.3)
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        loss, correct, seen = train_epoch(model, train_loader, optimizer, epoch)
        val_loss, val_correct, val_seen = evaluate(model, val_loader)
        print(f"Epoch {epoch:3d} : training accuracy = {100 * correct / seen:.2f}% ({correct}/{seen}), "
              f"cost = {loss:.4f} | validation accuracy = {100 * val_correct / val_seen:.2f}% "
              f"({val_correct}/{val_seen}), cost = {val_loss:.4f}")
        scheduler.step()
    test_loss, test_correct, test_seen = evaluate(model, test_loader)
    print(f"Test accuracy = {100 * test_correct / test_seen:.2f}% ({test_correct}/{test_seen}), "
          f"cost = {test_loss:.4f}")
    print(f"Total time taken : {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
