"""Acceptance: whole PyTorch scripts run unchanged with `torch` bound to tinygrad_cnn.

Each script below is ordinary PyTorch source (only `torch`, `torch.nn`, `torch.nn.functional`, `torch.optim`,
`torch.utils.data`, `torch.autograd`, plus numpy and the standard library). `run()` executes the same text twice: once as written
(real torch) and once with `sys.modules['torch']`, `sys.modules['torch.nn']`, ... pointing at tinygrad_cnn (set
with monkeypatch, so they are restored afterwards). The results the scripts leave in their globals are compared:
numerically (float64) where both runs can see the same numbers, by behaviour (shapes, dtypes, loss going down)
where randomness cannot be shared (dropout masks, shuffling, random_split).

The only non-torch name a script uses is `sync_weights(model)`: in the torch run it records the freshly initialised
state_dict, in the tinygrad_cnn run it loads that record, so both runs start from the same weights.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true:UserWarning")  # torch, no GPU

_ALIASES = {"torch": tg, "torch.nn": tg.nn, "torch.nn.functional": tg.nn.functional, "torch.nn.init": tg.nn.init,
            "torch.nn.utils": tg.nn.utils, "torch.optim": tg.optim, "torch.optim.lr_scheduler": tg.optim.lr_scheduler,
            "torch.utils": tg.utils, "torch.utils.data": tg.utils.data, "torch.autograd": tg.autograd,
            "torch.backends": tg.backends, "torch.backends.cudnn": tg.backends.cudnn, "torch.linalg": tg.linalg}


class _WeightSync:
    """`sync_weights(model)`: the torch run records each model's initial state_dict, the tg run loads it."""

    def __init__(self) -> None:
        self.states: list[dict[str, np.ndarray]] = []
        self.used = 0

    def torch_hook(self, model: Any) -> Any:
        self.states.append({k: v.detach().numpy().copy() for k, v in model.state_dict().items()})
        return model

    def tg_hook(self, model: Any) -> Any:
        state = self.states[self.used]
        self.used += 1
        tg.load_torch_state_dict(model, state)
        return model


def run(src: str, monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[dict, dict]:
    """Execute src with real torch, then with tinygrad_cnn as `torch`; return both global namespaces."""
    sync = _WeightSync()
    results = []
    for lib, hook in ((torch, sync.torch_hook), (tg, sync.tg_hook)):
        ns: dict[str, Any] = {"__name__": f"torch_script_{name}", "sync_weights": hook}
        old_dtype, old_threads = lib.get_default_dtype(), torch.get_num_threads()
        torch.set_num_threads(1)  # small shapes on shared cores: torch's thread pool would only add contention
        with monkeypatch.context() as mp:
            if lib is tg:
                for mod_name, mod in _ALIASES.items():
                    mp.setitem(sys.modules, mod_name, mod)
            try:
                exec(compile(src, f"<{name} script, torch={lib.__name__}>", "exec"), ns)
            finally:
                lib.set_default_dtype(old_dtype)
                torch.set_num_threads(old_threads)
        for value in ns.values():
            # a torch DataLoader iterator left half-used (`images, labels = next(iter(loader))`) stops its worker
            # processes when collected; collected later, while `torch` is aliased, the shutdown waits 5 s a worker
            if lib is torch and hasattr(value, "_shutdown_workers"):
                value._shutdown_workers()
        results.append(ns)
    assert sync.used == len(sync.states), "the tinygrad_cnn run created a different number of models"
    return results[0], results[1]


def as_np(x: Any) -> Any:
    """Tensors of either library (and nested lists/tuples/dicts of them) as numpy arrays."""
    if isinstance(x, (list, tuple)):
        items = [as_np(v) for v in x]
        return tuple(items) if isinstance(x, tuple) else items  # namedtuples (values, indices) as tuples
    if isinstance(x, dict):
        return {k: as_np(v) for k, v in x.items()}
    if isinstance(x, tg.Tensor):
        return np.asarray(x.detach().numpy())
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x


def assert_close(ours: Any, theirs: Any, rtol: float = 1e-9, atol: float = 1e-11, where: str = "") -> None:
    """Equal structure, shapes and dtypes; numbers close (exact for integers and bools)."""
    a, b = as_np(ours), as_np(theirs)
    if isinstance(b, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} vs torch {list(b)}"
        for k in b:
            assert_close(a[k], b[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} vs torch {len(b)}"
        for i, (u, v) in enumerate(zip(a, b)):
            assert_close(u, v, rtol, atol, f"{where}[{i}]")
    elif isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray), f"{where}: {type(a).__name__} vs torch tensor"
        assert a.shape == b.shape, f"{where}: shape {a.shape} vs torch {b.shape}"
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} vs torch {b.dtype}"
        if b.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b, err_msg=where)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(b, float):
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs torch {type(b).__name__}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=where)
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} vs torch {b!r}"


