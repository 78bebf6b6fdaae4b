"""Regenerate the LeNet-5 pictures in docs/visualisation.md:  .venv/bin/python docs/images/make_viz_images.py

Needs graphviz's `dot`; the stepper screenshot also needs chromium + chromedriver + selenium (skipped otherwise).
"""
import os
import shutil
import tempfile

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class BadReLUFn(tg.autograd.Function):
    """A ReLU with a planted bug: backward scales the gradient by 1.1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0) * 1.1


class BadReLU(nn.Module):
    def forward(self, x):
        return BadReLUFn.apply(x)


class NaNGradFn(tg.autograd.Function):
    """Identity whose backward writes a NaN: a backward that produces a non-finite gradient."""

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        g = g.clone()
        g[0, 0, 0, 0] = float("nan")
        return g


class NaNGrad(nn.Module):
    def forward(self, x):
        return NaNGradFn.apply(x)


def lenet_loss(replace=None):
    tg.manual_seed(0)
    model = tg.models.annt_lenet5()
    if replace is not None:
        model[4] = replace
    x = tg.randn(1, 1, 32, 32)
    with tg.autograd.graph_recording():
        loss = F.nll_loss(model(x), tg.tensor([7]))
    return model, x, loss


def out(name):
    return os.path.join(HERE, name)


def main():
    model, x, loss = lenet_loss()
    names = {"image": x}
    full = tg.viz.draw_graph(loss, params=names)
    full.export(out("lenet5_graph.svg"))
    full.export(out("lenet5_graph.png"))
    tg.viz.draw_graph(loss, params=names, max_depth=1).export(out("lenet5_depth1.svg"))
    with tg.viz.record_gradients():
        loss.backward()
    grads = tg.viz.draw_graph(loss, params=names, show_grads=True)
    grads.export(out("lenet5_grads.svg"))
    grads.export(out("lenet5_grads.png"))

    model, x, loss = lenet_loss(NaNGrad())
    with tg.viz.record_gradients():
        loss.backward()
    tg.viz.draw_graph(loss, params={"image": x}, show_grads=True, max_depth=1).export(out("lenet5_nan_depth1.svg"))

    model, x, loss = lenet_loss(BadReLU())
    report = tg.autograd.check_graph(loss, params={"image": x})
    report.draw().export(out("lenet5_check.svg"))
    with open(out("lenet5_check.txt"), "w") as f:
        f.write(str(report) + "\n")

    model, x, loss = lenet_loss()
    page = tg.viz.backward_steps(loss, os.path.join(tempfile.mkdtemp(), "steps.html"), params={"image": x},
                                 title="LeNet-5: backward, step by step")
    screenshot(page, out("lenet5_steps.png"))


def screenshot(page, path, steps=2):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.keys import Keys
    except ImportError:
        chromium = None
    if not (chromium and driver):
        print("no chromium/chromedriver/selenium: stepper screenshot skipped")
        return
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900", f"--user-data-dir={tempfile.mkdtemp()}"]:
        opts.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        browser.get("file://" + page)
        body = browser.find_element("tag name", "body")
        for _ in range(steps):
            body.send_keys(Keys.ARROW_RIGHT)
        browser.save_screenshot(path)
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
