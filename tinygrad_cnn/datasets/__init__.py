"""`tg.datasets`: MNIST, FashionMNIST, CIFAR10 and a synthetic data set; transforms."""
