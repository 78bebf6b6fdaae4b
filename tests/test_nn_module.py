"""nn.Module system against real torch: registration, naming, state_dict, errors, repr, modes, hooks, containers."""
from __future__ import annotations

import copy
import re
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")


def _msg(excinfo) -> str:
    return str(excinfo.value).replace("tinygrad_cnn.Size", "torch.Size")


def _raises_like_torch(fn_tg, fn_torch, exc=Exception, normalise=lambda s: s):
    """Both calls raise the same exception type with the same message (after normalising names)."""
    with pytest.raises(exc) as ours:
        fn_tg()
    with pytest.raises(exc) as theirs:
        fn_torch()
    assert type(ours.value) is type(theirs.value)
    assert normalise(_msg(ours)) == normalise(str(theirs.value))


def lenet(lib, bn: bool = True):
    """The same LeNet-like architecture in either library (constructors only; no forward needed here)."""
    n = lib.nn

    class Net(n.Module):
        def __init__(self):
            super().__init__()
            self.features = n.Sequential(n.Conv2d(1, 6, 5, padding=2), n.BatchNorm2d(6) if bn else n.Identity(),
                                         n.ReLU(), n.MaxPool2d(2), n.Conv2d(6, 16, 5), n.ReLU(), n.AvgPool2d(2))
            self.classifier = n.Sequential(OrderedDict([("fc1", n.Linear(400, 120)), ("act", n.Tanh()),
                                                        ("drop", n.Dropout(0.3)), ("fc2", n.Linear(120, 10))]))
            self.head_bn = n.BatchNorm1d(10, momentum=None)

    return Net()


# --- registration ------------------------------------------------------------------------------------------------
def test_setattr_registers_parameters_modules_and_buffers():
    m = nn.Module()
    m.w = nn.Parameter(tg.ones(3))
    m.child = nn.Linear(2, 2)
    m.register_buffer("stat", tg.zeros(2))
    m.plain = tg.zeros(1)  # a plain Tensor attribute is not registered (as torch)
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"] and list(m._buffers) == ["stat"]
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_buffers()] == ["stat"]
    assert "plain" not in m.state_dict() and "stat" in m.state_dict()
    m.stat = tg.ones(2)  # re-assigning a buffer name keeps it a buffer
    assert m._buffers["stat"]._data.tolist() == [1.0, 1.0]
    m.w = None
    assert m.w is None and list(m.state_dict()) == ["stat", "child.weight", "child.bias"]
    del m.child
    assert "child" not in m._modules and not hasattr(m, "child")


def test_buffer_class_and_non_persistent():
    m = nn.Module()
    m.a = nn.Buffer(tg.zeros(2))
    m.b = nn.Buffer(tg.zeros(2), persistent=False)
    assert type(m.a) is tg.Tensor and set(m._buffers) == {"a", "b"}
    assert list(m.state_dict()) == ["a"]
    tm = torch.nn.Module()
    tm.a = torch.nn.Buffer(torch.zeros(2))
    tm.b = torch.nn.Buffer(torch.zeros(2), persistent=False)
    assert list(tm.state_dict()) == list(m.state_dict())


@pytest.mark.parametrize("case", ["tensor_to_param", "param_before_init", "register_before_init", "buffer_before_init",
                                  "dotted_param", "empty_buffer", "existing_attr", "module_to_non_module",
                                  "buffer_non_tensor", "add_non_module"])
def test_registration_errors_match_torch(case):
    def make(lib):
        class Early(lib.nn.Module):
            def __init__(self, how):
                if how == "set":
                    self.w = lib.nn.Parameter(lib.ones(1))
                elif how == "reg":
                    self.register_parameter("w", lib.nn.Parameter(lib.ones(1)))
                else:
                    self.register_buffer("b", lib.ones(1))

        m = lib.nn.Module()
        m.w = lib.nn.Parameter(lib.ones(2))
        m.sub = lib.nn.Identity()
        m.register_buffer("buf", lib.zeros(1))
        m.attr = 3
        return {
            "tensor_to_param": lambda: setattr(m, "w", lib.ones(2)),
            "param_before_init": lambda: Early("set"),
            "register_before_init": lambda: Early("reg"),
            "buffer_before_init": lambda: Early("buf"),
            "dotted_param": lambda: m.register_parameter("a.b", lib.nn.Parameter(lib.ones(1))),
            "empty_buffer": lambda: m.register_buffer("", lib.ones(1)),
            "existing_attr": lambda: m.register_buffer("attr", lib.ones(1)),
            "module_to_non_module": lambda: setattr(m, "sub", 5),
            "buffer_non_tensor": lambda: m.register_buffer("x", 5),
            "add_non_module": lambda: m.add_module("x", 5),
        }[case]

    norm = lambda s: re.sub(r"'[\w.]*(Tensor|FloatTensor)'", "'TENSOR'", s)  # noqa: E731 - type names differ
    _raises_like_torch(make(tg), make(torch), normalise=norm)


