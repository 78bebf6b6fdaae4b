import os
from typing import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Bounded example counts keep the suite fast, and derandomize makes every CI run draw the same examples (a red CI
# is then reproducible, never a lucky draw); HYPOTHESIS_PROFILE=thorough explores 300 fresh examples per test.
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """torch's default thread pool spins on a busy shared 2-core machine (tens of seconds for a small net): one
    thread for a module's tests (`pytestmark = pytest.mark.usefixtures("one_torch_thread")`), restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
