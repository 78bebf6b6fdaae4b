"""mkdocs hook for the documentation site (mkdocs.yml `hooks:`).

- The tutorials live in examples/notebooks/ (where learners open them); they are added to the site as
  tutorials/<name>.ipynb before mkdocs-jupyter converts them. $TINYGRAD_CNN_NOTEBOOKS points at another folder of
  the same notebooks (the test suite passes the copies it already executed, so the site test does not run them
  twice).
- The API reference is generated: one page per module of API_MODULES that exists, listing every public name the
  module has at run time (its __all__, else dir()) as an mkdocstrings member, so new names appear by themselves.
- The tutorials form the "Tutorials" section of nav, after Home, in file-name order (a new notebook appears
  without editing mkdocs.yml).
- A link from a docs page to a file of the repository outside docs/ (`[examples/x.py](../examples/x.py)`, right on
  GitHub) becomes the file's path in code quotes on the site, which has no such file; a link to a repository file
  that does not exist stays a link, so the strict build still reports it. A link to a tutorial notebook
  (`../examples/notebooks/01_the_tape.ipynb`) leads to its page on the site.
- MathJax for the tutorials' formulas is copied into the site (assets/mathjax), so they render offline.
- A page of docs/ that nav does not list (a page another change just added) is appended to nav under "More"
  instead of being reachable only by links.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.structure.nav import Section

ROOT = Path(__file__).resolve().parents[2]
# API reference: one page per public module, in nav order; a module not (yet) in the package gets no page
API_MODULES = [
    ("tinygrad_cnn", "tg"), ("tinygrad_cnn.nn", "tg.nn"), ("tinygrad_cnn.nn.functional", "tg.nn.functional"),
    ("tinygrad_cnn.nn.init", "tg.nn.init"), ("tinygrad_cnn.nn.utils", "tg.nn.utils"),
    ("tinygrad_cnn.optim", "tg.optim"), ("tinygrad_cnn.optim.lr_scheduler", "tg.optim.lr_scheduler"),
    ("tinygrad_cnn.autograd", "tg.autograd"), ("tinygrad_cnn.autograd.functional", "tg.autograd.functional"),
    ("tinygrad_cnn.viz", "tg.viz"), ("tinygrad_cnn.utils.data", "tg.utils.data"),
    ("tinygrad_cnn.datasets", "tg.datasets"), ("tinygrad_cnn.datasets.transforms", "tg.datasets.transforms"),
    ("tinygrad_cnn.models", "tg.models"), ("tinygrad_cnn.testing", "tinygrad_cnn.testing"),
    ("tinygrad_cnn.linalg", "tg.linalg"), ("tinygrad_cnn.distributed", "tg.distributed"),
    ("tinygrad_cnn.onnx", "tg.onnx"), ("tinygrad_cnn.nn.parallel", "tg.nn.parallel"),
    ("tinygrad_cnn.distributed.nn", "tg.distributed.nn"), ("tinygrad_cnn.safetensors", "tg.safetensors"),
    ("tinygrad_cnn.backends.cudnn", "tg.backends.cudnn"),
]
ALWAYS = {"tinygrad_cnn", "tinygrad_cnn.nn", "tinygrad_cnn.nn.functional", "tinygrad_cnn.optim",
          "tinygrad_cnn.autograd", "tinygrad_cnn.viz", "tinygrad_cnn.utils.data", "tinygrad_cnn.datasets"}


def notebook_dir() -> Path:
    return Path(os.environ.get("TINYGRAD_CNN_NOTEBOOKS") or ROOT / "examples" / "notebooks")


_staging: list = []


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def on_files(files, config):
    # mkdocs-jupyter needs a real file at src_dir/src_uri, so the notebooks are staged as <tmp>/tutorials/*.ipynb
    stage = Path(tempfile.mkdtemp(prefix="tg-docs-"))
    _staging.append(stage)
    (stage / "tutorials").mkdir()
    for nb in sorted(notebook_dir().glob("*.ipynb")):
        uri = f"tutorials/{nb.name}"
        if files.get_file_from_path(uri) is None:
            shutil.copyfile(nb, stage / uri)
            files.append(File(uri, str(stage), config["site_dir"], config["use_directory_urls"]))
    _add_api_pages(files, config)
    return files


def _is_api(obj: object) -> bool:
    # a star import without __all__ also brings `Any` and `annotations`; those are not tinygrad_cnn's names
    return not inspect.ismodule(obj) and getattr(obj, "__module__", None) not in ("typing", "__future__")


def _public_names(module_name: str) -> list | None:
    """The module's public names at run time (its __all__, else dir()), submodules left out; None if it does
    not import (an optional extra missing): mkdocstrings then lists what it finds in the source."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return sorted(n for n in names if _is_api(getattr(module, n, None)))


