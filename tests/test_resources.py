"""Resources: the graph is freed after backward, training does not grow memory, no_grad records nothing.

(Atomic checkpoint writes and bit-exact resume after Ctrl-C are tested in test_checkpoint_resume.py and
test_serialization.py; here only what they do not cover: a truncated *training* checkpoint.)
"""
from __future__ import annotations

import gc
import tracemalloc
import weakref
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd.function import AccumulateGrad, Context

nn = tg.nn
F = tg.nn.functional


def small_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * 2 * 2, 5))


def graph_nodes(root: Any) -> list:
    """Every Context reachable from root (explicit stack), AccumulateGrad leaves excluded."""
    seen, stack, out = set(), [root], []
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, Context):
            out.append(n)
        stack.extend(nxt for nxt, _ in n._edges)
    return out


@pytest.fixture
def gc_off():
    """Reference counting alone must free the graph: no reference cycles allowed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_graph_freed_after_backward_and_dropping_the_loss(gc_off: None) -> None:
    tg.manual_seed(0)
    net = small_cnn()
    x, t = tg.randn(4, 1, 8, 8), tg.tensor([0, 1, 4, 2])
    loss = F.cross_entropy(net(x), t)
    nodes = graph_nodes(loss.grad_fn)
    assert len(nodes) > 10  # a real graph: conv, batch norm (one node), pool, linear, loss ...
    refs = [weakref.ref(n) for n in nodes]
    del nodes
    loss.backward()
    assert all(r() is None or r()._saved is None for r in refs)  # saved arrays go at once
    del loss
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} nodes survive, e.g. {alive[0].name()}"
    assert all(p.grad is not None for p in net.parameters())


def test_graph_freed_when_dropped_without_backward(gc_off: None) -> None:
    net = small_cnn()
    out = net(tg.randn(2, 1, 8, 8)).sum()
    refs = [weakref.ref(n) for n in graph_nodes(out.grad_fn)]
    del out
    assert all(r() is None for r in refs)


def test_retain_graph_keeps_it_until_dropped(gc_off: None) -> None:
    x = tg.randn(3, requires_grad=True)
    y = (x.exp() * x).sum()
    refs = [weakref.ref(n) for n in graph_nodes(y.grad_fn)]
    y.backward(retain_graph=True)
    assert all(r() is not None and r()._saved is not None for r in refs)
    y.backward()
    xa = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(xa) * (1 + xa), rtol=1e-5)
    del y
    assert all(r() is None for r in refs)


def test_no_grad_builds_no_graph(monkeypatch: Any) -> None:
    """Under no_grad no node is made (each op runs on a throwaway ctx), nothing points back to a node, and nothing
    is saved."""
    from tinygrad_cnn.autograd import function

    live: weakref.WeakSet = weakref.WeakSet()
    created, unrecorded = [0], [0]
    real_init, real_scratch = Context.__init__, function._Unrecorded.__init__

    def counting_init(self: Context, fn: type) -> None:
        real_init(self, fn)
        live.add(self)
        created[0] += 1

    def counting_scratch(self: Any, n: int) -> None:
        real_scratch(self, n)
        unrecorded[0] += 1

    monkeypatch.setattr(Context, "__init__", counting_init)
    monkeypatch.setattr(function._Unrecorded, "__init__", counting_scratch)
    net = small_cnn()
    x = tg.randn(2, 1, 8, 8, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        with tg.no_grad():
            out = F.cross_entropy(net(x), tg.tensor([0, 1]))
            assert unrecorded[0] > 10  # the ops ran ...
            assert created[0] == 0 and len(live) == 0  # ... and made no node
    finally:
        gc.enable()
    assert out.grad_fn is None and not out.requires_grad
    created[0] = 0
    out = F.cross_entropy(net(x), tg.tensor([0, 1]))  # with grad: the nodes stay, held by the output
    assert out.grad_fn is not None and len(live) == created[0] > 10


def test_no_grad_creates_no_leaf_accumulators() -> None:
    net = small_cnn()
    with tg.no_grad():
        net(tg.randn(2, 1, 8, 8)).sum()
    assert all(p.grad is None and p._accumulator is None for p in net.parameters())
    net(tg.randn(2, 1, 8, 8)).sum()  # with grad: each parameter gets its AccumulateGrad node
    assert all(isinstance(p._accumulator, AccumulateGrad) for p in net.parameters())


def test_training_memory_does_not_grow() -> None:
    """1 000 SGD steps of a small CNN hold no more memory at the end than after warming up.

    Two measures: live Python memory blocks over steps 200..1000 (cheap, the whole run), and tracemalloc's traced
    bytes over steps 700..1000 (tracing costs ~4x, so only the last part is traced), for memory allocated by
    tinygrad_cnn lines and in total. One forgotten graph per step would add ~150 blocks and ~10 kB per step;
    numpy's own caches settle at a few hundred blocks, and now and then a one-off block of a few hundred kB.
    """
    import sys

    tg.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 2 * 2, 3))
    opt = tg.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x, t = tg.randn(2, 1, 6, 6), tg.tensor([0, 2])
    losses = []

    def step() -> None:
        opt.zero_grad()
        loss = F.cross_entropy(net(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    for _ in range(200):
        step()
    gc.collect()
    blocks = sys.getallocatedblocks()
    for _ in range(400):
        step()
    tracemalloc.start()
    try:
        for _ in range(100):
            step()
        gc.collect()
        before = tracemalloc.take_snapshot()
        for _ in range(300):
            step()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ours = [tracemalloc.Filter(True, "*tinygrad_cnn*")]
    grown = sum(d.size_diff for d in after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename"))
    grown_total = sum(d.size_diff for d in after.compare_to(before, "filename"))
    del before, after, ours
    gc.collect()
    extra_blocks = sys.getallocatedblocks() - blocks
    assert len(losses) == 1000 and losses[-1] < losses[0] and np.isfinite(losses).all()  # it really trained
    assert grown < 20_000, f"memory allocated by tinygrad_cnn grew by {grown} bytes over the last 300 steps"
    assert grown_total < 1_000_000, f"traced memory grew by {grown_total} bytes over the last 300 steps"
    assert extra_blocks < 2_000, f"{extra_blocks} more memory blocks live after 800 more steps"


def test_truncated_training_checkpoint_names_the_file(tmp_path: Any) -> None:
    from tinygrad_cnn.training import load_checkpoint
    from tinygrad_cnn.training.checkpoint import save_checkpoint

    path = tmp_path / "last.npz"
    save_checkpoint({"model": small_cnn().state_dict(), "epoch": 1}, str(path))
    assert load_checkpoint(str(path))["epoch"] == 1
    data = path.read_bytes()
    for cut in (len(data) // 3, len(data) - 10, 30):
        path.write_bytes(data[:cut])
        with pytest.raises(RuntimeError) as e:
            load_checkpoint(str(path))
        assert str(path) in str(e.value) and "truncated or corrupt" in str(e.value)