def test_getattr_error_and_get_submodule():
    m = lenet(tg)
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        m.nope
    assert m.get_submodule("features.0") is m.features[0]
    assert m.get_parameter("classifier.fc2.bias") is m.classifier.fc2.bias
    assert m.get_buffer("head_bn.running_var") is m.head_bn.running_var
    t = lenet(torch)
    _raises_like_torch(lambda: m.get_submodule("features.9"), lambda: t.get_submodule("features.9"))
    _raises_like_torch(lambda: m.get_submodule("features.0.weight"), lambda: t.get_submodule("features.0.weight"))
    _raises_like_torch(lambda: m.get_parameter("head_bn.running_var"), lambda: t.get_parameter("head_bn.running_var"))


# --- naming and iteration ----------------------------------------------------------------------------------------
def test_names_and_shapes_match_torch():
    ours, theirs = lenet(tg), lenet(torch)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()]
    assert [k for k, _ in ours.named_modules()] == [k for k, _ in theirs.named_modules()]
    assert [k for k, _ in ours.named_children()] == [k for k, _ in theirs.named_children()]
    assert [k for k, _ in ours.named_parameters(prefix="net", recurse=True)] == \
           [k for k, _ in theirs.named_parameters(prefix="net")]
    assert list(ours.features[1].named_parameters(recurse=False)) != []
    assert list(ours.named_parameters(recurse=False)) == []
    assert ours.state_dict()["features.1.num_batches_tracked"].dtype == tg.int64


