"""Executes the tutorial notebooks (examples/notebooks/*.ipynb) once per test session, on fresh kernels.

tests/test_notebooks.py checks the runs; tests/test_docs_site.py builds the site from the executed copies instead
of running every notebook a second time. Two kernels run at a time (the machine has two cores).
"""
from __future__ import annotations

import asyncio
import atexit
import functools
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "examples" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds: a hung cell fails its notebook instead of the whole suite


@dataclass
class Run:
    name: str
    notebook: object          # the executed nbformat notebook (outputs filled in as far as it got)
    error: Exception | None
    seconds: float


async def _execute(path: Path, workdir: Path, limit: asyncio.Semaphore) -> Run:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    async with limit:
        start = time.perf_counter()
        try:
            await client.async_execute()
            error = None
        except Exception as exc:  # noqa: BLE001 - reported by the notebook's own test, with the cell that failed
            error = exc
        return Run(path.name, nb, error, time.perf_counter() - start)


async def _execute_all(workdir: Path) -> list:
    limit = asyncio.Semaphore(2)
    return await asyncio.gather(*(_execute(p, workdir, limit) for p in NOTEBOOKS))


@functools.lru_cache(maxsize=None)
def executed() -> tuple[Path, dict]:
    """(folder holding the executed copies, {file name: Run}); the notebooks run on the first call only."""
    import nbformat

    out = Path(tempfile.mkdtemp(prefix="tg-notebooks-"))
    atexit.register(shutil.rmtree, out, True)  # the executed copies live as long as the test session
    workdir = out / "work"
    workdir.mkdir()
    runs = asyncio.run(_execute_all(workdir))
    for run in runs:
        nbformat.write(run.notebook, out / run.name)
    return out, {run.name: run for run in runs}
