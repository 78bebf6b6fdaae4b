"""The documentation site (mkdocs.yml, `make docs`): it builds with --strict (no broken link, no missing API
reference), every public name of the API modules has an entry, and headless chromium finds the pages working:
home, an API page, a tutorial whose graph SVG shows (not a broken image) and whose formulas are typeset without
network, the search box finding "conv2d".

The site is built from the notebooks tests/notebook_run.py already executed (TINYGRAD_CNN_NOTEBOOKS), with
mkdocs-jupyter's execution off, so the tutorials are not run twice. Skips without the `docs` extra; the browser
test also skips without chromium and chromedriver (`.ci/run` installs them).
"""
import functools
import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading

import pytest

from notebook_run import NOTEBOOKS, ROOT, executed
from headless_chromium import CHROMIUM, DRIVER, chromium
from viz_dot import have_dot

for _module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter", "nbclient", "ipykernel"):
    pytest.importorskip(_module)
pytestmark = pytest.mark.skipif(not have_dot(), reason="the tutorials draw graphs: needs graphviz's dot")


def _hook():
    spec = importlib.util.spec_from_file_location("tg_docs_hook", ROOT / "docs" / "hooks" / "site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    notebooks, _ = executed()
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, TINYGRAD_CNN_NOTEBOOKS=str(notebooks), TINYGRAD_CNN_DOCS_EXECUTE="false",
               NO_MKDOCS_2_WARNING="1")
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        problems = [line for line in build.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
        pytest.fail("mkdocs build --strict failed:\n" + "\n".join(problems or build.stderr.splitlines()[-30:]),
                    pytrace=False)
    return out


def test_site_has_the_pages(site):
    for page in ["index.html", "tensor.html", "gradcheck.html", "visualisation.html", "api/tg.html",
                 "api/tg.nn.functional.html", "search/search_index.json"]:
        assert (site / page).is_file(), page
    for nb in NOTEBOOKS:
        page = site / "tutorials" / f"{nb.stem}.html"
        assert page.is_file(), page
        assert "jp-OutputArea-output" in page.read_text(encoding="utf-8"), f"{page.name}: rendered without outputs"


def test_api_reference_has_every_public_name(site):
    hook = _hook()
    missing = {}
    for module, _title in hook.API_MODULES:
        if module not in hook.ALWAYS and not hook._exists(module):
            continue
        page = site / "api" / f"{module.replace('tinygrad_cnn', 'tg')}.html"
        ids = set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))
        names = hook._public_names(module) or []
        gone = [n for n in names if f"{module}.{n}" not in ids and hook._shadowed(module, n) not in ids]
        if gone:
            missing[module] = gone
    assert not missing, f"public names without an API entry: {missing}"
    assert len(hook._public_names("tinygrad_cnn")) > 100  # the check above covered the real namespace


def test_nav_lists_tutorials_after_home_and_every_docs_page(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    nav = home[home.index('class="md-nav md-nav--primary"'):]
    assert nav.index("tutorials/01_the_tape.html") < nav.index("tensor.html") < nav.index("api/tg.html")
    for page in (ROOT / "docs").glob("*.md"):
        assert f'href="{page.stem}.html"' in nav or page.stem == "index", f"{page.name} is not in the nav"


@pytest.fixture(scope="module")
def served(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("needs chromium and chromedriver")
    pytest.importorskip("selenium.webdriver")
    yield from chromium("1280,900", 30)


def test_pages_in_a_browser(served, browser):
    from selenium.webdriver.common.by import By

    browser.get(served + "index.html")
    assert browser.title.startswith("tinygrad_cnn")
    assert "define-by-run" in browser.find_element(By.TAG_NAME, "article").text

    browser.get(served + "api/tg.nn.functional.html")
    entry = browser.find_element(By.ID, "tinygrad_cnn.nn.functional.conv2d")
    browser.execute_script("arguments[0].scrollIntoView()", entry)
    assert entry.is_displayed() and "conv2d" in entry.text

    browser.get(served + "tutorials/01_the_tape.html")
    graphs = browser.execute_script(
        "return Array.from(document.querySelectorAll('article img'))"
        ".filter(i => i.src.startsWith('data:image/svg+xml'))"
        ".map(i => { i.scrollIntoView(); var r = i.getBoundingClientRect();"
        " return [i.complete, i.naturalWidth, i.naturalHeight, r.width, r.height]; })")
    assert len(graphs) >= 3, graphs
    for complete, nat_w, nat_h, w, h in graphs:  # a broken image has no natural size
        assert complete and nat_w > 50 and nat_h > 50 and w > 50 and h > 50, graphs
    stepper = browser.find_element(By.CSS_SELECTOR, "iframe.tg-backward-steps")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", stepper)
    browser.switch_to.frame(stepper)
    assert browser.find_element(By.ID, "counter").text.startswith("step 1 /")
    browser.find_element(By.ID, "next").click()
    assert browser.find_element(By.ID, "counter").text.startswith("step 2 /")
    browser.switch_to.default_content()


def test_tutorial_formulas_are_typeset_offline(served, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served + "tutorials/02_deriving_cnn_gradients.html")
    count = "return document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length"
    typeset = WebDriverWait(browser, 20).until(lambda d: d.execute_script(count))  # MathJax from the site itself
    assert typeset > 20


def test_search_finds_conv2d(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served + "index.html")
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    box.click()
    box.send_keys("conv2d")
    results = WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))
    titles = [r.text for r in results]
    assert any("conv2d" in t for t in titles), titles
