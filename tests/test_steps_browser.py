"""The backward stepper in a real headless browser: Debian's chromium driven by selenium (no browser download).

Skips when chromium, chromedriver, selenium or graphviz's `dot` is missing (`.ci/run` installs them).
"""
import io

import numpy as np
import pytest

import tinygrad_cnn as tg
from headless_chromium import CHROMIUM, DRIVER, chromium
from viz_dot import have_dot

webdriver = pytest.importorskip("selenium.webdriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and have_dot()),
                                reason="needs chromium, chromedriver and graphviz's dot")


@pytest.fixture(scope="module")
def browser():
    yield from chromium("1200,800", 15)


def _current(driver):
    return driver.execute_script(
        "var g = document.querySelector('g.node.current'); return g ? g.querySelector('title').textContent : null")


def test_stepping_moves_the_highlight_and_the_page_renders(browser, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    tg.manual_seed(0)
    x = tg.randn(2, 3)
    w = tg.randn(3, 4, requires_grad=True)
    b = tg.zeros(4, requires_grad=True)
    loss = ((x @ w + b).tanh() ** 2).mean()
    path = tg.viz.backward_steps(loss, str(tmp_path / "steps.html"), params={"w": w, "b": b})
    browser.get("file://" + path)
    counter = browser.find_element(By.ID, "counter")
    assert counter.text == "step 1 / 7"
    visited = [_current(browser)]
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(4):
        body.send_keys(Keys.ARROW_RIGHT)
        visited.append(_current(browser))
    assert None not in visited and len(set(visited)) == 5  # a different node at every step
    assert counter.text == "step 5 / 7"
    done = browser.execute_script("return document.querySelectorAll('g.node.done').length")
    assert done == 4
    browser.find_element(By.ID, "prev").click()
    assert _current(browser) == visited[3] and counter.text == "step 4 / 7"
    browser.find_element(By.ID, "last").click()
    assert "gradient accumulated into .grad" in browser.find_element(By.ID, "info").text
    png = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("L")
    pixels = np.asarray(png, dtype=np.float64)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.005  # drawn, not blank


def test_flowing_edges_are_highlighted(browser, tmp_path):
    a = tg.randn(3, requires_grad=True)
    c = tg.randn(3, requires_grad=True)
    loss = (a * c).sum()
    path = tg.viz.backward_steps(loss, str(tmp_path / "e.html"))
    browser.get("file://" + path)
    browser.find_element("id", "next").click()  # step 2: MulBackward0 sends gradients to both leaves
    flows = browser.execute_script("return document.querySelectorAll('g.edge.flow').length")
    targets = browser.execute_script("return document.querySelectorAll('g.node.target').length")
    assert flows == 2 and targets == 2
