"""The one global random generator, seeded by `manual_seed` (torch.manual_seed semantics: reproducible runs)."""
from __future__ import annotations

import numpy as np

_state = {"rng": np.random.default_rng(0), "seed": 0}


def manual_seed(seed: int) -> "Generator":
    """Seed the global generator; every random creator, init, dropout and shuffle draws from it."""
    seed = int(seed)
    _state["rng"] = np.random.default_rng(seed)
    _state["seed"] = seed
    return Generator(_state["rng"], seed)


def seed() -> int:
    """Seed the global generator from OS entropy and return the seed used."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed() -> int:
    return int(_state["seed"])


def default_rng() -> np.random.Generator:
    """The global numpy Generator (internal: ops that sample take it from here)."""
    return _state["rng"]


def get_rng_state() -> dict:
    """A copy of the global generator's state (for checkpoints)."""
    return _state["rng"].bit_generator.state


def set_rng_state(state: dict) -> None:
    _state["rng"].bit_generator.state = state


class Generator:
    """A local random generator, as `torch.Generator`: pass it as `generator=` to DataLoader, random_split, ..."""

    def __init__(self, rng: np.random.Generator | None = None, seed: int = 0) -> None:
        self._seed = seed
        self.rng = rng if rng is not None else np.random.default_rng(seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def rng_of(generator: Generator | None) -> np.random.Generator:
    """The numpy Generator to draw from: the given one or the global one."""
    return generator.rng if generator is not None else _state["rng"]
