"""Run under mpiexec: examples/ddp_mnist.py with MNIST replaced by a few hundred drawn digits (fast, no files)."""
import os
import runpy
import sys

import tinygrad_cnn as tg


class TinyDigits(tg.datasets.SyntheticDigits):
    def __init__(self, root=None, train=True, download=True, **kwargs):
        super().__init__(n=200 if train else 63, image_size=28, train=train)


tg.datasets.MNIST = TinyDigits
path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples",
                    "ddp_mnist.py")
sys.argv = [path, *sys.argv[1:]]
runpy.run_path(path, run_name="__main__")
