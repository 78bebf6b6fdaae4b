"""nn.SyncBatchNorm without a process group (it is BatchNorm, as torch's on one process) and
convert_sync_batchnorm vs torch: structure, repr, shared parameters and buffers, outputs and running statistics.
The cross-rank statistics are checked on real ranks in test_distributed.py (ddp_equivalence)."""
import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def nets(m):
    return m.nn.Sequential(m.nn.Conv2d(1, 3, 3), m.nn.BatchNorm2d(3), m.nn.ReLU(), m.nn.Flatten(),
                           m.nn.Sequential(m.nn.Linear(12, 4), m.nn.BatchNorm1d(4)))


def test_convert_matches_torch_and_shares_state():
    ours, theirs = nets(tg), nets(torch)
    tg.load_torch_state_dict(ours, theirs.state_dict())
    weight = ours[1].weight
    conv_ours = tg.nn.SyncBatchNorm.convert_sync_batchnorm(ours)
    conv_theirs = torch.nn.SyncBatchNorm.convert_sync_batchnorm(theirs)
    assert conv_ours is ours and repr(conv_ours) == repr(conv_theirs)
    assert conv_ours[1].weight is weight and type(conv_ours[4][1]).__name__ == "SyncBatchNorm"
    assert list(conv_ours.state_dict()) == list(conv_theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 1, 4, 4)).astype(np.float32)
    for _ in range(2):                                   # training: batch statistics, running stats updated
        a, b = conv_ours(tg.tensor(x)), conv_theirs(torch.tensor(x))
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    for key, value in conv_theirs.state_dict().items():
        np.testing.assert_allclose(conv_ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6)
    conv_ours.eval(), conv_theirs.eval()
    np.testing.assert_allclose(conv_ours(tg.tensor(x)).detach().numpy(),
                               conv_theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_input_checks_as_torch():
    for m in (tg, torch):
        with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
            m.nn.SyncBatchNorm(3)(m.randn(3))
