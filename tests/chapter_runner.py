"""Run a chapter's code cells in this process, top to bottom, as a kernel would.

The tests that need a chapter's namespace (its exercises, its hand derivations)
or its failures (the mutation test) share this. nbval runs the same cells in a
real kernel.
"""

import contextlib
import io
import json
import linecache
import os
from pathlib import Path

import matplotlib
from matplotlib import pyplot as plt

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"


def chapter_cells(chapter, folder=CHAPTERS):
    """The sources of the code cells of <folder>/<chapter>.ipynb (chapters/ by default), in
    order."""
    notebook = json.loads((folder / f"{chapter}.ipynb").read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def run_cells(cells, chapter, namespace=None, folder=CHAPTERS):
    """Run the cells in ``namespace`` (a fresh one by default), from ``folder``
    (chapters/ by default; the notebook's own folder, as a kernel would).

    Returns the exception that stopped them and the cell's number, or None.
    Each cell's source is registered with linecache, as IPython does, so that
    tracebacks and ``inspect`` see it.
    """
    matplotlib.use("Agg")
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for number, cell in enumerate(cells, start=1):
                filename = f"<{chapter} cell {number}>"
                linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
                try:
                    exec(compile(cell, filename, "exec"), namespace)
                except Exception as error:  # noqa: BLE001 (the outcome is reported)
                    return error, number
    finally:
        plt.close("all")
        os.chdir(cwd)
    return None
