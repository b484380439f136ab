"""Run a chapter's code cells in this process, top to bottom, as a kernel would.

The tests that need a chapter's namespace (its exercises, its hand derivations, its
figures) or its failures (the mutation test) share this. nbval runs the same cells in a
real kernel.

A notebook run unchanged is run once per test process (``run_notebook``) and shared by
every test that reads it: its namespace, the figures it made, what its cells showed.
tests/conftest.py keeps the tests that share a run (marked ``shares_notebook_runs``) on
one worker under xdist, so each notebook runs once per test session.
"""

import ast
import contextlib
import io
import json
import linecache
import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.figure
from matplotlib import pyplot as plt

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"


def chapter_cells(chapter, folder=CHAPTERS):
    """The sources of the code cells of <folder>/<chapter>.ipynb (chapters/ by default), in
    order."""
    notebook = json.loads((folder / f"{chapter}.ipynb").read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def run_cells(cells, chapter, namespace=None, folder=CHAPTERS, after_cell=None):
    """Run the cells in ``namespace`` (a fresh one by default), from ``folder``
    (chapters/ by default; the notebook's own folder, as a kernel would).

    Returns the exception that stopped them and the cell's number, or None.
    Each cell's source is registered with linecache, as IPython does, so that
    tracebacks and ``inspect`` see it. ``after_cell(index, cell, namespace)``, when given,
    is called after each cell that ran through (index counts the code cells from 0).
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
                if after_cell is not None:
                    after_cell(number - 1, cell, namespace)
    finally:
        plt.close("all")
        os.chdir(cwd)
    return None


@dataclass
class NotebookRun:
    """One unchanged run of a notebook's code cells (``run_cells``, all cells at once).

    ``outcome`` is what run_cells returned (None: every cell ran); ``namespace`` the
    variables at the end; ``figures`` every matplotlib figure made while it ran (the inline
    plots, the computation graphs, the animations' frames); ``shown`` one entry per code
    cell that ends in a bare name, as a notebook shows that object:
    (code cell index, the name, its value, a shallow copy of the namespace at that moment).
    """

    outcome: tuple | None
    namespace: dict
    figures: list
    shown: list


_runs = {}


def _bare_name(cell):
    try:
        body = ast.parse(cell).body
    except SyntaxError:
        return None
    if body and isinstance(body[-1], ast.Expr) and isinstance(body[-1].value, ast.Name):
        return body[-1].value.id
    return None


def run_notebook(path):
    """The NotebookRun of the notebook at ``path`` (a chapter's stem means
    chapters/<stem>.ipynb), run from its own folder the first time it is asked for in this
    process, then shared. Nothing that shares it may change what it holds."""
    path = CHAPTERS / f"{path}.ipynb" if isinstance(path, str) else Path(path)
    path = path.resolve()
    if path not in _runs:
        namespace, figures, shown = {"__name__": "__main__"}, [], []

        def after_cell(index, cell, namespace):
            name = _bare_name(cell)
            if name is not None and name in namespace:
                shown.append((index, name, namespace[name], dict(namespace)))

        make = matplotlib.figure.Figure.__init__

        def recording(self, *args, **kwargs):
            make(self, *args, **kwargs)
            figures.append(self)

        matplotlib.figure.Figure.__init__ = recording
        try:
            cells = chapter_cells(path.stem, path.parent)
            outcome = run_cells(cells, path.stem, namespace, path.parent, after_cell)
        finally:
            matplotlib.figure.Figure.__init__ = make
        _runs[path] = NotebookRun(outcome, namespace, figures, shown)
    return _runs[path]
