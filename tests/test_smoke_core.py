import numpy as np
import pytest

import tinygrad_cnn as tg
from parity import check_parity


def test_mul_add_exp_parity():
    rng = np.random.default_rng(0)
    check_parity(lambda m, a, b: (a * b + a.exp()) / (b * b + 1), [rng.standard_normal((3, 4)),
                                                                  rng.standard_normal((4,))])


def test_matmul_batched_parity():
    rng = np.random.default_rng(1)
    check_parity(lambda m, a, b: a @ b, [rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))])
    check_parity(lambda m, a, b: a @ b, [rng.standard_normal((4,)), rng.standard_normal((2, 4, 5))])
    check_parity(lambda m, a, b: a @ b, [rng.standard_normal((3, 4)), rng.standard_normal((4,))])


def test_chain_of_100000_ops_backward_is_iterative():
    x = tg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_backward_twice_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
