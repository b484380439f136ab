"""Where `make test`'s time goes: each test file's share of the work, and each worker's span.

Usage (from the repository root, after `make book`):
    .venv/bin/python bench/where_time_goes.py             # runs make test's pytest, then reports
    .venv/bin/python bench/where_time_goes.py --report    # reports the last run again

It runs the pytest command of `make test` (two workers, the same groups) with a small plugin
that records when each test's setup, call and teardown started and ended on its worker, then
prints each file's share of the summed time (the pages under nbval counted together), and
each worker's busy span. Shares hold on a busy machine; seconds only on a quiet one.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "_build" / "test-timeline"


def pytest_runtest_logreport(report):
    """The plugin's one hook, in each xdist worker: one line per phase of each test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        with open(RECORDS / f"{worker}.jsonl", "a", encoding="utf-8") as records:
            phase = [report.nodeid, report.when, report.start, report.stop]
            records.write(json.dumps(phase) + "\n")


def run():
    RECORDS.mkdir(parents=True, exist_ok=True)
    for old in RECORDS.glob("*.jsonl"):
        old.unlink()
    command = [sys.executable, "-m", "pytest", "-p", "where_time_goes", "-q"]
    command += ["-n", "2", "--dist", "loadgroup", "-m", "not slow", "chapters", "rules.ipynb"]
    command += ["tests"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def report():
    shares, tests, spans = collections.Counter(), collections.Counter(), {}
    for path in sorted(RECORDS.glob("*.jsonl")):
        phases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        spans[path.stem] = max(p[3] for p in phases) - min(p[2] for p in phases)
        for nodeid, when, start, stop in phases:
            module = nodeid.split("::")[0]
            if module.endswith(".ipynb"):
                module = "the pages under nbval"
            shares[module] += stop - start
            tests[module] += when == "call"
    if not shares:
        sys.exit(f"no records in {RECORDS}: run this script without --report first")
    total = sum(shares.values())
    print("| test file | tests | share of the work |\n| --- | ---: | ---: |")
    for module, seconds in shares.most_common():
        print(f"| {module} | {tests[module]} | {100 * seconds / total:.1f}% |")
    print()
    for worker, span in spans.items():
        print(f"{worker}: busy for {span:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="report the last run only")
    status = 0 if parser.parse_args().report else run()
    report()
    return status


if __name__ == "__main__":
    sys.exit(main())
