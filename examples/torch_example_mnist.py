"""PyTorch's examples/mnist/main.py, line for line with `tinygrad_cnn` in place of `torch`.

    python examples/torch_example_mnist.py --epochs 14     # the example's defaults; each epoch is slow on numpy

Like the original: trains on all 60 000 images, reports the test set after every epoch, Adadelta + StepLR.
"""
import argparse

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.datasets import MNIST, transforms
from tinygrad_cnn.optim.lr_scheduler import StepLR
from tinygrad_cnn.utils.data import DataLoader


def train(args, model, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                  f"({100. * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}")


def test(model, test_loader):
    model.eval()
    test_loss, correct = 0.0, 0
    with tg.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_loader.dataset)} "
          f"({100. * correct / len(test_loader.dataset):.0f}%)\n")


def main():
    parser = argparse.ArgumentParser(description="PyTorch MNIST Example (on tinygrad_cnn)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-batch-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=10)
    parser.add_argument("--save-model", action="store_true")
    args = parser.parse_args()
    tg.manual_seed(args.seed)

    # The example's transform; applied once to the whole tensor rather than per image (same numbers).
    normalize = transforms.Normalize((0.1307,), (0.3081,))
    dataset1 = MNIST(train=True).as_tensor_dataset(normalize)
    dataset2 = MNIST(train=False).as_tensor_dataset(normalize)
    train_loader = DataLoader(dataset1, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(dataset2, batch_size=args.test_batch_size)

    model = tg.models.torch_example_mnist()
    optimizer = tg.optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, train_loader, optimizer, epoch)
        test(model, test_loader)
        scheduler.step()
    if args.save_model:
        tg.save(model.state_dict(), "mnist_cnn.npz")


if __name__ == "__main__":
    main()
