"""The benchmark's torch twins (benchmarks/_twins.py) are the same networks as the zoo models: same state_dict
keys and shapes, same outputs with the weights copied over, in eval and in train mode (batch statistics)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _twins  # noqa: E402


@pytest.mark.parametrize("name,shape", [("annt-lenet5", (1, 32, 32)), ("annt-cifar", (3, 32, 32)),
                                        ("torch-example-mnist", (1, 28, 28))])
def test_twin_matches_the_zoo_model(name: str, shape: tuple) -> None:
    tg.manual_seed(0)
    model = tg.models.get_model(name).double()
    twin = _twins.build(name, model).double()
    x = np.random.default_rng(0).standard_normal((4, *shape))
    for train in (False, True):
        model.train(train), twin.train(train)
        if train and name == "torch-example-mnist":
            continue  # dropout: the two frameworks draw different masks
        ours = model(tg.tensor(x)).detach().numpy()
        theirs = twin(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_twin_refuses_a_different_architecture() -> None:
    with pytest.raises(RuntimeError, match="twin keys differ"):
        _twins.copy_weights(tg.models.get_model("annt-lenet5"), _twins.annt_cifar())
