import os

from hypothesis import HealthCheck, settings

# Bounded example counts keep the suite fast; `--hypothesis-profile=thorough` for a deeper run.
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