# --- 1. pytorch/examples mnist/main.py, on synthetic digits -------------------------------------------------------
MNIST_EXAMPLE = r'''
import argparse
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        train_losses.append(loss.item())
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return test_loss, correct


def synthetic_digits(n, rng, prototypes):
    """MNIST-shaped stand-in: each class is a fixed random image, each sample that image plus noise."""
    labels = rng.integers(0, 10, n)
    images = prototypes[labels] + 0.3 * rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    return TensorDataset(torch.from_numpy((images - 0.1307) / 0.3081), torch.from_numpy(labels))


parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
parser.add_argument('--batch-size', type=int, default=64, metavar='N')
parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N')
parser.add_argument('--epochs', type=int, default=14, metavar='N')
parser.add_argument('--lr', type=float, default=1.0, metavar='LR')
parser.add_argument('--gamma', type=float, default=0.7, metavar='M')
parser.add_argument('--no-cuda', action='store_true', default=False)
parser.add_argument('--no-mps', action='store_true', default=False)
parser.add_argument('--dry-run', action='store_true', default=False)
parser.add_argument('--seed', type=int, default=1, metavar='S')
parser.add_argument('--log-interval', type=int, default=10, metavar='N')
parser.add_argument('--save-model', action='store_true', default=False)
args = parser.parse_args(['--batch-size', '16', '--test-batch-size', '48', '--epochs', '2', '--save-model'])
use_cuda = not args.no_cuda and torch.cuda.is_available()
use_mps = not args.no_mps and torch.backends.mps.is_available()

torch.manual_seed(args.seed)

if use_cuda:
    device = torch.device("cuda")
elif use_mps:
    device = torch.device("mps")
else:
    device = torch.device("cpu")

train_kwargs = {'batch_size': args.batch_size}
test_kwargs = {'batch_size': args.test_batch_size}
# the example adds these only on CUDA; here they run on the CPU so that both libraries meet them
cuda_kwargs = {'num_workers': 1, 'pin_memory': True, 'shuffle': True}
train_kwargs.update(cuda_kwargs)
test_kwargs.update({'num_workers': 1, 'pin_memory': True})

rng = np.random.default_rng(0)
prototypes = (rng.random((10, 1, 28, 28)) < 0.2).astype(np.float32)  # sparse 'strokes'
dataset1 = synthetic_digits(96, rng, prototypes)
dataset2 = synthetic_digits(48, rng, prototypes)
train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs)
test_loader = torch.utils.data.DataLoader(dataset2, **test_kwargs)

model = sync_weights(Net().to(device))
optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

train_losses = []
initial = test(model, device, test_loader)
scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
lrs = []
for epoch in range(1, args.epochs + 1):
    train(args, model, device, train_loader, optimizer, epoch)
    final = test(model, device, test_loader)
    scheduler.step()
    lrs.append(scheduler.get_last_lr()[0])

if args.save_model:
    path = os.path.join(tempfile.mkdtemp(), "mnist_cnn.pt")
    torch.save(model.state_dict(), path)
    reloaded = Net()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
    reloaded.eval()
    with torch.no_grad():
        x, _ = next(iter(test_loader))
        same_after_reload = torch.equal(reloaded(x), model(x))
    state_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
'''