def _shadowed(module_name: str, name: str) -> str | None:
    """`tg.autograd.gradcheck` is a function, but mkdocstrings (reading the source) takes the name for the
    submodule gradcheck.py: such a name is rendered from the place it is defined. Returns that path or None."""
    if not _exists(f"{module_name}.{name}"):
        return None
    obj = getattr(importlib.import_module(module_name), name)
    where, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{where}.{qual}" if where and qual else None


def api_page(module_name: str, title: str) -> str:
    """Markdown for one API page: mkdocstrings renders the module with every public name as a member."""
    lines = [f"# {title}", "", f"::: {module_name}"]
    names = _public_names(module_name)
    if names is None:
        return "\n".join(lines) + "\n"
    shadowed = {n: _shadowed(module_name, n) for n in names}
    lines += ["    options:", "      members:"] + [f"        - {n}" for n in names if not shadowed[n]]
    for n, path in shadowed.items():
        if path:
            lines += ["", f"::: {path}", "    options:", "      show_root_full_path: false", "      heading_level: 3"]
    return "\n".join(lines) + "\n"


def _exists(module_name: str) -> bool:
    try:
        spec = importlib.util.find_spec(module_name)
    except ImportError:
        return False
    return spec is not None and spec.origin not in (None, "namespace")  # not a half-made folder


def _add_api_pages(files, config) -> None:
    for module_name, title in API_MODULES:
        if module_name not in ALWAYS and not _exists(module_name):
            continue  # a module another change has not landed yet
        uri = f"api/{module_name.replace('tinygrad_cnn', 'tg')}.md"
        files.append(File.generated(config, uri, content=api_page(module_name, title)))


def on_post_build(config):
    while _staging:
        shutil.rmtree(_staging.pop(), ignore_errors=True)
    _copy_mathjax(Path(config["site_dir"]) / "assets" / "mathjax")


def _copy_mathjax(dest: Path) -> None:
    """MathJax 2 for the tutorials' formulas, from the jupyter-server-mathjax package (the `docs` extra)."""
    try:
        import jupyter_server_mathjax
    except ImportError as err:
        raise ImportError("the docs site needs jupyter-server-mathjax for the tutorials' formulas: "
                          "pip install -e '.[docs]'") from err
    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("localization"))


_REPO_LINK = re.compile(r"\[([^\]]+)\]\((\.\./[^)\s#]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown, page, config, files):
    src = page.file.abs_src_path
    docs = Path(config["docs_dir"]).resolve()
    if not src or docs not in Path(src).resolve().parents:
        return markdown
    base = Path(src).resolve().parent

    def to_path(m: re.Match) -> str:
        target = (base / m.group(2)).resolve()
        if target.suffix == ".ipynb" and target.parent == (ROOT / "examples" / "notebooks").resolve() \
                and target.is_file():  # a tutorial: its page on the site
            depth = len(Path(page.file.src_uri).parts) - 1
            return f"[{m.group(1)}]({'../' * depth}tutorials/{target.name}{m.group(3) or ''})"
        if docs in target.parents or ROOT not in target.parents or not target.is_file():
            return m.group(0)
        rel = target.relative_to(ROOT).as_posix()
        text = m.group(1).strip("`")
        return f"`{rel}`" if text == rel else f"{m.group(1)} (`{rel}`)"

    return _REPO_LINK.sub(to_path, markdown)


def _listed(items) -> set:
    seen, stack = set(), list(items)
    while stack:  # nav is a tree of sections; walk it without recursion
        item = stack.pop()
        if getattr(item, "children", None):
            stack.extend(item.children)
        elif getattr(item, "file", None) is not None:
            seen.add(item.file.src_uri)
    return seen


def _section(title: str, pages: list, keep_order: bool = False) -> Section:
    section = Section(title, pages if keep_order else sorted(pages, key=lambda p: p.file.src_uri))
    for page in section.children:
        page.parent = section
    return section


def on_nav(nav, config, files):
    listed = _listed(nav.items)
    unlisted = [f.page for f in files.documentation_pages() if f.src_uri not in listed and f.page is not None]
    tutorials = [p for p in unlisted if p.file.src_uri.startswith("tutorials/")]
    order = {f"api/{m.replace('tinygrad_cnn', 'tg')}.md": i for i, (m, _) in enumerate(API_MODULES)}
    api = sorted((p for p in unlisted if p.file.src_uri in order), key=lambda p: order[p.file.src_uri])
    extra = [p for p in unlisted if p not in tutorials and p not in api]
    if tutorials:
        nav.items.insert(1, _section("Tutorials", tutorials))
    if api:
        nav.items.append(_section("API reference", api, keep_order=True))
    if extra:
        nav.items.append(_section("More", extra))
    nav.pages[:] = _pages_in_order(nav.items)  # previous/next links follow nav
    return nav


def _pages_in_order(items) -> list:
    pages, stack = [], list(reversed(items))
    while stack:
        item = stack.pop()
        if getattr(item, "children", None):
            stack.extend(reversed(item.children))
        elif getattr(item, "file", None) is not None:
            pages.append(item)
    return pages