def test_shared_parameters_and_modules_deduplicated():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    tlin = torch.nn.Linear(3, 3)
    tseq = torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    assert [k for k, _ in seq.named_parameters()] == [k for k, _ in tseq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == len(list(tseq.modules())) == 3
    assert list(seq.state_dict()) == list(tseq.state_dict())  # state_dict lists a shared module under each name
    assert [k for k, _ in seq.named_parameters(remove_duplicate=False)] == \
           [k for k, _ in tseq.named_parameters(remove_duplicate=False)]
    tied = nn.Module()
    tied.a, tied.b = nn.Linear(2, 2), nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert len(list(tied.parameters())) == 3


# --- state_dict --------------------------------------------------------------------------------------------------
def test_state_dict_round_trip_and_sharing():
    a, b = lenet(tg), lenet(tg)
    sd = a.state_dict()
    assert sd["features.0.weight"]._data is a.features[0].weight._data  # detached views, as in torch
    assert not sd["features.0.weight"].requires_grad
    assert a.state_dict(keep_vars=True)["features.0.weight"] is a.features[0].weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (k, v), (k2, w) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2 and np.array_equal(v._data, w._data) and v._data is not w._data
    w_id = id(b.features[0].weight)
    b.load_state_dict({k: v._data.astype(np.float64) for k, v in sd.items()})  # numpy arrays accepted, dtype kept
    assert id(b.features[0].weight) == w_id and b.features[0].weight.dtype == tg.float32


def test_load_state_dict_errors_match_torch():
    ours, theirs = lenet(tg), lenet(torch)
    sd_t = theirs.state_dict()
    sd_ours = ours.state_dict()
    bad_t = OrderedDict(sd_t)
    bad_o = OrderedDict(sd_ours)
    for d in (bad_t, bad_o):
        del d["features.1.running_var"]
        del d["classifier.fc2.bias"]
    bad_t["extra.weight"] = torch.zeros(1)
    bad_o["extra.weight"] = tg.zeros(1)
    bad_t["features.bogus"] = torch.zeros(1)
    bad_o["features.bogus"] = tg.zeros(1)
    bad_t["classifier.fc1.weight"] = torch.zeros(120, 399)
    bad_o["classifier.fc1.weight"] = tg.zeros(120, 399)
    _raises_like_torch(lambda: ours.load_state_dict(bad_o), lambda: theirs.load_state_dict(bad_t), RuntimeError)
    # strict=False: shape errors still raise; without them the named tuple reports the keys
    del bad_t["classifier.fc1.weight"], bad_o["classifier.fc1.weight"]
    r_o = ours.load_state_dict(bad_o, strict=False)
    r_t = theirs.load_state_dict(bad_t, strict=False)
    assert r_o.missing_keys == r_t.missing_keys and r_o.unexpected_keys == r_t.unexpected_keys
    assert repr(r_o) == repr(r_t)
    _raises_like_torch(lambda: ours.load_state_dict([1]), lambda: theirs.load_state_dict([1]), TypeError,
                       normalise=lambda s: s)
    assert "features.1.running_var" in r_o.missing_keys


def test_load_state_dict_non_tensor_value_and_assign():
    m = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias", expected torch.Tensor'):
        m.load_state_dict({"weight": tg.zeros(3, 2), "bias": [1, 2, 3]})
    new_w = tg.ones(3, 2, dtype=tg.float64)
    m.load_state_dict({"weight": new_w, "bias": tg.zeros(3)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad and m.weight.dtype == tg.float64


def test_load_torch_tensors_directly():
    ours, theirs = lenet(tg), lenet(torch)
    ours.load_state_dict(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k]._data, v.numpy())


# --- modes, grads, conversion ------------------------------------------------------------------------------------
def test_train_eval_propagates():
    m = lenet(tg)
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m and not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")


def test_zero_grad_requires_grad_and_apply():
    m = nn.Linear(3, 2)
    for p in m.parameters():
        p.grad = tg.ones(*p.shape)
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and np.all(g._data == 0)
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    net = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    assert net.apply(lambda mod: seen.append(type(mod).__name__)) is net
    tseen = []
    torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sequential(torch.nn.ReLU())).apply(
        lambda mod: tseen.append(type(mod).__name__))
    assert seen == tseen  # children first, then the parent


def test_dtype_conversion_keeps_parameter_identity():
    m = lenet(tg)
    w = m.features[0].weight
    w.grad = tg.ones(*w.shape)
    assert m.double() is m
    assert m.features[0].weight is w and w.dtype == tg.float64 and w.grad.dtype == tg.float64
    assert m.features[1].running_mean.dtype == tg.float64
    assert m.features[1].num_batches_tracked.dtype == tg.int64  # integer buffers are left alone
    m.to(tg.float32)
    assert w.dtype == tg.float32 and m.to("cpu") is m and m.cpu() is m
    m.to(tg.zeros(1, dtype=tg.float64))
    assert w.dtype == tg.float64
    m.float()
    assert w.dtype == tg.float32
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(tg.int64)
    with pytest.raises(RuntimeError, match="cuda"):
        m.to("cuda")


def test_deepcopy_is_independent():
    m = lenet(tg)
    m2 = copy.deepcopy(m)
    assert isinstance(m2.features[0].weight, nn.Parameter) and m2.features[0].weight.requires_grad
    m2.features[0].weight._data[...] = 0
    assert not np.all(m.features[0].weight._data == 0)
    assert list(m2.state_dict()) == list(m.state_dict())


def test_pickle_after_backward():
    import pickle

    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m(tg.randn(4, 3)).sum().backward()  # parameters now carry graph plumbing that must not be pickled
    m2 = pickle.loads(pickle.dumps(m))
    assert isinstance(m2[0].weight, nn.Parameter) and m2[0].weight.requires_grad and m2[0].weight.grad is None
    assert all(np.array_equal(a._data, b._data) for a, b in zip(m.state_dict().values(), m2.state_dict().values()))
    m2(tg.randn(4, 3)).sum().backward()
    assert m2[0].weight.grad is not None


# --- hooks and calling -------------------------------------------------------------------------------------------
class Double(nn.Module):
    def forward(self, x, scale=1.0):
        return x * 2 * scale


def test_forward_hooks_modify_and_remove():
    m = Double()
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 10)
    h3 = m.register_forward_hook(lambda mod, args, out: calls.append((args[0].item(), out.item())))
    assert m(tg.tensor(1.0)).item() == 40.0  # (1 + 1) * 2 * 10
    assert calls == [(2.0, 40.0)]
    h2.remove()
    h2.remove()  # removing twice is harmless
    assert m(tg.tensor(1.0)).item() == 4.0
    h1.remove()
    h3.remove()
    assert m(tg.tensor(1.0)).item() == 2.0 and len(calls) == 2
    with m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": 3.0}), with_kwargs=True):
        assert m(tg.tensor(1.0)).item() == 6.0
    assert m(tg.tensor(1.0)).item() == 2.0


def test_hook_order_prepend_and_always_call():
    m = Double()
    order = []
    m.register_forward_hook(lambda *a: order.append("a"))
    m.register_forward_hook(lambda *a: order.append("b"), prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("kw", kwargs)), with_kwargs=True)
    m(tg.tensor(1.0), scale=2.0)
    assert order == ["b", "a", ("kw", {"scale": 2.0})]
    bad = nn.Module()  # forward missing: the always_call hook still runs
    seen = []
    bad.register_forward_hook(lambda *a: seen.append(1), always_call=True)
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        bad(tg.ones(1))
    assert seen == [1]