def test_mnist_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytorch/examples MNIST: same initial test loss/accuracy (eval mode, same weights); with dropout and
    shuffling the runs then differ, so both must learn (test loss down, accuracy up) and reload identically."""
    theirs, ours = run(MNIST_EXAMPLE, monkeypatch, "mnist")
    assert_close(ours["initial"], theirs["initial"], rtol=1e-5, where="initial test (loss, correct)")
    assert_close(ours["lrs"], theirs["lrs"], where="StepLR learning rates")
    for ns in (ours, theirs):
        assert len(ns["train_losses"]) == 2 * 6
        assert ns["final"][0] < 0.7 * ns["initial"][0]
        assert ns["final"][1] >= 24  # of 48: learnt, not guessing (about 5 by chance)
        assert ns["same_after_reload"] is True
    assert ours["state_shapes"] == theirs["state_shapes"]


# --- 2. custom autograd Functions: the "Learning PyTorch with examples" tutorial and the autograd docs ------------
AUTOGRAD_FUNCTIONS = r'''
import math

import torch
from torch.autograd import Function


class LegendrePolynomial3(torch.autograd.Function):
    """
    We can implement our own custom autograd Functions by subclassing
    torch.autograd.Function and implementing the forward and backward passes
    which operate on Tensors.
    """

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.double
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
legendre_losses = []
for t in range(400):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
        legendre_losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
legendre_coefficients = [a.item(), b.item(), c.item(), d.item()]


class Exp(Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result


class LinearFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MulConstant(Function):
    @staticmethod
    def forward(tensor, constant):  # the torch >= 2.0 style: forward without ctx, then setup_context
        return tensor * constant

    @staticmethod
    def setup_context(ctx, inputs, output):
        tensor, constant = inputs
        ctx.constant = constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class Linear(torch.nn.Module):
    def __init__(self, input_features, output_features, bias=True):
        super().__init__()
        self.input_features = input_features
        self.output_features = output_features
        self.weight = torch.nn.Parameter(torch.empty(output_features, input_features))
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(output_features))
        else:
            self.register_parameter('bias', None)
        self.weight.data.uniform_(-0.1, 0.1)
        if self.bias is not None:
            self.bias.data.uniform_(-0.1, 0.1)

    def forward(self, input):
        return LinearFunction.apply(input, self.weight, self.bias)

    def extra_repr(self):
        return 'input_features={}, output_features={}, bias={}'.format(
            self.input_features, self.output_features, self.bias is not None
        )


from torch.autograd import gradcheck

linear = LinearFunction.apply
rng = __import__("numpy").random.default_rng(0)
input = (torch.tensor(rng.standard_normal((20, 20)), dtype=torch.double, requires_grad=True),
         torch.tensor(rng.standard_normal((30, 20)), dtype=torch.double, requires_grad=True))
linear_gradcheck = gradcheck(linear, input, eps=1e-6, atol=1e-4)
exp_gradcheck = gradcheck(Exp.apply, (torch.randn(3, 4, dtype=torch.double, requires_grad=True),))

z = torch.tensor(rng.standard_normal((4, 3)), dtype=torch.double, requires_grad=True)
out = MulConstant.apply(Exp.apply(z), 2.5).sum()
out.backward()
mul_exp_grad = z.grad.clone()
z_grad = z.grad

layer = sync_weights(Linear(3, 2).double())
layer_repr = repr(layer)
layer_out = layer(z)
layer_out.pow(2).mean().backward()
layer_grads = [p.grad for p in layer.parameters()]
z_grad_in_place = z.grad is z_grad  # the second backward added into the same .grad tensor
z_total_grad = z.grad
grad_fn_name = layer_out.grad_fn.name()
'''


def test_autograd_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Custom Functions (ctx style and setup_context style), gradcheck of them, and a Module calling one."""
    theirs, ours = run(AUTOGRAD_FUNCTIONS, monkeypatch, "autograd")
    for key in ("legendre_losses", "legendre_coefficients", "mul_exp_grad", "layer_out", "layer_grads",
                "z_total_grad", "z_grad_in_place"):
        assert_close(ours[key], theirs[key], where=key)
    assert ours["linear_gradcheck"] is ours["exp_gradcheck"] is True
    assert ours["layer_repr"] == theirs["layer_repr"] == "Linear(input_features=3, output_features=2, bias=True)"
    assert ours["grad_fn_name"] == theirs["grad_fn_name"] == "LinearFunctionBackward"


# --- 3. "Learning PyTorch with examples": nn.Module, nn.Sequential and optim versions of the sin(x) fit ------------
NN_MODULE_TUTORIAL = r'''
import math

import torch

torch.set_default_dtype(torch.float64)


class Polynomial3(torch.nn.Module):
    def __init__(self):
        """
        In the constructor we instantiate four parameters and assign them as
        member parameters.
        """
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'


# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

model = sync_weights(Polynomial3())
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
poly_losses = []
for t in range(300):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())
    poly_losses.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
poly_result = model.string()
poly_names = [name for name, _ in model.named_parameters()]

# nn.Sequential version: the polynomial as a linear layer over (x, x^2, x^3)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = sync_weights(torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
))
loss_fn = torch.nn.MSELoss(reduction='sum')
learning_rate = 1e-6
for t in range(300):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
linear_layer = model[0]
seq_result = (f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + '
              f'{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
seq_loss = loss.item()
seq_repr = repr(model)
xx_is_double = xx.dtype == torch.float64 and xx.shape == (2000, 3)

# optim version with RMSprop
model = sync_weights(torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)))
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(300):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
rmsprop_state = model.state_dict()
rmsprop_optimizer_state = optimizer.state_dict()['state'][0]
'''


