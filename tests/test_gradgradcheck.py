"""gradgradcheck (second derivatives through the recorded backward) over every primitive.

Each test module may define GRADGRAD_CASES = [(name, fn, inputs[, kwargs]), ...] for its family of primitives;
this file runs the core table (the gradcheck table of test_gradcheck.py) and fails when some Primitive subclass in
tinygrad_cnn/ops has no gradgradcheck case in any module (the mirror of the gradcheck coverage test).
"""
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

import tinygrad_cnn.ops as ops_pkg
from tinygrad_cnn.autograd import gradgradcheck
from tinygrad_cnn.ops._primitive import Primitive

from test_gradcheck import CASES, _classes_in_graph

# the core table: second derivatives of every core primitive, with the same inputs as its gradcheck case
GRADGRAD_CASES = [c for c in CASES if c[0] != "cast"] + [
    ("cast", lambda a: a.float().double() * a.to(tg_float64()), CASES[[c[0] for c in CASES].index("cast")][2],
     {"eps": 1e-3, "atol": 1e-2}),
]


def tg_float64():
    import tinygrad_cnn as tg

    return tg.float64


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradgradcheck_every_core_primitive(case):
    name, fn, inputs, *kwargs = case
    assert gradgradcheck(fn, inputs, **(kwargs[0] if kwargs else {}))


def _all_primitives() -> set:
    found = set()
    for info in pkgutil.iter_modules(ops_pkg.__path__):
        mod = importlib.import_module(f"tinygrad_cnn.ops.{info.name}")
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, Primitive) and cls is not Primitive and cls.__module__ == mod.__name__:
                found.add(cls)
    return found


def _cases_from_every_test_module() -> list:
    """GRADGRAD_CASES of every tests/test_*.py that defines one (this module included)."""
    cases = list(GRADGRAD_CASES)
    here = Path(__file__)
    for path in sorted(here.parent.glob("test_*.py")):
        if path == here or "GRADGRAD_CASES" not in path.read_text():
            continue
        spec = importlib.util.spec_from_file_location(f"_gg_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        cases += list(getattr(mod, "GRADGRAD_CASES", []))
    return cases


def _reached(fn, inputs) -> set:
    """The primitives recorded by fn's forward and by its backward under create_graph."""
    import tinygrad_cnn as tg

    out = fn(*inputs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
    classes = _classes_in_graph(outs)
    diff = [x for x in inputs if isinstance(x, tg.Tensor) and x.requires_grad]
    grads = tg.autograd.grad(outs, diff, [tg.ones_like(o) for o in outs], create_graph=True, allow_unused=True)
    return classes | _classes_in_graph([g for g in grads if g is not None and g.requires_grad])


def test_every_primitive_has_a_gradgradcheck_case():
    covered = set()
    for name, fn, inputs, *_ in _cases_from_every_test_module():
        covered |= _reached(fn, inputs)
    missing = sorted(c.__name__ for c in _all_primitives() - covered)
    assert not missing, f"primitives without a gradgradcheck case (add one to a GRADGRAD_CASES table): {missing}"
