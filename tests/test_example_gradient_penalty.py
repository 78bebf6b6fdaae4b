"""examples/gradient_penalty.py (WGAN-GP) runs on small data, and its penalty reaches every critic weight through a
second derivative."""
import importlib.util
from pathlib import Path

import numpy as np

import tinygrad_cnn as tg

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gradient_penalty.py"


def _load():
    spec = importlib.util.spec_from_file_location("gradient_penalty_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gradient_penalty_example_runs(capsys):
    mod = _load()
    w, gp = mod.main(["--synthetic", "--steps", "2", "--n-critic", "2", "--limit", "64", "--batch-size", "16"])
    assert np.isfinite(w) and np.isfinite(gp) and gp >= 0
    assert "penalty" in capsys.readouterr().out


def test_the_penalty_has_a_gradient_for_every_critic_weight():
    """d critic / d x depends on every weight; the biases reach it only through LeakyReLU's piecewise-constant
    slope, so (as in torch) the penalty gives them no gradient."""
    mod = _load()
    tg.manual_seed(0)
    critic = mod.Critic()
    real, fake = tg.randn(4, 1, 28, 28), tg.randn(4, 1, 28, 28)
    gp, _ = mod.gradient_penalty(critic, real, fake)
    gp.backward()
    for name, p in critic.named_parameters():
        if name.endswith("weight"):
            assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, name
        else:
            assert p.grad is None, name