def test_nn_module_tutorial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polynomial3 (Parameters, `model.string()`), the Sequential fit with a manual update, RMSprop: same numbers."""
    theirs, ours = run(NN_MODULE_TUTORIAL, monkeypatch, "nn_module")
    for key in ("poly_losses", "poly_names", "seq_loss", "seq_repr", "xx_is_double", "rmsprop_state",
                "rmsprop_optimizer_state"):
        assert_close(ours[key], theirs[key], where=key)

    def numbers(text: str) -> list[float]:
        import re
        return [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]
    for key in ("poly_result", "seq_result"):
        np.testing.assert_allclose(numbers(ours[key]), numbers(theirs[key]), rtol=1e-9, err_msg=key)


# --- 4. a classifier training loop: param groups, schedulers, clip_grad_norm_, best-model tracking --------------
TRAINING_LOOP = r'''
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self, in_features, hidden, num_classes, p_drop=0.0):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden),
            nn.LayerNorm(hidden),
            nn.GELU(),
        )
        self.head = nn.Linear(hidden, num_classes)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.head(self.body(x))


rng = np.random.default_rng(1)
centers = rng.standard_normal((4, 8)) * 2
labels = rng.integers(0, 4, 200)
features = centers[labels] + rng.standard_normal((200, 8))
dataset = TensorDataset(torch.from_numpy(features), torch.from_numpy(labels))
train_set = Subset(dataset, range(0, 160))
val_set = Subset(dataset, range(160, 200))
train_loader = DataLoader(train_set, batch_size=32, shuffle=False, drop_last=True)
val_loader = DataLoader(val_set, batch_size=64)

model = sync_weights(MLP(8, 32, 4))
optimizer = torch.optim.SGD([
    {'params': model.body.parameters()},
    {'params': model.head.parameters(), 'lr': 0.05, 'weight_decay': 0.0},
], lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
epochs = 6
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[0.2, 0.1], epochs=epochs,
                                                steps_per_epoch=len(train_loader))
plateau = None
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

history = {'loss': [], 'grad_norm': [], 'lr': [], 'val_loss': [], 'val_acc': []}
best_acc, best_state = -1.0, None
for epoch in range(epochs):
    model.train()
    running_loss = 0.0
    for step, (inputs, targets) in enumerate(train_loader):
        optimizer.zero_grad(set_to_none=True)
        logits = model(inputs)
        loss = criterion(logits, targets)
        loss.backward()
        total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        running_loss += loss.item() * inputs.size(0)
        history['grad_norm'].append(float(total_norm))
        history['lr'].append(optimizer.param_groups[0]['lr'])
    history['loss'].append(running_loss / (len(train_loader) * train_loader.batch_size))

    model.eval()
    val_loss, correct = 0.0, 0
    with torch.no_grad():
        for inputs, targets in val_loader:
            logits = model(inputs)
            val_loss += F.cross_entropy(logits, targets, reduction='sum').item()
            _, predicted = torch.max(logits, 1)
            correct += (predicted == targets).sum().item()
    acc = correct / len(val_loader.dataset)
    history['val_loss'].append(val_loss / len(val_loader.dataset))
    history['val_acc'].append(acc)
    if acc > best_acc:
        best_acc, best_state = acc, copy.deepcopy(model.state_dict())

last_lrs = scheduler.get_last_lr()
final_state = model.state_dict()
model.load_state_dict(best_state)
best_weight_restored = torch.equal(model.head.weight, best_state['head.weight'])

# a second phase with Adam, ReduceLROnPlateau and clip_grad_value_
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=1e-4)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=0.5, patience=0)
plateau_lrs = []
for epoch in range(3):
    model.train()
    for inputs, targets in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
        optimizer.step()
    plateau.step(1.0)  # a flat metric: the rate halves after every epoch without improvement
    plateau_lrs.append(optimizer.param_groups[0]['lr'])
adam_state = model.state_dict()
adam_step = optimizer.state_dict()['state'][0]['step']
'''


def test_training_loop_with_schedulers(monkeypatch: pytest.MonkeyPatch) -> None:
    """No randomness after the synced init (no dropout, no shuffling), so every number must agree."""
    theirs, ours = run(TRAINING_LOOP, monkeypatch, "training_loop")
    for key in ("history", "last_lrs", "best_acc", "final_state", "best_weight_restored", "plateau_lrs",
                "adam_state", "adam_step"):
        assert_close(ours[key], theirs[key], rtol=1e-8, atol=1e-10, where=key)
    assert theirs["history"]["loss"][-1] < 0.5 * theirs["history"]["loss"][0]


# --- 5. checkpoints: save model + optimizer + scheduler, resume, compare with the uninterrupted run ------------
CHECKPOINT_RESUME = r'''
import os
import tempfile

import numpy as np
import torch
from torch import nn, optim

torch.set_default_dtype(torch.float64)


class ConvRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 1)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        return self.fc(x.view(x.size(0), -1)).squeeze(1)


rng = np.random.default_rng(2)
X = torch.from_numpy(rng.standard_normal((24, 2, 8, 8)))
Y = X.mean(dim=(1, 2, 3)) * 3 + 0.1 * torch.from_numpy(rng.standard_normal(24))


def train_epochs(model, optimizer, scheduler, epochs):
    losses = []
    for epoch in range(epochs):
        model.train()
        for i in range(0, len(X), 8):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(X[i:i + 8]), Y[i:i + 8])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses


def make(state=None):
    model = ConvRegressor()
    optimizer = optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01, amsgrad=True)
    scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 4], gamma=0.5)
    return model, optimizer, scheduler


model, optimizer, scheduler = make()
sync_weights(model)
first_losses = train_epochs(model, optimizer, scheduler, 3)

path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save({
    'epoch': 3,
    'model_state_dict': model.state_dict(),
    'optimizer_state_dict': optimizer.state_dict(),
    'scheduler_state_dict': scheduler.state_dict(),
    'loss': first_losses[-1],
}, path)

straight_losses = train_epochs(model, optimizer, scheduler, 3)
straight_state = model.state_dict()

model2, optimizer2, scheduler2 = make()
checkpoint = torch.load(path, weights_only=True)
model2.load_state_dict(checkpoint['model_state_dict'])
optimizer2.load_state_dict(checkpoint['optimizer_state_dict'])
scheduler2.load_state_dict(checkpoint['scheduler_state_dict'])
start_epoch = checkpoint['epoch']
saved_loss = checkpoint['loss']
resumed_losses = train_epochs(model2, optimizer2, scheduler2, 3)
resumed_state = model2.state_dict()

model2.eval()
with torch.no_grad():
    eval_out = model2(X)

state_keys = list(checkpoint['model_state_dict'].keys())
optimizer_group = {k: v for k, v in checkpoint['optimizer_state_dict']['param_groups'][0].items() if k != 'params'}
num_batches_tracked = resumed_state['bn.num_batches_tracked']

# a partial load: strict=False reports what did not match
result = ConvRegressor().load_state_dict({k: v for k, v in straight_state.items() if not k.startswith('fc.')},
                                         strict=False)
missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
try:
    ConvRegressor().load_state_dict({'conv.weight': torch.zeros(4, 2, 5, 5)}, strict=False)
    shape_error = None
except RuntimeError as e:
    shape_error = 'size mismatch for conv.weight' in str(e)
'''


def test_checkpoint_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.save/torch.load of a full checkpoint dict; resuming reproduces the uninterrupted run exactly."""
    theirs, ours = run(CHECKPOINT_RESUME, monkeypatch, "checkpoint")
    for ns in (ours, theirs):
        assert ns["resumed_losses"] == ns["straight_losses"]
        assert_close(ns["resumed_state"], ns["straight_state"], rtol=0, atol=0, where="resumed vs straight")
    for key in ("first_losses", "straight_losses", "straight_state", "eval_out", "state_keys", "optimizer_group",
                "num_batches_tracked", "start_epoch", "saved_loss", "missing", "unexpected", "shape_error"):
        assert_close(ours[key], theirs[key], rtol=1e-8, atol=1e-10, where=key)


