"""`get_model(name)` / `get_recipe(name)`: the model zoo by command-line name."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NamedTuple

from .annt import ANNT_CIFAR_RECIPE, ANNT_LENET5_RECIPE, annt_cifar, annt_lenet5
from .cifar_zoo import densenet121_cifar, mobilenet_v2_cifar, resnet18_cifar, vgg11_bn_cifar
from .kajda import KAJDA_MNIST_RECIPE, kajda_mnist
from .recipe import Recipe
from .torch_example import TORCH_EXAMPLE_MNIST_RECIPE, torch_example_mnist

if TYPE_CHECKING:
    from ..nn import Module


CIFAR_STANDARD_RECIPE = Recipe(
    optimizer="sgd", lr=0.1, momentum=0.9, batch_size=128, epochs=30, loss="cross_entropy", input_size=(3, 32, 32),
    mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616), val_fraction=0.1, scheduler="steplr",
    step_size=10, gamma=0.1,
    source="the common CIFAR-10 protocol of pytorch-cifar style repositories (SGD 0.1, momentum 0.9, batch 128, "
           "per-channel Normalize)",
    notes="Those repositories also use weight decay 5e-4, random crop + flip augmentation and a cosine schedule "
          "over 200 epochs; the recipe keeps the fields this project's trainer has.",
)


class ModelSpec(NamedTuple):
    build: Callable[[], "Module"]
    recipe: Recipe


MODELS: dict[str, ModelSpec] = {
    "annt-lenet5": ModelSpec(annt_lenet5, ANNT_LENET5_RECIPE),
    "annt-cifar": ModelSpec(annt_cifar, ANNT_CIFAR_RECIPE),
    "kajda-mnist": ModelSpec(kajda_mnist, KAJDA_MNIST_RECIPE),
    "torch-example-mnist": ModelSpec(torch_example_mnist, TORCH_EXAMPLE_MNIST_RECIPE),
    "resnet18-cifar": ModelSpec(resnet18_cifar, CIFAR_STANDARD_RECIPE),
    "vgg11-bn-cifar": ModelSpec(vgg11_bn_cifar, CIFAR_STANDARD_RECIPE),
    "mobilenet-v2-cifar": ModelSpec(mobilenet_v2_cifar, CIFAR_STANDARD_RECIPE),
    "densenet121-cifar": ModelSpec(densenet121_cifar, CIFAR_STANDARD_RECIPE),
}


def list_models() -> list[str]:
    """The valid model names, in registry order."""
    return list(MODELS)


def _spec(name: str) -> ModelSpec:
    key = name.replace("_", "-").lower()
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}")
    return MODELS[key]


def get_model(name: str) -> "Module":
    """A freshly initialised model (weights drawn from the global generator: seed with `tg.manual_seed`).

    Raises:
        ValueError: for an unknown name; the message lists the valid names.
    """
    return _spec(name).build()


def get_recipe(name: str) -> Recipe:
    """The model's training recipe (optimizer, lr, batch size, epochs, preprocessing, split)."""
    return _spec(name).recipe
