"""LeNet-5 on Fashion-MNIST with ANNT's MNIST protocol: the training loop of mnist_lenet5.py, another data set.

    python examples/fashion_lenet5.py --epochs 20      # ~90% test accuracy (see docs/results.md)

The same run through the command line tool (checkpoints, resume, plots):
`tinygrad-cnn train --model annt-lenet5 --dataset fashion-mnist`.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # the loop lives beside this file

from mnist_lenet5 import main  # noqa: E402

from tinygrad_cnn.datasets import FashionMNIST  # noqa: E402

if __name__ == "__main__":
    main(FashionMNIST, "Fashion-MNIST")