# --- 6. BatchNorm and Dropout: train vs eval behaviour ------------------------------------------------------------
BATCHNORM_DROPOUT = r'''
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


class ConvNet(nn.Module):
    def __init__(self, p=0.0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16, momentum=None),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(p=p),
            nn.Linear(16, 16),
            nn.BatchNorm1d(16),
            nn.Linear(16, 3),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


rng = np.random.default_rng(3)
x = torch.from_numpy(rng.standard_normal((10, 3, 8, 8)) * 2 + 1)
y = torch.from_numpy(rng.integers(0, 3, 10))

# deterministic part: no dropout, so train-mode batch statistics and running averages must agree exactly
model = sync_weights(ConvNet(p=0.0))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
train_losses = []
for step in range(5):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    train_losses.append(loss.item())
buffers = {name: b for name, b in model.named_buffers()}
model.eval()
with torch.no_grad():
    eval_out = model(x)
    eval_again = model(x)
eval_deterministic = torch.equal(eval_out, eval_again)
modes = [m.training for m in model.modules()]
model.train()
train_out = model(x)
train_out_requires_grad = train_out.requires_grad

# dropout: random masks differ between libraries, so check what they must do
drop = nn.Dropout(p=0.25)
ones = torch.ones(200, 100)
dropped = drop(ones)
kept_values = sorted(set(dropped.unique().tolist()))
kept_fraction = (dropped != 0).double().mean().item()
drop.eval()
identity_in_eval = torch.equal(drop(ones), ones)
functional_identity = torch.equal(F.dropout(ones, p=0.5, training=False), ones)
zero_p_identity = torch.equal(F.dropout(ones, p=0.0), ones)
inplace_result = F.dropout(torch.ones(4, 4), p=0.5, training=True, inplace=True).shape

model = sync_weights(ConvNet(p=0.5))
model.eval()
with torch.no_grad():
    eval_with_dropout_layer = model(x)
model.train()
a, b = model(x), model(x)
train_outputs_differ = not torch.equal(a, b)
'''


def test_batchnorm_dropout_train_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    theirs, ours = run(BATCHNORM_DROPOUT, monkeypatch, "batchnorm_dropout")
    for key in ("train_losses", "buffers", "eval_out", "eval_deterministic", "modes", "train_out",
                "train_out_requires_grad", "kept_values", "identity_in_eval", "functional_identity",
                "zero_p_identity", "inplace_result", "eval_with_dropout_layer", "train_outputs_differ"):
        assert_close(ours[key], theirs[key], rtol=1e-8, atol=1e-10, where=key)
    assert ours["kept_values"] == [0.0, 1 / 0.75]
    for ns in (ours, theirs):
        assert abs(ns["kept_fraction"] - 0.75) < 0.02  # 20 000 draws: 5 standard deviations


