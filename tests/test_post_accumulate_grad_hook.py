"""Tensor.register_post_accumulate_grad_hook as torch >= 2.1: hook(param) after .grad was accumulated, once per
backward, not by autograd.grad; errors and handle.remove() as torch. DistributedDataParallel relies on it."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _record(m):
    """Two backwards through a leaf used twice; the hook sees .grad after each complete accumulation."""
    p = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
    seen = []
    handle = p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.detach().numpy().copy()))
    ((p * 2).sum() + (p * p).sum()).backward()
    (p * 3).sum().backward()
    m.autograd.grad((p * 5).sum(), p)  # accumulates nothing, so no hook call
    handle.remove()
    (p * 7).sum().backward()
    return seen, p.grad.detach().numpy()


def test_hook_sees_accumulated_grad_like_torch():
    ours, theirs = _record(tg), _record(torch)
    assert len(ours[0]) == len(theirs[0]) == 2
    for a, b in zip(ours[0] + [ours[1]], theirs[0] + [theirs[1]]):
        np.testing.assert_array_equal(a, b)


def test_hook_runs_after_tensor_hooks_and_may_edit_grad():
    for m in (tg, torch):
        p = m.ones(3, requires_grad=True)
        order = []
        p.register_post_accumulate_grad_hook(lambda t: (order.append("post"), t.grad.mul_(10)) and None)
        p.register_hook(lambda g: order.append("pre"))
        (p * 2).sum().backward()
        assert order == ["pre", "post"], m.__name__
        np.testing.assert_array_equal(p.grad.numpy(), [20.0, 20.0, 20.0])


@pytest.mark.parametrize("case", ["non_leaf", "no_grad", "returns_value"])
def test_errors_match_torch(case):
    msgs = []
    for m in (tg, torch):
        p = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            if case == "non_leaf":
                (p * 2).register_post_accumulate_grad_hook(lambda t: None)
            elif case == "no_grad":
                m.ones(3).register_post_accumulate_grad_hook(lambda t: None)
            else:
                p.register_post_accumulate_grad_hook(lambda t: t.grad * 5)
                (p * 2).sum().backward()
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_backward_with_inputs_runs_the_hooks_of_those_inputs_only():
    counts = []
    for m in (tg, torch):
        p, q = m.ones(3, requires_grad=True), m.ones(3, requires_grad=True)
        seen = {"p": 0, "q": 0}
        p.register_post_accumulate_grad_hook(lambda t: seen.__setitem__("p", seen["p"] + 1))
        q.register_post_accumulate_grad_hook(lambda t: seen.__setitem__("q", seen["q"] + 1))
        (p * q).sum().backward(inputs=[p])
        counts.append(seen)
    assert counts[0] == counts[1] == {"p": 1, "q": 0}
