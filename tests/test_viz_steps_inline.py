"""`tg.viz.backward_steps(loss)` without a path: the stepper page in memory, inline in Jupyter."""
import html

import pytest

import tinygrad_cnn as tg
from viz_dot import have_dot

pytestmark = pytest.mark.skipif(not have_dot(), reason="needs graphviz's dot")


def test_inline_page_is_the_page_the_file_gets(tmp_path):
    def loss_and_leaf():
        tg.manual_seed(0)
        w = tg.randn(3, requires_grad=True)
        return (w * w).sum(), w

    loss, w = loss_and_leaf()
    page = tg.viz.backward_steps(loss, params={"w": w})
    assert isinstance(page, tg.viz.StepsPage)
    assert w.grad is not None  # the backward ran
    loss2, w2 = loss_and_leaf()
    path = tg.viz.backward_steps(loss2, str(tmp_path / "s.html"), params={"w": w2})
    assert open(path, encoding="utf-8").read() == page.html
    frame = page._repr_html_()
    assert frame.startswith("<iframe") and 'sandbox="allow-scripts"' in frame
    assert html.unescape(frame.split('srcdoc="', 1)[1].split('" sandbox', 1)[0]) == page.html
    assert page.save(str(tmp_path / "t.html")) == str(tmp_path / "t.html")
