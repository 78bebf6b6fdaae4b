"""nn.utils.parameters_to_vector / vector_to_parameters against torch."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Conv2d(1, 2, 2, bias=False)).double()


def test_parameters_to_vector_matches_torch_with_grads():
    ours, theirs = _model(tg), _model(torch)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    vo = tg.nn.utils.parameters_to_vector(ours.parameters())
    vt = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vo.detach().numpy(), vt.detach().numpy())
    g = np.random.default_rng(0).standard_normal(vt.shape)
    (vo * tg.tensor(g)).sum().backward()
    (vt * torch.tensor(g)).sum().backward()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_vector_to_parameters_matches_torch_and_shares_memory():
    ours, theirs = _model(tg), _model(torch)
    n = sum(p.numel() for p in theirs.parameters())
    v = np.arange(n, dtype=np.float64) / 7
    vo, vt = tg.tensor(v), torch.tensor(v)
    tg.nn.utils.vector_to_parameters(vo, ours.parameters())
    torch.nn.utils.vector_to_parameters(vt, theirs.parameters())
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape), k
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    vo.mul_(2), vt.mul_(2)  # the parameters are views of the vector in both
    np.testing.assert_array_equal(next(ours.parameters()).detach().numpy(), next(theirs.parameters()).detach().numpy())
    assert all(p.is_leaf and p.requires_grad for p in ours.parameters())


def test_errors_match_torch():
    for lib in (tg, torch):
        with pytest.raises(TypeError, match="expected torch.Tensor, but got"):
            lib.nn.utils.vector_to_parameters([1.0], _model(lib).parameters())
        with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
            lib.nn.utils.parameters_to_vector([])