def test_call_records_module_on_nodes():
    from tinygrad_cnn.autograd import recording

    m = Double()
    out = m(tg.ones(2, requires_grad=True))
    assert out.grad_fn.metadata.get("modules") == (m,)
    assert recording.current_modules() == ()


# --- containers --------------------------------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_mutation():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"] and sub[0] is b
    s.append(nn.Identity())
    assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is c
    s[0] = b
    assert s[0] is b
    with pytest.raises(IndexError, match="index 5 is out of range"):
        s[5]
    named = nn.Sequential(OrderedDict([("conv", nn.Identity()), ("act", nn.ReLU())]))
    assert list(named._modules) == ["conv", "act"] and named.act is named[1]
    assert s.forward is not None and nn.Sequential(nn.Identity(), Double())(tg.tensor(3.0)).item() == 6.0
    s.insert(0, nn.Identity())
    assert isinstance(s[0], nn.Identity) and len(s) == 4
    assert len(s + named) == 6 and len(named * 2) == 4


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    assert len(ml) == 5 and isinstance(ml[-1], nn.Tanh) and isinstance(ml[1:3], nn.ModuleList)
    assert len(list(ml.parameters())) == 6
    md = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(1, 1)})
    md["c"] = nn.Tanh()
    assert list(md) == ["a", "b", "c"] and "b" in md and list(md.keys()) == ["a", "b", "c"]
    assert [k for k, _ in md.named_parameters()] == ["b.weight", "b.bias"]
    assert md.pop("a") is not None and len(md) == 2
    tml = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU(), torch.nn.Tanh()])
    assert repr(ml) == repr(tml)  # runs of equal children are folded: "(0-2): 3 x Linear(...)"
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    tmd = torch.nn.ModuleDict({"b": torch.nn.Linear(1, 1), "c": torch.nn.Tanh()})
    assert repr(md) == repr(tmd)
    with pytest.raises(NotImplementedError):
        ml(tg.ones(1))


# --- printing ----------------------------------------------------------------------------------------------------
def test_repr_matches_torch_for_every_layer():
    def build(lib):
        n = lib.nn
        return n.Sequential(
            n.Conv2d(1, 6, 5, padding=2), n.Conv2d(3, 4, (3, 5), stride=2, padding=(1, 2), dilation=2, bias=False,
                                                   padding_mode="reflect"),
            n.Conv2d(4, 4, 3, padding="same", groups=2), n.BatchNorm2d(6),
            n.BatchNorm1d(3, affine=False, momentum=None),
            n.LayerNorm(5), n.LayerNorm([2, 3], elementwise_affine=False), n.ReLU(), n.ReLU(inplace=True),
            n.MaxPool2d(2), n.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True), n.AvgPool2d(2),
            n.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), n.LPPool2d(2, 2),
            n.LPPool2d(1.5, (2, 3), stride=1, ceil_mode=True), n.AdaptiveAvgPool2d((1, 1)), n.AdaptiveMaxPool2d(1),
            n.Flatten(), n.Unflatten(1, (2, 3)), n.Linear(6, 10, bias=False), n.Identity(), n.Dropout(),
            n.Dropout2d(0.2), n.LeakyReLU(), n.LeakyReLU(0.2, True), n.ELU(), n.ELU(alpha=0.5), n.GELU(),
            n.GELU("tanh"), n.Sigmoid(), n.Tanh(), n.Softplus(), n.Softplus(2, 10), n.SiLU(), n.Softmax(1),
            n.Softmax(), n.LogSoftmax(dim=1), n.CrossEntropyLoss(), n.NLLLoss(), n.MSELoss(), n.L1Loss(),
            n.BCELoss(), n.BCEWithLogitsLoss(), n.SmoothL1Loss(), n.ModuleList([n.ReLU()]),
            n.ModuleDict({"a": n.ReLU()}), lenet(lib))

    assert repr(build(tg)) == repr(build(torch))


def test_parameter_repr_and_sharing():
    t = tg.tensor([1.5, 2.25])
    p = nn.Parameter(t)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.5, 2.25])))
    frozen = nn.Parameter(tg.tensor([1.0], dtype=tg.float64), requires_grad=False)
    assert repr(frozen).replace("tinygrad_cnn", "torch") == \
        repr(torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64), requires_grad=False))
    assert repr(nn.Parameter()) == repr(torch.nn.Parameter())
    assert p._data is t._data and p.is_leaf and p.requires_grad and not t.requires_grad
    assert type(p * 2) is tg.Tensor and type(p.detach()) is tg.Tensor
