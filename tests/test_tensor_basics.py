"""Tensor creation, dtypes, devices, attributes, conversion, printing and type promotion, compared with torch."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

DT = {tg.float32: torch.float32, tg.float64: torch.float64, tg.int64: torch.int64, tg.bool: torch.bool,
      tg.int32: torch.int32, tg.float16: torch.float16, tg.uint8: torch.uint8}


def same_dtype(ours, theirs):
    assert DT[ours.dtype] == theirs.dtype, f"{ours.dtype} vs torch {theirs.dtype}"


# --- creation ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [1.5, 3, True, [1.0, 2.0], [1, 2], [True, False], [[1, 2], [3, 4]], [[1.5], [2]],
                                  [], np.float64(2.0), np.array([1, 2], np.int32), np.array([1.0], np.float64),
                                  np.array([[1.0]], np.float32)])
def test_tensor_infers_dtype_like_torch(data):
    ours, theirs = tg.tensor(data), torch.tensor(data)
    same_dtype(ours, theirs)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_tensor_copies_and_takes_dtype_and_requires_grad():
    arr = np.ones(3)
    t = tg.tensor(arr, dtype=tg.float32, requires_grad=True)
    arr[0] = 5
    assert t.dtype == tg.float32 and t.requires_grad and t.is_leaf and t.tolist() == [1.0, 1.0, 1.0]
    assert tg.tensor([1, 2], dtype=tg.float64).dtype == tg.float64
    assert tg.tensor(t).requires_grad is False  # a copy of the data, as torch.tensor(tensor)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2], requires_grad=True)


def test_from_numpy_and_as_tensor_share_memory():
    arr = np.zeros(3, np.float64)
    a, b = tg.from_numpy(arr), tg.as_tensor(arr)
    arr[1] = 7.0
    assert a.tolist()[1] == 7.0 and b.tolist()[1] == 7.0 and a.dtype == tg.float64


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_sized_creators(fn):
    for args in [(2, 3), ((2, 3),), ([4],), (0,), ((),)]:
        ours, theirs = getattr(tg, fn)(*args), getattr(torch, fn)(*args)
        assert ours.shape == tuple(theirs.shape)
        same_dtype(ours, theirs)
    t = getattr(tg, fn)(2, dtype=tg.float64, requires_grad=True)
    assert t.dtype == tg.float64 and t.requires_grad and t.is_leaf
    if fn in ("zeros", "ones"):
        np.testing.assert_array_equal(getattr(tg, fn)(2, 3).numpy(), getattr(torch, fn)(2, 3).numpy())
    with pytest.raises(RuntimeError, match="negative dimension"):
        getattr(tg, fn)(2, -1)


def test_like_creators_follow_the_input():
    x = tg.ones(2, 3, dtype=tg.float64)
    for fn in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        y = getattr(tg, fn)(x)
        assert y.shape == (2, 3) and y.dtype == tg.float64 and not y.requires_grad
    assert tg.zeros_like(x, dtype=tg.int64).dtype == tg.int64
    assert tg.ones_like(x, requires_grad=True).requires_grad
    assert tg.zeros_like(x).tolist() == [[0.0] * 3] * 2 and tg.ones_like(x).tolist() == [[1.0] * 3] * 2
    assert tg.full_like(x, 2.5).tolist() == [[2.5] * 3] * 2


@pytest.mark.parametrize("value", [1.5, 7, True])
def test_full(value):
    ours, theirs = tg.full((2, 3), value), torch.full((2, 3), value)
    same_dtype(ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tg.full((2,), 1, dtype=tg.float64).dtype == tg.float64


@pytest.mark.parametrize("args", [(5,), (2, 7), (1, 10, 3), (0.0, 1.0, 0.25), (5.0,), (-3, 3, 2), (3, 0, -1),
                                  (0, 1, 0.3)])
def test_arange(args):
    ours, theirs = tg.arange(*args), torch.arange(*args)
    same_dtype(ours, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert tg.arange(4, dtype=tg.float32).dtype == tg.float32
    with pytest.raises(RuntimeError, match="nonzero"):
        tg.arange(0, 3, 0)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2.0, 3.0, 1), (1, 1, 3), (0, 10, 0), (3, -1, 4)])
def test_linspace(args):
    ours, theirs = tg.linspace(*args), torch.linspace(*args)
    same_dtype(ours, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_eye():
    for args in [(3,), (2, 4), (4, 2), (0,)]:
        ours, theirs = tg.eye(*args), torch.eye(*args)
        same_dtype(ours, theirs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_randint():
    for args in [(5, (3,)), (2, 6, (2, 3)), (-3, 0, (100,))]:
        ours, theirs = tg.randint(*args), torch.randint(*args)
        same_dtype(ours, theirs)
        assert ours.shape == tuple(theirs.shape)
        lo, hi = (0, args[0]) if len(args) == 2 else args[:2]
        assert ours.numpy().min() >= lo and ours.numpy().max() < hi
    assert tg.randint(0, 2, (200,)).numpy().min() == 0 and tg.randint(0, 2, (200,)).numpy().max() == 1
    with pytest.raises(RuntimeError, match="from.*to"):
        tg.randint(3, 3, (2,))


def test_random_creators_distribution():
    tg.manual_seed(0)
    u = tg.rand(20000).numpy()
    n = tg.randn(20000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03


def test_manual_seed_makes_runs_reproducible():
    def run():
        tg.manual_seed(123)
        w = tg.empty(3, 4)
        with tg.no_grad():
            w.normal_(0.0, 2.0)
            b = tg.zeros(5).uniform_(-1, 1)
        return [tg.rand(3).tolist(), tg.randn(2, 2).tolist(), tg.randint(0, 10, (4,)).tolist(), w.tolist(),
                b.tolist(), tg.randperm(6).tolist()]

    first, second = run(), run()
    assert first == second
    tg.manual_seed(124)
    assert tg.rand(3).tolist() != first[0]
    assert tg.initial_seed() == 124


def test_generator_and_rng_state():
    g = tg.Generator().manual_seed(5)
    a = tg.rand(3, generator=g).tolist()
    assert tg.rand(3, generator=tg.Generator().manual_seed(5)).tolist() == a
    state = tg.get_rng_state()
    x = tg.randn(4).tolist()
    tg.set_rng_state(state)
    assert tg.randn(4).tolist() == x


def test_normal_and_uniform_fill_in_place_with_the_right_statistics():
    tg.manual_seed(1)
    w = tg.empty(200, 100)
    assert w.normal_(3.0, 0.5) is w
    assert abs(w.numpy().mean() - 3.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    w.uniform_(-2.0, -1.0)
    assert -2.0 <= w.numpy().min() and w.numpy().max() < -1.0 and w.dtype == tg.float32
    leaf = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.normal_()
    with tg.no_grad():
        leaf.uniform_()
    assert leaf.requires_grad and leaf.is_leaf


# --- dtypes --------------------------------------------------------------------------------------------------
def test_dtype_objects():
    assert tg.float32 == tg.float and tg.float64 == tg.double and tg.int64 == tg.long
    assert tg.float32 != tg.float64 and repr(tg.float32) == "tinygrad_cnn.float32"
    assert tg.float32.is_floating_point and not tg.int64.is_floating_point and tg.float64.itemsize == 8
    assert tg.get_default_dtype() == tg.float32


def test_set_default_dtype():
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.tensor([1.5]).dtype == tg.float64 and tg.zeros(2).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)
    assert tg.tensor([1.5]).dtype == tg.float32
    with pytest.raises(TypeError):
        tg.set_default_dtype(tg.int64)


def test_conversions():
    x = tg.tensor([1.7, -2.2])
    assert x.double().dtype == tg.float64 and x.float().dtype == tg.float32
    assert x.long().dtype == tg.int64 and x.long().tolist() == [1, -2]  # truncation, as torch
    assert x.to(tg.float64).dtype == tg.float64 and x.to(dtype=tg.int64).dtype == tg.int64
    assert x.to(tg.float32) is x  # no-op conversion returns self, as torch
    assert x.to(tg.ones(1, dtype=tg.float64)).dtype == tg.float64
    assert x.bool().tolist() == [True, True] and x.int().dtype == tg.int32 and x.half().dtype == tg.float16
    assert x.type(tg.float64).dtype == tg.float64


def test_conversion_is_differentiable_and_grad_keeps_input_dtype():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype == tg.float64
    y.sum().backward()
    assert x.grad.dtype == tg.float32 and x.grad.tolist() == [3.0, 3.0]
    assert x.to(tg.float64).grad_fn is not None


def test_devices():
    x = tg.ones(2)
    assert x.device == tg.device("cpu") and str(x.device) == "cpu" and x.device.type == "cpu"
    assert x.to("cpu") is x and x.cpu() is x and not x.is_cuda and x.to(x.device) is x
    assert x.to("cpu", tg.float64).dtype == tg.float64
    assert x.to(device="cpu", dtype=tg.float64).dtype == tg.float64
    assert tg.zeros(2, device="cpu").shape == (2,) and tg.tensor([1.0], device="cpu").device.type == "cpu"
    for bad in ("cuda", "cuda:0", "mps"):
        with pytest.raises(RuntimeError, match="only has the 'cpu' device"):
            x.to(bad)
        with pytest.raises(RuntimeError, match=f"{bad!r} is not available"):
            tg.zeros(2, device=bad)
        with pytest.raises(RuntimeError, match="only has the 'cpu' device"):
            x.to(tg.device(bad))
    with pytest.raises(RuntimeError, match="cpu"):
        x.cuda()


def test_device_objects_and_accelerator_queries_as_torch_without_accelerators():
    torch = pytest.importorskip("torch")
    for spec in (("cpu",), ("cuda:1",), ("cuda", 0), ("mps",), ("cpu", 0)):
        ours, theirs = tg.device(*spec), torch.device(*spec)
        assert (str(ours), repr(ours), ours.type, ours.index) == (str(theirs), repr(theirs), theirs.type,
                                                                  theirs.index)
    assert tg.device(tg.device("cuda:2")) == tg.device("cuda", 2) and tg.device("cpu") != "cpu"
    assert len({tg.device("cpu"), tg.device("cpu")}) == 1 and tg.device("cpu") != tg.device("cpu", 0)
    for bad, msg in (("foo", "Expected one of cpu"), ("cuda:x", "Invalid device"), (("cpu", -1), "negative")):
        with pytest.raises(RuntimeError, match=msg):
            tg.device(*bad) if isinstance(bad, tuple) else tg.device(bad)
        with pytest.raises(RuntimeError, match=msg):
            torch.device(*bad) if isinstance(bad, tuple) else torch.device(bad)
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert tg.backends.mps.is_available() is False and tg.backends.cudnn.benchmark is False
    assert tg.accelerator.is_available() is False and tg.accelerator.current_accelerator() is None
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")  # the usual selection line
    assert tg.nn.Linear(2, 2).to(device).weight.device == device


# --- type promotion ------------------------------------------------------------------------------------------
PROMOTION = [
    (lambda m: m.ones(2) * 2.5, "f32 * python float"),
    (lambda m: 2.5 * m.ones(2), "python float * f32"),
    (lambda m: m.ones(2) + np.float64(2.0), "f32 + numpy float64 scalar"),
    (lambda m: np.float64(2.0) * m.ones(2), "numpy float64 scalar * f32"),
    (lambda m: m.ones(2) ** 2, "f32 ** int"),
    (lambda m: 2 ** m.ones(2), "int ** f32"),
    (lambda m: m.ones(2, dtype=m.int64) * 1.5, "int tensor * float"),
    (lambda m: m.ones(2, dtype=m.int64) + 1, "int tensor + int"),
    (lambda m: m.ones(2, dtype=m.int64) / m.ones(2, dtype=m.int64), "int / int tensor"),
    (lambda m: m.ones(2, dtype=m.int64) / 2, "int / python int"),
    (lambda m: 2 / m.ones(2, dtype=m.int64), "python int / int tensor"),
    (lambda m: m.ones(2) + m.ones(2, dtype=m.float64), "f32 + f64"),
    (lambda m: m.ones(2, dtype=m.int64) + m.ones(2), "int64 + f32 tensor"),
    (lambda m: m.ones(2) + m.tensor(1.0, dtype=m.float64), "f32 + 0-d f64"),
    (lambda m: m.ones(2, dtype=m.int64) + m.tensor(1.0, dtype=m.float64), "int + 0-d f64"),
    (lambda m: m.ones(2, dtype=m.int32) + m.tensor(1), "int32 + 0-d int64"),
    (lambda m: m.ones(2, dtype=m.bool) + 1, "bool + int"),
    (lambda m: m.ones(2, dtype=m.bool) * 1.5, "bool * float"),
    (lambda m: m.ones(2, dtype=m.int64).exp(), "exp of int"),
    (lambda m: m.ones(2, dtype=m.int64).sqrt(), "sqrt of int"),
    (lambda m: m.ones(2, dtype=m.int64).sigmoid(), "sigmoid of int"),
    (lambda m: m.ones(2, dtype=m.int64) ** 0.5, "int ** float"),
    (lambda m: m.ones(2).mean(), "mean f32"),
    (lambda m: m.ones(2, 2).var(), "var f32"),
    (lambda m: m.ones(2, 2) @ m.ones(2, 2), "matmul f32"),
    (lambda m: m.where(m.ones(2) > 0, m.ones(2), 0.0), "where f32 / python float"),
    (lambda m: m.where(m.ones(2) > 0, m.ones(2, dtype=m.int64), m.ones(2)), "where int / f32"),
    (lambda m: m.cat([m.ones(2, dtype=m.int64), m.ones(2)]), "cat int / f32"),
    (lambda m: m.ones(2).clamp(0, 1), "clamp f32"),
    (lambda m: m.ones(2).maximum(m.ones(2, dtype=m.float64)), "maximum f32/f64"),
    (lambda m: m.ones(2, dtype=m.int64).clamp(0.5), "clamp int by float"),
    (lambda m: m.ones(2, dtype=m.int64).clamp(0, 1), "clamp int by int"),
    (lambda m: m.where(m.ones(2) > 0, 1.0, 0.0), "where scalar floats"),
    (lambda m: m.where(m.ones(2) > 0, 1, 0), "where scalar ints"),
    (lambda m: m.where(m.ones(2) > 0, m.ones(2, dtype=m.int64), 0.5), "where int tensor / float scalar"),
    (lambda m: m.where(m.ones(2) > 0, 2, m.ones(2, dtype=m.float64)), "where int scalar / f64 tensor"),
]


@pytest.mark.parametrize("fn,label", PROMOTION, ids=[p[1] for p in PROMOTION])
def test_type_promotion_matches_torch(fn, label):
    same_dtype(fn(tg), fn(torch))


def test_no_float64_leaks_into_float32_graphs():
    x = tg.randn(3, 4, requires_grad=True)
    w = tg.randn(4, 2, requires_grad=True)
    y = ((x @ w).tanh() * np.float64(0.5) + np.sqrt(2) - x.mean() / x.std()).sigmoid() ** 2
    y = (y.sum(1) / 3).exp().log().clamp(min=0.1).relu()
    assert y.dtype == tg.float32
    y.sum().backward()
    assert x.grad.dtype == tg.float32 and w.grad.dtype == tg.float32


# --- attributes ----------------------------------------------------------------------------------------------
def test_shape_size_ndim_numel():
    for shape in [(), (0,), (3,), (2, 3, 4)]:
        ours, theirs = tg.zeros(shape), torch.zeros(shape)
        assert ours.shape == theirs.shape and ours.size() == theirs.size()
        assert ours.ndim == theirs.ndim == ours.dim() and ours.numel() == theirs.numel()
        for d in range(-len(shape), len(shape)):
            assert ours.size(d) == theirs.size(d) and ours.shape[d] == theirs.shape[d]
    assert isinstance(tg.zeros(2, 3).shape, tuple) and repr(tg.zeros(2, 3).shape) == "tinygrad_cnn.Size([2, 3])"
    assert tg.zeros(2, 3).shape.numel() == 6
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.zeros(2, 3).size(2)


def test_autograd_attributes():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert x.is_leaf and x.grad is None and x.grad_fn is None and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn.name() == "MulBackward0"
    (node, nr), = y.grad_fn.next_functions
    assert node.name() == "AccumulateGrad" and node.variable is x and nr == 0
    z = (y + x).sum()
    assert z.grad_fn.name() == "SumBackward0"
    add_node = z.grad_fn.next_functions[0][0]
    assert add_node.name() == "AddBackward0"
    assert [n.name() for n, _ in add_node.next_functions] == ["MulBackward0", "AccumulateGrad"]
    c = tg.ones(2)
    assert c.requires_grad is False and c.requires_grad_() is c and c.requires_grad
    assert c.requires_grad_(False) is c and not c.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_grad_fn_names_match_torch():
    ops = [lambda x: x + 1, lambda x: x - x, lambda x: x * x, lambda x: x / 2, lambda x: -x, lambda x: x ** 2,
           lambda x: x.exp(), lambda x: x.log(), lambda x: x.sqrt(), lambda x: x.abs(), lambda x: x.sum(),
           lambda x: x.mean(), lambda x: x.relu(), lambda x: x.sigmoid(), lambda x: x.tanh(),
           lambda x: x.reshape(4), lambda x: x.permute(1, 0), lambda x: x.expand(3, 2, 2), lambda x: x.clone(),
           lambda x: x.maximum(x * 2), lambda x: x.minimum(x * 2), lambda x: x.amax(0), lambda x: x.view(4),
           lambda x: x.double(), lambda x: x.flatten(), lambda x: x.cos()]
    tx = torch.ones(2, 2, requires_grad=True)
    x = tg.ones(2, 2, requires_grad=True)
    for op in ops:
        assert op(x).grad_fn.name() == op(tx).grad_fn.name()


def test_new_creators_take_dtype_from_the_tensor():
    for m in (tg, torch):
        x = m.ones(2, dtype=m.float64)
        made = [x.new_zeros(2, 3), x.new_ones((4,)), x.new_full((2,), 7), x.new_tensor([1, 2]), x.new_empty(3)]
        assert [tuple(t.shape) for t in made] == [(2, 3), (4,), (2,), (2,), (3,)]
        assert all(t.dtype == m.float64 for t in made)
        assert x.new_zeros(2, dtype=m.int64).dtype == m.int64 and not x.new_ones(2).requires_grad


def test_integer_to_negative_power_raises_like_torch():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        tg.tensor([2, 3]) ** -1
    assert (tg.tensor([2, 3]) ** 2).tolist() == [4, 9]


def test_detach():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    d = x.detach()
    d.numpy()[0] = 9.0  # shares memory, as torch
    assert x.tolist()[0] == 9.0


def test_numpy_item_tolist():
    x = tg.tensor([[1.5, 2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad. Use "
                                           r"tensor.detach\(\).numpy\(\) instead."):
        x.numpy()
    assert x.detach().numpy().dtype == np.float32
    assert x.tolist() == [[1.5, 2.0]] and x[0, 0].item() == 1.5 and isinstance(x[0, 0].item(), float)
    assert isinstance(tg.tensor([3]).item(), int) and isinstance(tg.tensor(True).item(), bool)
    with pytest.raises(RuntimeError, match="2 elements"):
        x.item()
    assert float(tg.tensor(2.5)) == 2.5 and int(tg.tensor(3)) == 3
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tg.ones(2))


def test_misc_predicates():
    assert tg.is_tensor(tg.ones(1)) and not tg.is_tensor(np.ones(1)) and tg.numel(tg.ones(2, 3)) == 6
    assert tg.ones(2).is_floating_point() and not tg.ones(2, dtype=tg.int64).is_floating_point()
    assert tg.ones(2, 3).stride() == (3, 1) and tg.ones(2, 3).t().stride() == (1, 3)
    assert tg.ones(2, 3).is_contiguous() and not tg.ones(2, 3).t().is_contiguous()
    assert tg.ones(2, 3).element_size() == 4


# --- printing ------------------------------------------------------------------------------------------------
REPRS = [
    lambda m: m.tensor([1.0, 2.0, 3.0]),
    lambda m: m.tensor([1.0, 2.0, 3.0], requires_grad=True),
    lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda m: m.tensor([1.0, 2.0], requires_grad=True).sum(),
    lambda m: m.tensor([1.5, 2.0], dtype=m.float64),
    lambda m: m.tensor([1, 2]),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor([True, True]),
    lambda m: m.tensor([True]),
    lambda m: m.tensor(3.5),
    lambda m: m.tensor([[1.5, 2.0], [3.0, 4.25]]),
    lambda m: m.zeros(0, 3),
    lambda m: m.zeros(0),
    lambda m: m.tensor([1e-5, 1.0]),
    lambda m: m.tensor([0.1, -2.5]),
]


@pytest.mark.parametrize("k", range(len(REPRS)))
def test_repr_like_torch(k):
    assert repr(REPRS[k](tg)) == repr(REPRS[k](torch)).replace("torch.", "tinygrad_cnn.")


LONG_REPRS = [
    lambda m: m.arange(30.0),                            # wraps at 80 columns
    lambda m: m.arange(30.0) / 7,
    lambda m: m.arange(2000.0),                          # summarised with 3 edge items, scientific
    lambda m: m.arange(2000.0).reshape(20, 100) - 7,
    lambda m: m.arange(24.0).reshape(2, 3, 4) - 5,
    lambda m: m.arange(1001.0).reshape(7, 11, 13) / 3,
    lambda m: m.tensor([float("nan"), 1.5, float("inf")]),
    lambda m: m.tensor([1e9, 1.0]),
    lambda m: m.tensor([-1, 10, 100]),
    lambda m: m.zeros(0, dtype=m.int64),
    lambda m: m.zeros(2, 0, dtype=m.float64),
    lambda m: m.arange(40.0, requires_grad=True) * 2,
    lambda m: m.arange(24.0, dtype=m.float64).reshape(2, 3, 4) / 7,
]


@pytest.mark.parametrize("k", range(len(LONG_REPRS)))
def test_long_and_special_reprs_like_torch(k):
    import re

    def norm(s):  # "torch.float64" is shorter than "tinygrad_cnn.float64": a suffix may wrap differently
        return re.sub(r",\s+(dtype|grad_fn|requires_grad)", r", \1", s.replace("torch.", "tinygrad_cnn."))

    assert norm(repr(LONG_REPRS[k](tg))) == norm(repr(LONG_REPRS[k](torch)))


# --- the core docs stay true ----------------------------------------------------------------------------------
DOCS = __import__("pathlib").Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page", ["tensor.md", "autograd.md", "gradcheck.md", "higher_order.md", "linalg.md"])
def test_core_doc_examples_run(page):
    import re

    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)
    assert blocks
    scope = {"__name__": "__docs__"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"docs/{page} block {i}", "exec"), scope)


def test_docs_index_links_every_page():
    import re

    linked = set(re.findall(r"\]\(([\w-]+\.md)\)", (DOCS / "index.md").read_text()))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert pages <= linked, f"docs pages missing from docs/index.md: {sorted(pages - linked)}"


def test_type_as_and_isclose_like_torch():
    for m in (tg, pytest.importorskip("torch")):
        assert m.arange(3).type_as(m.ones(1, dtype=m.float64)).dtype == m.float64
        assert m.ones(2).type_as(m.tensor([1])).dtype == m.int64
        a = m.tensor([1.0, float("nan"), 1e-9, 100.0])
        b = m.tensor([1.0 + 1e-7, float("nan"), 0.0, 100.01])
        assert m.isclose(a, b).tolist() == [True, False, True, False]
        assert a.isclose(b, equal_nan=True, rtol=1e-3).tolist() == [True, True, True, True]
