"""WGAN-GP on MNIST digits: a critic trained with a gradient penalty (Gulrajani et al., 2017), written as the PyTorch
script would be. The penalty needs the gradient of the critic with respect to its input *with a graph*
(`create_graph=True`), so that its own gradient with respect to the critic's weights can be taken: a second
derivative through convolution, pooling and LeakyReLU.

    python examples/gradient_penalty.py --steps 200          # MNIST from TINYGRAD_CNN_DATA (or a download)
    python examples/gradient_penalty.py --synthetic --steps 5  # procedurally drawn digits, no files needed

Prints, every few steps, the critic's Wasserstein estimate and the mean norm of the critic's input gradient, which
the penalty drives towards 1.
"""
import argparse

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
from tinygrad_cnn.datasets import MNIST, SyntheticDigits, transforms
from tinygrad_cnn.utils.data import DataLoader, Subset


class Critic(nn.Module):
    """(N, 1, 28, 28) -> (N,) scores; no BatchNorm (the penalty is per sample, as the paper asks)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.2),    # (N, 16, 14, 14)
            nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),   # (N, 32, 7, 7)
            nn.AvgPool2d(7), nn.Flatten(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


class Generator(nn.Module):
    """(N, z) noise -> (N, 1, 28, 28) images in [-1, 1]."""

    def __init__(self, z_dim=16):
        super().__init__()
        self.fc = nn.Linear(z_dim, 32 * 7 * 7)
        self.up = nn.Sequential(
            nn.ReLU(), nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),  # (N, 16, 14, 14)
            nn.ReLU(), nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1),   # (N, 1, 28, 28)
            nn.Tanh())

    def forward(self, z):
        return self.up(self.fc(z).view(-1, 32, 7, 7))


def gradient_penalty(critic, real, fake):
    """mean over the batch of (||d critic / d x_hat||_2 - 1)^2 at random interpolates x_hat."""
    alpha = tg.rand(real.shape[0], 1, 1, 1)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = tg.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # (N, 1, 28, 28), with a graph
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean(), norms.mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description="WGAN-GP critic and generator on MNIST digits")
    parser.add_argument("--steps", type=int, default=200, help="generator steps")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-critic", type=int, default=5, help="critic steps per generator step")
    parser.add_argument("--lambda-gp", type=float, default=10.0)
    parser.add_argument("--limit", type=int, default=2048, help="training images used")
    parser.add_argument("--synthetic", action="store_true", help="procedurally drawn digits instead of MNIST")
    parser.add_argument("--root", default=None, help="data root (default: TINYGRAD_CNN_DATA, then the cache)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tg.manual_seed(args.seed)
    to_pm1 = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    if args.synthetic:
        data = SyntheticDigits(n=args.limit, image_size=28, transform=to_pm1)
    else:
        data = MNIST(args.root, train=True, transform=to_pm1)
        data = Subset(data, range(min(args.limit, len(data))))
    loader = DataLoader(data, batch_size=args.batch_size, shuffle=True, drop_last=True)
    critic, gen = Critic(), Generator()
    opt_c = tg.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_g = tg.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.0, 0.9))
    batches = iter(loader)
    for step in range(1, args.steps + 1):
        for _ in range(args.n_critic):
            try:
                real, _ = next(batches)
            except StopIteration:
                batches = iter(loader)
                real, _ = next(batches)
            fake = gen(tg.randn(real.shape[0], 16)).detach()
            gp, mean_norm = gradient_penalty(critic, real, fake)
            wasserstein = critic(real).mean() - critic(fake).mean()
            loss_c = -wasserstein + args.lambda_gp * gp
            opt_c.zero_grad()
            loss_c.backward()  # through the penalty: a second derivative of the critic
            opt_c.step()
        loss_g = -critic(gen(tg.randn(args.batch_size, 16))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if step == 1 or step % 10 == 0 or step == args.steps:
            print(f"step {step:4d}  W-estimate {wasserstein.item():8.4f}  penalty {gp.item():7.4f}  "
                  f"mean |grad| {mean_norm:6.3f}  generator loss {loss_g.item():8.4f}")
    return wasserstein.item(), gp.item()


if __name__ == "__main__":
    main()
