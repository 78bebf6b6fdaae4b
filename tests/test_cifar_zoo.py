"""The four standard CIFAR architectures (tinygrad_cnn/models/cifar_zoo.py) against their torch twins.

The twins are not rewritten: the module's own source is executed with its three import lines pointed at torch
(tests/cifar_twins.py), so the test also proves the file is plain PyTorch. With the same state_dict (random
BatchNorm statistics and affine parameters, so normalisation matters) both give the same float64 outputs in eval
and train mode, and train mode updates the running statistics the same way.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.models import cifar_zoo

torch = pytest.importorskip("torch")
from cifar_twins import randomised_state, torch_zoo  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NAMES = ["resnet18_cifar", "vgg11_bn_cifar", "mobilenet_v2_cifar", "densenet121_cifar"]


@pytest.fixture(scope="module")
def twins() -> dict[str, Any]:
    return torch_zoo()


@pytest.mark.parametrize("name", NAMES)
def test_zoo_model_equals_its_torch_twin(name: str, twins: dict) -> None:
    theirs = twins[name]().double()
    ours = getattr(cifar_zoo, name)().double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    state = randomised_state(theirs, seed=len(name))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    ours.load_state_dict(state)
    x = np.random.default_rng(0).normal(size=(2, 3, 32, 32))
    for train in (False, True):
        theirs.train(train)
        ours.train(train)
        for m in (theirs, ours):  # dropout masks cannot be shared: only dropout stays in eval mode
            for sub in m.modules():
                if type(sub).__name__ == "Dropout":
                    sub.eval()
        with torch.no_grad():
            want = theirs(torch.from_numpy(x)).numpy()
        with tg.no_grad():
            got = ours(tg.tensor(x)).numpy()
        assert got.shape == (2, 10) and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=f"{name} train={train}")
    after_theirs = theirs.state_dict()
    for k, v in ours.state_dict().items():  # train mode moved the running statistics the same way
        np.testing.assert_allclose(v.numpy(), after_theirs[k].numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_zoo_models_are_registered() -> None:
    for name in NAMES:
        key = name.replace("_", "-")
        assert key in tg.models.list_models()
        assert tg.models.MODELS[key].build is getattr(cifar_zoo, name)
        assert tg.models.get_recipe(key).input_size == (3, 32, 32)
