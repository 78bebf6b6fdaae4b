"""tinygrad_cnn keeps freed array memory for reuse (tinygrad_cnn/_malloc.py): a step's arrays are not faulted in
again every step. Checked in fresh processes by counting minor page faults of a training-like allocation pattern."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")

# six 3 MiB arrays alive at once, written, freed, ten times (below numpy's 4 MiB huge-page size, so each 4 KiB
# page that is returned to the OS costs one fault when written again)
_CHILD = """
import json, resource, sys
import numpy as np
import tinygrad_cnn
from tinygrad_cnn import _malloc
def rounds(n):
    for _ in range(n):
        arrays = [np.ones(3 * 2 ** 18, np.float32) for _ in range(6)]
        del arrays
rounds(2)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(10)
print(json.dumps({"faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _faults(**env: str) -> int:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _CHILD], env={**clean, **env}, capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return json.loads(out.stdout.strip().splitlines()[-1])["faults"]


def test_freed_arrays_are_reused_without_page_faults() -> None:
    from tinygrad_cnn import _malloc

    if not _malloc.keep_freed_memory():  # idempotent: the import already did it
        pytest.skip("not glibc")
    assert _faults() < 500  # 10 rounds x 6 x 768 pages would fault 46 080 times if the memory went back


def test_opt_out_restores_glibc_default() -> None:
    # the same pattern with glibc's defaults does return the memory (this is what the setting avoids)
    assert _faults(TINYGRAD_CNN_MALLOC="default") > 10_000


def test_user_malloc_settings_win() -> None:
    assert _faults(MALLOC_TRIM_THRESHOLD_="0") > 10_000  # the user's choice (trim everything) is kept
