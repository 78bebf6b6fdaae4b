"""`get_model(name)` / `get_recipe(name)`: the model zoo by command-line name."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NamedTuple

from .annt import ANNT_CIFAR_RECIPE, ANNT_LENET5_RECIPE, annt_cifar, annt_lenet5
from .kajda import KAJDA_MNIST_RECIPE, kajda_mnist
from .recipe import Recipe
from .torch_example import TORCH_EXAMPLE_MNIST_RECIPE, torch_example_mnist

if TYPE_CHECKING:
    from ..nn import Module


class ModelSpec(NamedTuple):
    build: Callable[[], "Module"]
    recipe: Recipe


MODELS: dict[str, ModelSpec] = {
    "annt-lenet5": ModelSpec(annt_lenet5, ANNT_LENET5_RECIPE),
    "annt-cifar": ModelSpec(annt_cifar, ANNT_CIFAR_RECIPE),
    "kajda-mnist": ModelSpec(kajda_mnist, KAJDA_MNIST_RECIPE),
    "torch-example-mnist": ModelSpec(torch_example_mnist, TORCH_EXAMPLE_MNIST_RECIPE),
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