# --- 7. tensor manipulation snippets (model code, metrics, masks) ------------------------------------------------
TENSOR_SNIPPETS = r'''
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(4)
x = torch.from_numpy(rng.standard_normal((2, 3, 4)))
labels = torch.tensor([2, 0, 1, 2, 2, 3])
r = {}
r['view'] = x.view(6, 4)
r['view_infer'] = x.view(-1, 2, 2).shape
r['permute'] = x.permute(2, 0, 1).contiguous()
r['transpose'] = x.transpose(1, 2).reshape(2, -1)
r['cat'] = torch.cat([x, x * 2], dim=1)
r['cat_neg_dim'] = torch.cat((x, x), -1).shape
r['stack'] = torch.stack([x, -x], dim=0)
r['index'] = x[1, :, ::2]
r['bool_index'] = x[x > 0]
r['fancy'] = x[[0, 1, 1], [2, 0, 1]]
r['ellipsis'] = x[..., -1]
r['none'] = x[:, None].shape
r['tensor_index'] = x[torch.tensor([1, 0])]
r['masked_fill'] = x.masked_fill(x < 0, 0.0)
scores = x[0] @ x[1].T
mask = torch.tril(torch.ones(3, 3))
r['attention'] = F.softmax(scores.masked_fill(mask == 0, float('-inf')), dim=-1)
r['triu'] = torch.triu(scores, diagonal=1)
idx = torch.tensor([[[0], [3], [1]], [[2], [2], [0]]])
r['gather'] = x.gather(2, idx)
r['gather_fn'] = torch.gather(x, 2, idx)
r['where'] = torch.where(x > 0, x, torch.zeros_like(x))
r['where_scalar'] = torch.where(x > 0, x, 0.0)
r['argmax'] = x.argmax(dim=-1)
r['max_dim'] = tuple(torch.max(x, 1))
r['max_values'] = x.max(dim=2).values
r['min_all'] = x.min()
r['topk'] = tuple(x.topk(2, dim=-1))
r['topk_smallest'] = tuple(torch.topk(x, 3, dim=1, largest=False))
r['topk_default_dim'] = x.topk(1).indices
r['sort'] = tuple(torch.sort(x, dim=1, descending=True))
r['sort_default'] = x.sort().values
r['argsort'] = x.argsort(dim=-1)
r['cumsum'] = x.cumsum(dim=2)
r['cumsum_fn'] = torch.cumsum(labels, 0)
r['flip'] = x.flip(0)
r['flip_fn'] = torch.flip(x, dims=[0, 2])
r['roll'] = torch.roll(x, shifts=1, dims=2)
r['roll_flat'] = x.roll(3)
r['roll_multi'] = x.roll(shifts=(1, -1), dims=(0, 2))
r['unique'] = torch.unique(labels)
r['unique_counts'] = tuple(labels.unique(return_counts=True))
r['unique_inverse'] = tuple(torch.unique(labels, sorted=True, return_inverse=True))
r['type_as'] = torch.arange(4).type_as(x)
r['new_tensor'] = x.new_tensor([1, 2])
r['new_zeros'] = x.new_zeros((2, 2))
y = x.clone()
y.masked_fill_(y > 1, 1.0)
r['masked_fill_'] = y
r['one_hot_scatter'] = torch.zeros(6, 4).scatter_(1, labels.unsqueeze(1), 1.0)
r['scatter'] = torch.zeros(2, 5).scatter(1, torch.tensor([[0, 4], [1, 1]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
r['scatter_add'] = torch.zeros(2, 5).scatter_add(1, torch.tensor([[0, 4], [1, 1]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
r['index_add_'] = torch.zeros(4, 3).index_add_(0, torch.tensor([0, 2, 2]), torch.ones(3, 3))
r['bincount'] = torch.bincount(labels, minlength=5)
r['bincount_method'] = labels.bincount()
r['one_hot'] = F.one_hot(labels, num_classes=4)
r['chunk'] = torch.chunk(x, 2, dim=2)
r['split_sizes'] = x.split([1, 2], dim=1)
r['squeeze'] = x[:, :1].squeeze(1).shape
r['unsqueeze'] = x.unsqueeze(0).shape
r['expand'] = x[:, :1].expand(-1, 5, -1)
r['repeat'] = x.repeat(1, 2, 1)
r['matmul_bcast'] = x @ x.transpose(-1, -2)
r['arange_float'] = torch.arange(0, 1, 0.25)
r['arange_int'] = torch.arange(5)
r['linspace'] = torch.linspace(0, 1, steps=5)
r['eye'] = torch.eye(3)
r['full'] = torch.full((2, 2), 7)
r['nonzero'] = (x > 1).nonzero()
r['nonzero_tuple'] = torch.nonzero(x > 1, as_tuple=True)
r['masked_select'] = torch.masked_select(x, x > 1)
r['any_all'] = ((x > 3).any().item(), (x > -5).all().item())
r['sizes'] = (x.size(0), x.size(-1), x.dim(), x.numel(), x.shape[1], len(x))
r['item_tolist'] = (x[0, 0, 0].item(), x[0, 0].tolist())
r['clamp'] = x.clamp(min=-0.5, max=0.5)
r['norm'] = x.norm(dim=1)
r['mean_keepdim'] = x.mean(dim=(0, 2), keepdim=True)
r['std'] = x.std(dim=0)
r['logsumexp'] = torch.logsumexp(x, dim=1)
r['sum_dtype'] = (labels == 2).sum()
r['float_div'] = (labels == 2).sum().item() / len(labels)
r['eq_sum'] = labels.eq(torch.tensor([2, 0, 0, 2, 1, 3])).sum().item()
r['long'] = x.long()
r['float'] = x.float()
r['int_div'] = labels // 2
r['true_div'] = labels / 2
r['pow_int'] = labels ** 2
r['isclose'] = torch.isclose(x, x + 1e-12)
r['allclose'] = torch.allclose(x, x.clone())
r['numpy_roundtrip'] = torch.from_numpy(x.numpy() * 2)
r['as_tensor'] = torch.as_tensor([1.5, 2.5])
r['outer'] = torch.outer(torch.arange(3.0), torch.arange(2.0))
r['flatten_fn'] = torch.flatten(x, 1)
r['narrow'] = x.narrow(2, 1, 2)
r['movedim'] = torch.movedim(x, 0, -1)
r['tile'] = x[0, 0].tile(2)
r['sign'] = torch.sign(x)
r['minimum'] = torch.minimum(x, torch.zeros(1))
r['amax'] = torch.amax(x, dim=(1, 2))
r['prod'] = x.prod(1)
w = torch.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
loss = (w.gather(2, idx).sum() + w.topk(2, dim=-1).values.pow(2).sum() + w.sort(dim=1).values[:, 0].sum() * 3
        + (w.cumsum(2) * x).sum() + (w.flip(0) * x).sum() + (torch.roll(w, 1, 2) * x.exp()).sum()
        + w.masked_fill(x > 0, 0.0).pow(3).sum() + torch.where(x > 0, w, w * 2).sum()
        + torch.stack([w, w * w]).permute(3, 2, 1, 0).sum() + w[w > 0].sum())
loss.backward()
r['grad'] = w.grad
'''


