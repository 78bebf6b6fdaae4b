"""The model zoo: shapes, parameter counts and state_dict keys equal to the same nets written in torch, torch
weights loading (same outputs), LeNet-5's C3 connection table, get_model errors."""
import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import models

torch = pytest.importorskip("torch")
tnn = torch.nn


def torch_lenet5():
    return tnn.Sequential(tnn.Conv2d(1, 6, 5), tnn.ReLU(), tnn.AvgPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(),
                          tnn.AvgPool2d(2), tnn.Conv2d(16, 120, 5), tnn.ReLU(), tnn.Flatten(), tnn.Linear(120, 10),
                          tnn.LogSoftmax(dim=1))


def torch_annt_cifar():
    layers = []
    for cin, cout in ((3, 32), (32, 32), (32, 64)):
        layers += [tnn.Conv2d(cin, cout, 5, padding="same"), tnn.MaxPool2d(2), tnn.ReLU(), tnn.BatchNorm2d(cout)]
    return tnn.Sequential(*layers, tnn.Flatten(), tnn.Linear(1024, 64), tnn.ReLU(), tnn.BatchNorm1d(64),
                          tnn.Linear(64, 10), tnn.LogSoftmax(dim=1))


def torch_kajda():
    return tnn.Sequential(tnn.Conv2d(1, 1, 2, stride=3), tnn.Flatten(), tnn.Linear(81, 30), tnn.LeakyReLU(),
                          tnn.Linear(30, 20), tnn.LeakyReLU(), tnn.Linear(20, 10))


class TorchExampleNet(tnn.Module):  # pytorch/examples mnist/main.py
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 32, 3, 1)
        self.conv2 = tnn.Conv2d(32, 64, 3, 1)
        self.dropout1 = tnn.Dropout(0.25)
        self.dropout2 = tnn.Dropout(0.5)
        self.fc1 = tnn.Linear(9216, 128)
        self.fc2 = tnn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        x = self.dropout1(torch.nn.functional.max_pool2d(x, 2))
        x = self.dropout2(torch.relu(self.fc1(torch.flatten(x, 1))))
        return torch.nn.functional.log_softmax(self.fc2(x), dim=1)


CASES = {  # name: (torch builder, input shape)
    "annt-lenet5": (torch_lenet5, (3, 1, 32, 32)),
    "annt-cifar": (torch_annt_cifar, (3, 3, 32, 32)),
    "kajda-mnist": (torch_kajda, (3, 1, 28, 28)),
    "torch-example-mnist": (TorchExampleNet, (2, 1, 28, 28)),
}


def _load_torch_weights(ours, theirs):
    """Copy torch's weights into ours (LeNet-5: torch's C3 weights outside the table are zeroed first)."""
    sd = theirs.state_dict()
    if "3.weight" in sd and "3.connection_table" in ours.state_dict():
        table = torch.from_numpy(ours.state_dict()["3.connection_table"].numpy())
        with torch.no_grad():
            theirs[3].weight[~table] = 0
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_keys_shapes_and_parameter_count_match_torch(name):
    build_torch, _ = CASES[name]
    ours, theirs = models.get_model(name).state_dict(), build_torch().state_dict()
    extra = {k for k in ours if k.endswith("connection_table")}   # our one extra buffer (LeNet-5's C3 wiring)
    assert set(ours) - extra == set(theirs)
    for key, value in theirs.items():
        assert tuple(ours[key].shape) == tuple(value.shape), key
    n_ours = sum(p.numel() for p in models.get_model(name).parameters())
    assert n_ours == sum(p.numel() for p in build_torch().parameters())


@pytest.mark.parametrize("name", list(CASES))
def test_outputs_equal_torch_with_torch_weights(name):
    build_torch, shape = CASES[name]
    torch.manual_seed(0)
    theirs, ours = build_torch().eval(), models.get_model(name).eval()
    _load_torch_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with tg.no_grad():
        got = ours(tg.tensor(x)).numpy()
    assert got.shape == expected.shape == (shape[0], 10)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_lenet5_c3_respects_the_connection_table():
    tg.manual_seed(0)
    net = models.annt_lenet5()
    c3 = net[3]
    table = c3.connection_table.numpy().astype(bool)          # (16 outputs, 6 inputs)
    assert table.shape == (16, 6) and table.sum() == 60          # LeCun 1998, table I: 60 connections
    weight = c3.weight.detach().numpy()                          # (16, 6, 5, 5)
    assert np.all(weight[~table] == 0) and np.all(np.abs(weight[table]).sum(axis=(-1, -2)) > 0)
    # an output map does not change when an input map it is not connected to changes
    x = tg.randn(1, 6, 14, 14)
    x2 = x.clone()
    x2[:, 0] += 5.0
    with tg.no_grad():
        diff = (c3(x2) - c3(x)).abs().amax(dim=(0, 2, 3)).numpy()
    assert np.all(diff[~table[:, 0]] == 0) and np.all(diff[table[:, 0]] > 0)
    # ... and training keeps the disconnected weights at zero
    opt = tg.optim.SGD(net.parameters(), lr=0.1)
    loss = tg.nn.functional.nll_loss(net(tg.randn(4, 1, 32, 32)), tg.tensor([0, 1, 2, 3]))
    loss.backward()
    opt.step()
    assert np.all(c3.weight.detach().numpy()[~table] == 0)


def test_get_model_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        models.get_model("lenet-7")
    for name in models.list_models():
        assert name in str(info.value)
    with pytest.raises(ValueError, match="annt-lenet5"):
        models.get_recipe("nope")


def test_get_model_accepts_underscores_and_gives_fresh_models():
    a, b = models.get_model("annt_lenet5"), models.get_model("annt-lenet5")
    assert a is not b and a[0].weight is not b[0].weight


def test_recipes_match_their_models_input_size():
    for name in models.list_models():
        recipe = models.get_recipe(name)
        out = models.get_model(name).eval()(tg.zeros(2, *recipe.input_size))
        assert tuple(out.shape) == (2, 10)
        assert recipe.loss in ("nll_loss", "cross_entropy") and recipe.lr > 0 and recipe.batch_size > 0


@pytest.mark.parametrize("name", ["annt-lenet5", "annt-cifar"])
def test_annt_models_use_annts_initialisation(name):
    """ANNT's Randomize(): weights uniform in +-sqrt(3 / fan_in), biases zero (torch's default differs)."""
    tg.manual_seed(0)
    for key, value in models.get_model(name).state_dict().items():
        v = value.numpy()
        if key.endswith("weight") and v.ndim >= 2:
            bound = np.sqrt(3.0 / np.prod(v.shape[1:]))
            live = v[v != 0]                                  # C3's absent connections are exactly zero
            assert np.abs(v).max() <= bound and np.abs(live).max() > 0.9 * bound, key
            assert abs(live.std() - bound / np.sqrt(3)) < 0.2 * bound / np.sqrt(3), key
        elif key.endswith("bias"):                            # conv / linear (and BatchNorm's beta)
            assert np.all(v == 0), key
