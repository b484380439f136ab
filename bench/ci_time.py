"""How long CI takes, each figure also as a ratio to the floor (kernels and imports).

Measured in one run, several times each, in rounds (floor, nbval, book build,
make test, then again), so that a slow spell of the machine reaches every
measure alike; the median of each is reported:

- floor:      for each notebook nbval runs (the chapters and the rules page), one
              after another, start a kernel and import torch and matplotlib (what
              nbval must pay before the first cell);
- nbval:      `make nbval`, the notebooks as `make test` runs them;
- book build: `jupyter-book build` with the previous build in place (warm);
- make test:  the whole test command, warm (lint, book, every test).

Usage: .venv/bin/python bench/ci_time.py [--runs N] [--skip-make-test]
Run it from the repository root after `make test` has passed once.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The notebooks `make nbval` runs: the chapters and the rules page.
NOTEBOOKS = [*sorted((ROOT / "chapters").glob("*.ipynb")), ROOT / "rules.ipynb"]
TARGETS = {"nbval": ("ratio", 1.5), "book build": ("seconds", 15), "make test": ("seconds", 120)}


def floor_once():
    """Start a kernel and import torch and matplotlib, once per notebook, in turn."""
    start = time.perf_counter()
    for _ in NOTEBOOKS:
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


def command_once(*command):
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--skip-make-test", action="store_true", help="skip the slowest one")
    args = parser.parse_args()

    measures = {
        "floor": floor_once,
        "nbval": lambda: command_once("make", "nbval"),
        "book build": lambda: command_once(
            BIN / "jupyter-book", "build", ".", "-W", "-n", "--keep-going"
        ),
        "make test": lambda: command_once("make", "test"),
    }
    if args.skip_make_test:
        del measures["make test"]
    runs = {name: [] for name in measures}
    for round_ in range(args.runs):
        for name, measure in measures.items():
            if name != "make test" or round_ < 3:  # about 90 s each: three runs
                runs[name].append(measure())
    medians = {}
    for name, seconds in runs.items():
        medians[name] = statistics.median(seconds)
        print(f"  {name}: " + ", ".join(f"{t:.1f}" for t in seconds), file=sys.stderr)

    floor = medians["floor"]
    print(f"{'measure':<12} {'median s':>9} {'x floor':>8}  target")
    for name, seconds in medians.items():
        row = f"{name:<12} {seconds:>9.1f} {seconds / floor:>8.2f}"
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
