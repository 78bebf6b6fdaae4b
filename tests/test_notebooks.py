"""The tutorial notebooks (examples/notebooks/) run top to bottom on fresh kernels without an error, are stored
without outputs, and show their graphs inline (SVG) and the backward stepper (HTML) in the executed output."""
import base64

import pytest

from notebook_run import NOTEBOOKS, ROOT, executed
from viz_dot import have_dot

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytestmark = pytest.mark.skipif(not have_dot(), reason="the tutorials draw graphs: needs graphviz's dot")


def _outputs(nb, mime):
    return [o["data"][mime] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") in ("display_data", "execute_result") and mime in o.get("data", {})]


def _svg_graphs(nb):
    svgs = _outputs(nb, "image/svg+xml")
    return [s for s in svgs if "<svg" in s and 'class="node"' in s and 'class="edge"' in s]


def test_there_are_six_tutorials_or_more():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 6 and names[0].startswith("01_"), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    run = executed()[1][path.name]
    if run.error is not None:
        pytest.fail(f"{path.name} failed after {run.seconds:.1f} s:\n{run.error}", pytrace=False)
    code = [c for c in run.notebook.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)  # every cell ran


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs_and_has_a_title(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "first cell: a # title"


def test_the_tape_shows_graphs_and_the_stepper_inline():
    nb = executed()[1]["01_the_tape.ipynb"].notebook
    assert len(_svg_graphs(nb)) >= 3   # the expression, the 2-layer net, the module version with gradient colours
    frames = [h for h in _outputs(nb, "text/html") if h.startswith('<iframe class="tg-backward-steps"')]
    assert len(frames) == 2 and all("&lt;svg" in f and "steps" in f for f in frames)


@pytest.mark.parametrize("name", ["03_lenet5_mnist.ipynb", "05_proving_gradients.ipynb",
                                  "06_second_derivatives.ipynb"])
def test_network_tutorials_draw_their_graphs(name):
    nb = executed()[1][name].notebook
    graphs = _svg_graphs(nb)
    assert graphs, f"{name}: no graph drawn inline"
    if name.startswith("03"):
        pngs = _outputs(nb, "image/png")
        assert len(pngs) >= 6 and all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)  # the plots


def test_readme_links_every_tutorial():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if f"examples/notebooks/{p.name}" not in readme]
    assert not missing, f"README.md does not link {missing}"
