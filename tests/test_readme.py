"""The README's Python blocks must run as written, so the README cannot rot."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert python_blocks(), "README.md should contain at least one ```python block"


def test_readme_python_blocks_run():
    for i, code in enumerate(python_blocks()):
        exec(compile(code, f"README.md block {i}", "exec"), {"__name__": "__readme__"})
