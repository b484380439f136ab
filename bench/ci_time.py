"""How long CI takes, each figure also as a ratio to the floor (kernels and imports).

Measured in one run, several times each, in rounds (floor, nbval, book build,
make test, then again), so that a slow spell of the machine reaches every
measure alike; the median of each is reported:

- floor:      for each notebook nbval runs (the chapters and the rules page), one
              after another, start a kernel and import torch and matplotlib (what
              nbval must pay before the first cell);
- nbval:      `make nbval`, the notebooks as `make test` runs them;
- book build: `jupyter-book build` with the previous build in place (warm);
- make test:  the whole test command, warm (lint, book, every test); with --clean,
              after `make clean` (not timed), as issue 26 measures it: the book
              built from nothing, the venv in place;
- make test-slow: with --slow, the zip's notebooks in a fresh venv (a real install).

Before and after in one session: --worktree PATH (repeatable) measures another
checkout of the course too, in the same rounds, with this environment's venv;
--revision REV makes that checkout itself (`git worktree add --detach` in a
temporary folder, its .venv and tests/node_modules linked to this checkout's, removed
at the end). Every tree gets its own rows; the floor is the environment's, measured once.

Usage: .venv/bin/python bench/ci_time.py [--runs N] [--skip-make-test] [--clean] [--slow]
                                        [--worktree PATH]... [--revision REV]...
e.g.   .venv/bin/python bench/ci_time.py --runs 3 --clean --revision main
Run it from the repository root after `make test` has passed once.
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGETS = {"nbval": ("ratio", 1.5), "book build": ("seconds", 15), "make test": ("seconds", 265)}
MAKE_TEST_RUNS = 3  # the slowest measure: at most three runs of it


def notebooks(tree):
    """The notebooks `make nbval` runs in ``tree``: the chapters and the rules page."""
    return [*sorted((tree / "chapters").glob("*.ipynb")), tree / "rules.ipynb"]


def floor_once(count):
    """Start a kernel and import torch and matplotlib, ``count`` times, in turn."""
    start = time.perf_counter()
    for _ in range(count):
        manager, client = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
        try:
            reply = client.execute_interactive(
                "import torch\nimport matplotlib.pyplot", timeout=120
            )
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    return time.perf_counter() - start


def command_once(tree, *command, before=None):
    """Seconds ``command`` takes in ``tree``, after ``before`` (not timed), if given."""
    if before:
        subprocess.run(before, cwd=tree, check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(command, cwd=tree, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


@contextlib.contextmanager
def revision_tree(revision):
    """A checkout of ``revision`` in a temporary folder, sharing this checkout's venv and
    vnu, with its requirements older than the venv so that make installs nothing."""
    folder = Path(tempfile.mkdtemp(prefix="ci-time-")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), revision],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        (folder / ".venv").symlink_to((ROOT / ".venv").resolve())
        (folder / "tests" / "node_modules").symlink_to((ROOT / "tests" / "node_modules").resolve())
        installed = (ROOT / ".venv" / ".installed").stat().st_mtime
        for name in ("requirements.txt", "tests/package-lock.json"):
            os.utime(folder / name, (installed - 60, installed - 60))
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--skip-make-test", action="store_true", help="skip the slowest one")
    parser.add_argument(
        "--clean", action="store_true", help="`make clean` before each `make test` (not timed)"
    )
    parser.add_argument("--slow", action="store_true", help="also time `make test-slow`")
    parser.add_argument(
        "--worktree", type=Path, action="append", default=[], help="also measure this checkout"
    )
    parser.add_argument(
        "--revision", action="append", default=[], help="also measure this git revision"
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        trees = {"this checkout": ROOT}
        trees.update({str(path): path.resolve() for path in args.worktree})
        for revision in args.revision:
            trees[revision] = stack.enter_context(revision_tree(revision))
        measure(trees, args)


def measure(trees, args):
    measures = {("", "floor"): lambda: floor_once(len(notebooks(ROOT)))}
    for label, tree in trees.items():
        measures[(label, "nbval")] = lambda tree=tree: command_once(tree, "make", "nbval")
        measures[(label, "book build")] = lambda tree=tree: command_once(
            tree, BIN / "jupyter-book", "build", ".", "-W", "-n", "--keep-going"
        )
        if not args.skip_make_test:
            clean = ["make", "clean"] if args.clean else None
            measures[(label, "make test")] = lambda tree=tree, clean=clean: command_once(
                tree, "make", "test", before=clean
            )
        if args.slow and "test-slow:" in (tree / "Makefile").read_text():
            measures[(label, "make test-slow")] = lambda tree=tree: command_once(
                tree, "make", "test-slow"
            )
    runs = {key: [] for key in measures}
    for round_ in range(args.runs):
        for key, measure_once in measures.items():
            if not key[1].startswith("make test") or round_ < MAKE_TEST_RUNS:
                runs[key].append(measure_once())
    medians = {}
    for (label, name), seconds in runs.items():
        medians[(label, name)] = statistics.median(seconds)
        where = f" ({label})" if len(trees) > 1 and label else ""
        print(f"  {name}{where}: " + ", ".join(f"{t:.1f}" for t in seconds), file=sys.stderr)

    floor = medians[("", "floor")]
    print(f"{'tree':<16} {'measure':<15} {'median s':>9} {'x floor':>8}  target")
    for (label, name), seconds in medians.items():
        row = f"{label or '(environment)':<16} {name:<15} {seconds:>9.1f} {seconds / floor:>8.2f}"
        if name in TARGETS:
            kind, limit = TARGETS[name]
            if kind == "ratio":
                target, met = f"<= {limit}x floor", seconds / floor <= limit
            else:
                target, met = f"< {limit} s", seconds < limit
            row += f"  {target}: {'met' if met else 'MISSED'}"
        print(row)


if __name__ == "__main__":
    main()