def test_tensor_snippets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexing, reshaping, sorting, scatter/gather, masks, reductions and dtypes, and a gradient through them."""
    theirs, ours = run(TENSOR_SNIPPETS, monkeypatch, "tensor_snippets")
    assert list(ours["r"]) == list(theirs["r"])
    for key in theirs["r"]:
        assert_close(ours["r"][key], theirs["r"][key], where=key)


# --- 8. the CIFAR-10 tutorial classifier on a custom Dataset, with random_split ----------------------------------
CIFAR_TUTORIAL = r'''
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset, random_split


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


class StripesDataset(Dataset):
    """32x32 colour images whose class is the stripe period (a stand-in for CIFAR-10), built with numpy."""

    def __init__(self, n, seed, transform=None):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 10, n)
        cols = np.arange(32)
        period = self.labels[:, None] + 2
        stripes = np.sin(2 * np.pi * cols[None, :] / period)[:, None, None, :]
        self.images = (np.repeat(np.repeat(stripes, 32, axis=2), 3, axis=1)
                       + 0.2 * rng.standard_normal((n, 3, 32, 32))).astype(np.float32)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.from_numpy(self.images[idx])
        if self.transform:
            image = self.transform(image)
        return image, int(self.labels[idx])


torch.manual_seed(0)
classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
batch_size = 4
full = StripesDataset(60, seed=0, transform=lambda img: (img - 0.5) / 0.5)
generator = torch.Generator().manual_seed(42)
trainset, valset = random_split(full, [48, 12], generator=generator)
split_sizes = (len(trainset), len(valset))
split_disjoint = not set(trainset.indices) & set(valset.indices)
trainloader = DataLoader(trainset, batch_size=batch_size, shuffle=True, num_workers=2)
testset = StripesDataset(20, seed=1, transform=lambda img: (img - 0.5) / 0.5)
testloader = DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=2)

dataiter = iter(trainloader)
images, labels = next(dataiter)
first_batch = (tuple(images.shape), str(images.dtype).split('.')[-1], tuple(labels.shape),
               str(labels.dtype).split('.')[-1])
print(' '.join(f'{classes[labels[j]]:5s}' for j in range(batch_size)))

net = sync_weights(Net())
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)


def evaluate(net, loader):
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    correct = 0
    total = 0
    with torch.no_grad():
        for data in loader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            for label, prediction in zip(labels, predicted):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    return correct, total, correct_pred, total_pred


before = evaluate(net, testloader)
epoch_losses = []
for epoch in range(3):  # loop over the dataset multiple times
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        if i % 6 == 5:
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 6:.3f}')
    epoch_losses.append(running_loss)
print('Finished Training')

PATH = os.path.join(tempfile.mkdtemp(), 'cifar_net.pth')
torch.save(net.state_dict(), PATH)
net2 = Net()
net2.load_state_dict(torch.load(PATH, weights_only=True))
after = evaluate(net2, testloader)
for classname, correct_count in after[2].items():
    if after[3][classname]:
        accuracy = 100 * float(correct_count) / after[3][classname]
        print(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')
'''


def test_cifar_tutorial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Custom Dataset with a transform, random_split with a Generator, shuffling DataLoader with workers: the
    shuffles differ between the libraries, so the synced start must agree exactly and both runs must learn."""
    theirs, ours = run(CIFAR_TUTORIAL, monkeypatch, "cifar")
    for key in ("split_sizes", "split_disjoint", "first_batch", "before"):
        assert_close(ours[key], theirs[key], where=key)
    assert ours["first_batch"] == ((4, 3, 32, 32), "float32", (4,), "int64")
    for ns in (ours, theirs):
        assert min(ns["epoch_losses"][1:]) < 0.85 * ns["epoch_losses"][0]
        assert ns["after"][0] >= 8 and sum(ns["after"][3].values()) == 20  # of 20 (chance: 2)


