"""The four standard CIFAR architectures (tinygrad_cnn/models/cifar_zoo.py) against their torch twins.

The twins are not rewritten: the module's own source is executed with its three import lines pointed at torch, so
the test also proves the file is plain PyTorch. With the same state_dict (random BatchNorm statistics and affine
parameters, so normalisation matters) both give the same float64 outputs in eval and train mode, and train mode
updates the running statistics the same way.
"""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.models import cifar_zoo

torch = pytest.importorskip("torch")

NAMES = ["resnet18_cifar", "vgg11_bn_cifar", "mobilenet_v2_cifar", "densenet121_cifar"]


def torch_zoo() -> dict[str, Any]:
    """cifar_zoo's source executed with torch in place of tinygrad_cnn."""
    src = inspect.getsource(cifar_zoo)
    imports = ("import tinygrad_cnn as torch", "import tinygrad_cnn.nn as nn", "import tinygrad_cnn.nn.functional as F")
    for line in imports:
        assert line in src
        src = src.replace(line, line.replace("tinygrad_cnn", "torch"))
    assert "tinygrad_cnn" not in src.split('"""', 2)[2]  # nothing else in the code refers to tinygrad_cnn
    ns: dict[str, Any] = {"__name__": "cifar_zoo_torch_twin"}
    exec(compile(src, "<cifar_zoo as torch>", "exec"), ns)
    return ns


def randomised_state(model: Any, seed: int) -> dict[str, np.ndarray]:
    """The twin's float64 state_dict with BatchNorm statistics/affine drawn away from their identity defaults."""
    rng = np.random.default_rng(seed)
    state = {}
    for k, v in model.state_dict().items():
        a = v.detach().numpy().astype(np.float64)
        if k.endswith("running_mean") or (k.endswith("bias") and a.ndim == 1):
            a = rng.normal(0, 0.1, a.shape)
        elif k.endswith("running_var"):
            a = rng.uniform(0.5, 1.5, a.shape)
        elif k.endswith("weight") and a.ndim == 1:
            a = rng.uniform(0.8, 1.2, a.shape)
        state[k] = a
    return state


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
