"""A torch script using the APIs of issue 12 (cudnn switch, drop-connect, unfold/fold, torch.linalg, fmod/atan2,
rounding division, 1-D pools, median, take, size=) runs unchanged with tinygrad_cnn as `torch`, with torch's
numbers (float64), through tests/test_torch_scripts.py's runner."""
import pytest

from test_torch_scripts import assert_close, run

pytest.importorskip("torch")

SCRIPT = '''
import torch
import torch.nn.functional as F
import torch.backends.cudnn as cudnn

cudnn.benchmark = True
cudnn.deterministic = True
x = (torch.arange(2 * 3 * 6 * 6, dtype=torch.float64).reshape(2, 3, 6, 6) / 50).requires_grad_()
patches = F.unfold(x, kernel_size=3, padding=1)
back = F.fold(patches, (6, 6), kernel_size=3, padding=1)
keep = 0.8
dropped = x / keep * torch.empty(2, 1, 1, 1, dtype=x.dtype).bernoulli_(1.0)   # EfficientNet's drop-connect
norms = torch.linalg.norm(x.flatten(1), dim=1) + torch.linalg.vector_norm(x - x, dim=(1, 2, 3))
A = x[0, 0] + 6 * torch.eye(6, dtype=x.dtype)
inv = torch.linalg.inv(A)
sol = torch.linalg.solve(A, x[0, 1])
logdet = torch.linalg.slogdet(A).logabsdet + torch.linalg.det(A).log()
eig = torch.linalg.eigvalsh(A @ A.mT)
sv = torch.linalg.svdvals(A)
mods = torch.fmod(x, 0.7) + torch.remainder(-x, 0.3) + torch.atan2(x, x + 1) + x.add(x, alpha=2)
q = torch.div(torch.arange(10) - 4, 3, rounding_mode="floor") + torch.arange(10) // 4
pooled = F.max_pool1d(x.flatten(2), 4) + F.avg_pool1d(x.flatten(2), 4)
med = x.median(dim=-1).values
ones = torch.ones(size=(2, 3)).sum() + torch.zeros(size=[4]).sum()
taken = torch.arange(12.0).take(torch.tensor([0, -1])) + torch.arange(12.0).reshape(3, 4).select(1, -1)[:2]
loss = (back.sum() + dropped.sum() + norms.sum() + inv.sum() + sol.sum() + logdet + eig.sum() + sv.sum()
        + mods.sum() + pooled.sum() + med.sum()) / 100
loss.backward()
grad = x.grad
'''


def test_issue12_script_matches_torch(monkeypatch):
    import torch

    import tinygrad_cnn as tg

    for cudnn in (tg.backends.cudnn, torch.backends.cudnn):  # the script's settings are undone after the test
        monkeypatch.setattr(cudnn, "benchmark", cudnn.benchmark)
        monkeypatch.setattr(cudnn, "deterministic", cudnn.deterministic)
    theirs, ours = run(SCRIPT, monkeypatch, "issue12")
    for name in ("patches", "back", "dropped", "norms", "inv", "sol", "logdet", "eig", "sv", "mods", "q", "pooled",
                 "med", "ones", "taken", "loss", "grad"):
        assert_close(ours[name], theirs[name], rtol=1e-9, atol=1e-9, where=name)
    assert ours["cudnn"].benchmark is True