# --- 9. pytorch/examples dcgan/main.py: ConvTranspose2d generator, BCELoss, two Adam optimisers ------------------
DCGAN_EXAMPLE = r'''
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data

torch.set_default_dtype(torch.float64)
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
ngpu = 0
nz, ngf, ndf, nc = 8, 4, 4, 3
batch_size = 4
# the example draws noise with torch.randn; numpy noise lets both libraries see the same numbers
rng = np.random.default_rng(5)
images = np.tanh(rng.standard_normal((8, nc, 64, 64)))
dataset = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.zeros(8, dtype=torch.long))
dataloader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


# custom weights initialization called on netG and netD
def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, ngpu):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # state size. (ngf*8) x 4 x 4
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 8 x 8
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 16 x 16
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 32 x 32
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 64 x 64
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super(Discriminator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is (nc) x 64 x 64
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 32 x 32
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 16 x 16
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 8 x 8
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*8) x 4 x 4
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)

        return output.view(-1, 1).squeeze(1)


netG = Generator(ngpu).to(device)
netG.apply(weights_init)
netG = sync_weights(netG)
netD = Discriminator(ngpu).to(device)
netD.apply(weights_init)
netD = sync_weights(netD)
generator_repr = repr(netG)

criterion = nn.BCELoss()

fixed_noise = torch.from_numpy(rng.standard_normal((batch_size, nz, 1, 1)))
real_label = 1
fake_label = 0

# setup optimizer
optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))

log = []
for epoch in range(2):
    for i, data in enumerate(dataloader, 0):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        # train with real
        netD.zero_grad()
        real_cpu = data[0].to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label,
                           dtype=real_cpu.dtype, device=device)

        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        # train with fake
        noise = torch.from_numpy(rng.standard_normal((batch_size, nz, 1, 1))).to(device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()

        print('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
              % (epoch, 2, i, len(dataloader),
                 errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
        log.append((errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))

netG.eval()
with torch.no_grad():
    fake = netG(fixed_noise).detach().cpu()
generator_state = netG.state_dict()
discriminator_state = netD.state_dict()
'''


def test_dcgan_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """DCGAN: ConvTranspose2d/BatchNorm2d generator, LeakyReLU/Sigmoid discriminator, BCELoss, fake.detach(),
    label.fill_, two Adam optimisers; synced weights and numpy noise, so every number must agree."""
    theirs, ours = run(DCGAN_EXAMPLE, monkeypatch, "dcgan")
    for key in ("generator_repr", "log", "fake", "generator_state", "discriminator_state"):
        assert_close(ours[key], theirs[key], rtol=1e-7, atol=1e-9, where=key)


# --- 10. the PyTorch Quickstart tutorial (FashionMNIST stand-in), accelerator-style device selection -------------
QUICKSTART = r'''
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(6)
prototypes = rng.random((10, 1, 28, 28))


def fake_fashion(n):
    y = rng.integers(0, 10, n)
    return TensorDataset(torch.from_numpy(prototypes[y] + 0.4 * rng.standard_normal((n, 1, 28, 28))),
                         torch.from_numpy(y))


training_data, test_data = fake_fashion(96), fake_fashion(32)
batch_size = 16

# Create data loaders.
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    shapes = (tuple(X.shape), tuple(y.shape), y.dtype == torch.int64)
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


# Define model
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = sync_weights(NeuralNetwork().to(device))
print(model)
model_repr = repr(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 2 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
            losses.append(loss)


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    results.append((correct, test_loss))


losses, results = [], []
epochs = 3
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")

path = os.path.join(tempfile.mkdtemp(), "model.pth")
torch.save(model.state_dict(), path)
print("Saved PyTorch Model State to model.pth")

model = NeuralNetwork().to(device)
model.load_state_dict(torch.load(path, weights_only=True))

classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

model.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
'''


def test_quickstart_tutorial(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Quickstart: no shuffling or dropout, so losses, accuracies and the reloaded prediction must agree."""
    theirs, ours = run(QUICKSTART, monkeypatch, "quickstart")
    for key in ("shapes", "device", "model_repr", "losses", "results", "predicted", "actual", "pred"):
        assert_close(ours[key], theirs[key], rtol=1e-8, atol=1e-10, where=key)
    assert theirs["results"][-1][0] > 0.5  # learnt: accuracy well above chance (0.1)
