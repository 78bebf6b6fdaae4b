"""nn.ParameterList / nn.ParameterDict against torch: registration, state_dict keys, container API, repr."""
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _build(lib):
    """The same module in either library: a list with tensors and a non-tensor, a dict from a plain dict."""
    nn = lib.nn
    m = nn.Module()
    m.pl = nn.ParameterList([lib.ones(2, 3), nn.Parameter(lib.zeros(4, dtype=lib.float64)), "x"])
    m.pd = nn.ParameterDict({"b": lib.zeros(1), "a": nn.Parameter(lib.ones(2, 2), requires_grad=False)})
    return m


def _same_repr(ours, theirs):
    assert repr(ours).replace("tinygrad_cnn.", "torch.") == repr(theirs)


def test_registration_state_dict_and_repr_match_torch():
    ours, theirs = _build(tg), _build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["pl.0", "pl.1", "pd.a", "pd.b"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [p.requires_grad for p in ours.parameters()] == [p.requires_grad for p in theirs.parameters()]
    assert all(isinstance(p, tg.nn.Parameter) for p in ours.parameters())
    _same_repr(ours, theirs)
    _same_repr(tg.nn.ParameterList(), torch.nn.ParameterList())
    _same_repr(tg.nn.ParameterDict(), torch.nn.ParameterDict())


def test_parameters_reach_the_optimizer_and_get_grads():
    pl = tg.nn.ParameterList([tg.ones(3), tg.ones(3)])
    (pl[0] * 2 + pl[1] * 3).sum().backward()
    np.testing.assert_array_equal(pl[0].grad.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(pl[1].grad.numpy(), [3, 3, 3])
    opt = tg.optim.SGD(pl.parameters(), lr=1.0)
    opt.step()
    np.testing.assert_array_equal(pl[1].detach().numpy(), [-2, -2, -2])


def test_tensor_shares_memory_with_its_parameter():
    t = tg.zeros(2)
    pl = tg.nn.ParameterList([t])
    t.add_(1)
    np.testing.assert_array_equal(pl[0].detach().numpy(), [1, 1])


def _list_ops(lib):
    pl = lib.nn.ParameterList([lib.ones(1) * i for i in range(4)])
    pl.append(lib.ones(2))
    pl.extend([lib.ones(3)])
    pl += [lib.ones(4)]
    pl[-1] = lib.zeros(5)
    sliced = pl[1:6:2]
    return (len(pl), [tuple(p.shape) for p in pl], len(sliced), [float(p.detach().sum()) for p in sliced],
            list(pl.state_dict()), [k for k in dir(pl) if k.isdigit()])


def test_list_api_matches_torch():
    assert _list_ops(tg) == _list_ops(torch)


def test_list_errors_match_torch():
    for lib in (tg, torch):
        pl = lib.nn.ParameterList([lib.ones(1)])
        with pytest.raises(IndexError, match="index 1 is out of range"):
            pl[1]
        with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got"):
            pl.extend(lib.ones(2))
        with pytest.raises(RuntimeError, match="ParameterList should not be called."):
            pl(lib.ones(1))


def _dict_ops(lib):
    nn = lib.nn
    pd = nn.ParameterDict(OrderedDict([("z", lib.ones(1)), ("y", lib.ones(2))]))
    pd.update([("x", lib.ones(3)), ("w", 7)])
    pd.update({"v": lib.ones(4), "u": lib.ones(5)})  # a plain dict is inserted sorted
    pd["t"] = lib.ones(6)
    order1 = list(pd.keys())
    popped = pd.pop("y")
    k, _ = pd.popitem()
    default = pd.setdefault("s", lib.ones(7))
    copy = pd.copy()
    merged = pd | nn.ParameterDict({"r": lib.ones(8)})
    del pd["z"]
    return (order1, tuple(popped.shape), k, type(default).__name__, list(copy), list(merged), list(pd),
            list(reversed(pd)), "x" in pd, pd.get("nope", 3), list(pd.state_dict()), len(pd),
            list(nn.ParameterDict().fromkeys(["a", "b"]).keys()))


def test_dict_api_matches_torch():
    assert _dict_ops(tg) == _dict_ops(torch)


def test_dict_errors_match_torch():
    for lib in (tg, torch):
        pd = lib.nn.ParameterDict()
        with pytest.raises(TypeError, match="not a string"):
            pd[1]
        with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
            pd.update([("a", 1, 2)])
        with pytest.raises(TypeError, match="should be called with an iterable"):
            pd.update(3)
        with pytest.raises(KeyError):
            pd.popitem()
        with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
            pd(lib.ones(1))


def test_load_state_dict_round_trip_from_torch():
    ours, theirs = _build(tg), _build(torch)
    for p in theirs.parameters():
        p.data.uniform_()
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for (n1, a), (n2, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
