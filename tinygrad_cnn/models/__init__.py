"""`tg.models`: the networks of the source papers, each with its training recipe.

    model = tg.models.get_model("annt-lenet5")       # also tg.models.annt_lenet5()
    recipe = tg.models.get_recipe("annt-lenet5")     # Adam 0.002, batch 50, 20 epochs, pad 28->32, [-1, 1]
"""
from .annt import ANNT_CIFAR_RECIPE, ANNT_LENET5_RECIPE, annt_cifar, annt_lenet5
from .cifar_zoo import densenet121_cifar, mobilenet_v2_cifar, resnet18_cifar, vgg11_bn_cifar
from .kajda import KAJDA_MNIST_RECIPE, kajda_mnist
from .recipe import Recipe
from .registry import CIFAR_STANDARD_RECIPE, MODELS, get_model, get_recipe, list_models
from .torch_example import TORCH_EXAMPLE_MNIST_RECIPE, TorchExampleNet, torch_example_mnist

__all__ = ["Recipe", "MODELS", "get_model", "get_recipe", "list_models", "annt_lenet5", "annt_cifar", "kajda_mnist",
           "torch_example_mnist", "TorchExampleNet", "ANNT_LENET5_RECIPE", "ANNT_CIFAR_RECIPE",
           "KAJDA_MNIST_RECIPE", "TORCH_EXAMPLE_MNIST_RECIPE", "CIFAR_STANDARD_RECIPE", "resnet18_cifar",
           "vgg11_bn_cifar", "mobilenet_v2_cifar", "densenet121_cifar"]
