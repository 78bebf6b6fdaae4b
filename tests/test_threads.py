"""tg.set_num_threads / tg.get_num_threads drive numpy's BLAS thread count (checked in a subprocess, so the
suite's own thread count is left alone), and reject what torch rejects."""
import subprocess
import sys

import pytest

import tinygrad_cnn as tg

_SCRIPT = """
import tinygrad_cnn as tg
from tinygrad_cnn import threads
tg.set_num_threads(1)
a = tg.get_num_threads()
tg.set_num_threads(2)
b = tg.get_num_threads()
blas = threads._controls()
print(a, b, blas is not None and blas[1]())
"""


def test_set_get_round_trip_reaches_blas():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["1", "2"]
    if out[2] != "False":  # an OpenBLAS was found: its own counter says 2 too (not just our record)
        assert out[2] == "2"


@pytest.mark.parametrize("bad, msg", [(0, "positive integer"), (-3, "positive integer"), (2.5, "an int, but got float"),
                                      ("a", "an int, but got str")])
def test_rejects_like_torch(bad, msg):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=msg):
        tg.set_num_threads(bad)
    with pytest.raises(RuntimeError, match=msg):
        torch.set_num_threads(bad)


def test_get_is_positive_int():
    n = tg.get_num_threads()
    assert isinstance(n, int) and n >= 1
